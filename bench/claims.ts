// Benchmark: claims. Real relay and daemons on loopback, sessions registered over the daemon IPC.
// Prints numbers, never pass/fail.
//
//   npm run bench:claims [-- --quick]
//
// Sections: claim -> granted (settled) with 2 and 4 daemons; how long a claim stays pending with
// the owner's daemon stopped (4 daemons: the two other indexers settle it); the PreToolUse hook's
// wall time with 1,000 live claims, as Claude Code runs it through a shell: the command install
// writes (bash and the guard's script, on the daemon's guard port) against the Node hook
// (`claudemesh hook PreToolUse`, its fallback) as the baseline, and the daemon's own `claims.check`. Writes bench/results/claims.json (--quick: claims-quick.json).
import fs from 'node:fs'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { joinedHomes, tmpDir, runThroughShell, GUARD_HOOK_COMMAND, NODE_HOOK_COMMAND, type Member } from '../test/helpers/cli.js'
import { IpcClient } from '../peer/daemon/ipc-client.js'
import { homePaths } from '../peer/daemon/home.js'
import { writeBenchResults, latency, runBench, wallLine, type Latency, type Teardowns } from './common.js'

const quick = process.argv.includes('--quick')
const CLAIMS = quick ? 12 : 40
const PENDING_RUNS = quick ? 3 : 10
const LOAD = 1000
const HOOK_RUNS = quick ? 15 : 50

interface HookLatency { claimed: Latency, free: Latency }
interface HookPhase { guard: HookLatency, node: HookLatency, check: Latency, shell: Latency, late: { guard: number, node: number }, handedOver: number }
interface Results { granted: Record<string, Latency>, pendingOwnerOffline: Latency | null, pendingSettledWithin3s: number, hook: { busy: HookPhase, settled: HookPhase } | null }
const results: Results = { granted: {}, pendingOwnerOffline: null, pendingSettledWithin3s: 0, hook: null }

function checkout (t: Teardowns): string {
  const dir = tmpDir(t, 'cm-bench-repo-')
  fs.mkdirSync(path.join(dir, '.git'))
  fs.writeFileSync(path.join(dir, '.git', 'config'), '[remote "origin"]\n\turl = git@github.com:bench/app.git\n')
  return dir
}

async function session (t: Teardowns, m: Member, name: string, cwd: string, claudePid?: number): Promise<IpcClient> {
  const client = await IpcClient.connect(homePaths(m.home).socket)
  t.teardown(() => client.close(), { order: 5 })
  await client.request('session.register', { name, cwd, ...(claudePid !== undefined ? { claudePid } : {}) })
  return client
}

/** Claims until granted: the call's own wait (up to 3 s), then the list until it says granted. */
async function claimGranted (c: IpcClient, paths: string[], ttlMs = 30 * 60_000): Promise<{ ms: number, firstAnswer: string }> {
  const started = performance.now()
  const a = await c.request('claims.claim', { paths, ttlMs })
  if (a.status === 'denied') throw new Error(`denied: ${paths.join(', ')}`)
  while (a.status === 'pending') {
    const now = (await c.request('claims.list', { mine: true })).find((x) => x.id === a.claim.id)
    if (now?.status === 'granted') break
    if (performance.now() - started > 120_000) {
      const h = (await c.request('status')).meshes.map((m) => m.history)
      throw new Error(`still pending after 120 s; history here: ${JSON.stringify(h)}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return { ms: performance.now() - started, firstAnswer: a.status }
}

/** runs per command that passed because the daemon answered too late (counted, not failed: this is a measurement) */
const late = new Map<string, number>()
/** guard runs the script handed to the Node hook because the guard port did not answer */
let handedOver = 0

/** One run of a hook command as Claude Code runs it; checks it said what it should (ask, or nothing). */
async function hook (command: string, home: string, input: object, held: boolean): Promise<number> {
  const r = await runThroughShell(command, home, input, { CLAUDEMESH_DEBUG: '1' })
  if (r.stderr.includes('asking through the Node hook')) handedOver++
  if (r.stderr.includes('did not answer within')) late.set(command, (late.get(command) ?? 0) + 1)
  else if (held !== r.stdout.includes('"permissionDecision":"ask"')) throw new Error(`${command} printed ${JSON.stringify(r.stdout)} for a ${held ? 'claimed' : 'free'} file (stderr ${JSON.stringify(r.stderr)})`)
  return r.ms
}

/** The guard and the Node hook, alternating, on claimed and free files; the daemon's lookup; a bare shell as the floor. */
async function hookPhase (home: string, self: IpcClient, edit: (file: string) => object, repo: string): Promise<HookPhase> {
  const runs = { guard: { claimed: [] as number[], free: [] as number[] }, node: { claimed: [] as number[], free: [] as number[] } }
  const check: number[] = []
  const shell: number[] = []
  for (let i = 0; i < HOOK_RUNS; i++) {
    runs.guard.claimed.push(await hook(GUARD_HOOK_COMMAND, home, edit(`load/0/${i}.ts`), true))
    runs.guard.free.push(await hook(GUARD_HOOK_COMMAND, home, edit(`free/${i}.ts`), false))
    runs.node.claimed.push(await hook(NODE_HOOK_COMMAND, home, edit(`load/1/${i}.ts`), true))
    runs.node.free.push(await hook(NODE_HOOK_COMMAND, home, edit(`free/${i}.ts`), false))
    shell.push(await hook('exec bash -c :', home, {}, false))
    const s = performance.now()
    await self.request('claims.check', { pids: [process.pid], path: path.join(repo, `load/2/${i}.ts`) })
    check.push(performance.now() - s)
  }
  const both = (r: { claimed: number[], free: number[] }): HookLatency => ({ claimed: latency(r.claimed, 1), free: latency(r.free, 1) })
  const phase = { guard: both(runs.guard), node: both(runs.node), check: latency(check, 2), shell: latency(shell, 1), late: { guard: late.get(GUARD_HOOK_COMMAND) ?? 0, node: late.get(NODE_HOOK_COMMAND) ?? 0 }, handedOver }
  late.clear()
  handedOver = 0
  return phase
}

async function grantedWith (t: Teardowns, n: number): Promise<{ members: Member[], clients: IpcClient[] }> {
  const members = await joinedHomes(t, ['alice', 'bob', 'carol', 'dave'].slice(0, n))
  if (n >= 3) for (const m of members) await m.wait({ indexers: 2, timeoutMs: 60_000 })
  const repo = checkout(t)
  const clients = await Promise.all(members.map(async (m, i) => await session(t, m, `s${i}`, repo)))
  const samples: number[] = []
  for (let i = 0; i < CLAIMS; i++) samples.push((await claimGranted(clients[i % n], [`bench/${n}/${i}.ts`])).ms)
  results.granted[`${n} daemons`] = latency(samples, 1)
  console.log(`claim -> granted, ${n} daemons: p50 ${results.granted[`${n} daemons`].p50} ms, p99 ${results.granted[`${n} daemons`].p99} ms (n ${CLAIMS})`)
  return { members, clients }
}

runBench({
  async measure (t) {
    await grantedWith(t, 2)
    const { members, clients } = await grantedWith(t, 4)
    const [alice, bob, carol, dave] = members
    const repo = checkout(t)

    // the owner's daemon stopped: bob and carol (indexers with it) settle what dave claims
    await alice.run('daemon', 'stop')
    for (const m of [bob, carol, dave]) await m.wait({ connected: 2 })
    const d = await session(t, dave, 'offline-test', repo)
    const pend: number[] = []
    for (let i = 0; i < PENDING_RUNS; i++) {
      const r = await claimGranted(d, [`offline/${i}.ts`])
      pend.push(r.ms)
      if (r.firstAnswer === 'granted') results.pendingSettledWithin3s++
    }
    results.pendingOwnerOffline = latency(pend, 1)
    console.log(`claim -> granted with the owner offline (4 daemons): p50 ${results.pendingOwnerOffline.p50} ms, p99 ${results.pendingOwnerOffline.p99} ms; answered granted at once ${results.pendingSettledWithin3s}/${PENDING_RUNS}`)
    await alice.run('daemon', 'start')
    for (const m of members) await m.wait({ connected: 3 })

    // 1,000 live claims (250 per member, the per-member cap is 256, so the ones above are released
    // first), then the hook on bob's machine
    // (alice's session went with its daemon, which released its claims as it stopped)
    for (const c of [...clients.slice(1), d]) await c.request('claims.release', { all: true })
    const holders = await Promise.all(members.map(async (m, i) => await session(t, m, `load${i}`, repo)))
    await Promise.all(holders.map(async (c, i) => {
      const answers = await Promise.all(Array.from({ length: LOAD / 4 }, async (_, j) => await c.request('claims.claim', { paths: [`load/${i}/${j}.ts`], ttlMs: 24 * 3600_000 })))
      if (answers.some((a) => a.status === 'denied')) throw new Error('a load claim was denied')
    }))
    const self = await session(t, bob, 'editor', repo, process.pid)
    const loaded = performance.now()
    while ((await self.request('claims.list', {})).filter((c) => c.paths[0].startsWith('load/')).length < LOAD) {
      if (performance.now() - loaded > 120_000) throw new Error(`bob does not see the ${LOAD} load claims after 120 s`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    const edit = (file: string): object => ({ hook_event_name: 'PreToolUse', tool_name: 'Edit', tool_input: { file_path: path.join(repo, file) }, cwd: repo })
    const busy = await hookPhase(bob.home, self, edit, repo)
    // the same once every daemon's history has settled (no replication left, as on a quiet machine)
    const quiet = performance.now()
    for (const m of members) {
      while (true) {
        const h = (await m.ipc('status')).meshes[0]?.history
        if (h !== undefined && h.settled === h.length) break
        if (performance.now() - quiet > 120_000) throw new Error(`${m.label}: history not settled after 120 s`)
        await new Promise((resolve) => setTimeout(resolve, 200))
      }
    }
    const settledPhase = await hookPhase(bob.home, self, edit, repo)
    results.hook = { busy, settled: settledPhase }
    const line = (h: HookLatency): string => `a claimed file p50 ${h.claimed.p50} ms p99 ${h.claimed.p99} ms, a free file p50 ${h.free.p50} ms p99 ${h.free.p99} ms`
    console.log(`PreToolUse hook with ${LOAD} live claims (n ${HOOK_RUNS} each), through /bin/sh as Claude Code runs it:`)
    for (const [name, r] of [['while the 4 daemons still replicate the load', busy], ['once every daemon settled', settledPhase]] as const) {
      console.log(`  ${name}:`)
      console.log(`    installed guard (bash, guard port): ${line(r.guard)}; passed unanswered after 1 s: ${r.late.guard}/${2 * HOOK_RUNS}, handed to the Node hook: ${r.handedOver}/${2 * HOOK_RUNS}`)
      console.log(`    Node hook (baseline, the fallback): ${line(r.node)}; passed unanswered after 1 s: ${r.late.node}/${2 * HOOK_RUNS}`)
      console.log(`    claims.check in the daemon: p50 ${r.check.p50} ms p99 ${r.check.p99} ms; a shell starting bash and nothing else: p50 ${r.shell.p50} ms p99 ${r.shell.p99} ms`)
    }
  },
  report (loadBefore, wallMs) {
    console.log(wallLine(loadBefore, wallMs))
    writeBenchResults('claims', quick, loadBefore, wallMs, { ...results })
  }
})
