// Benchmark: how long joining a mesh, starting the daemon and printing --help take, measured on the
// real CLI, daemons and relay as separate processes on loopback. Prints numbers, never pass/fail.
//
//   npm run bench:join [-- --runs N]     (default 10 runs per figure)
//
// Writes bench/results/join.json. Every process and temp folder it starts is torn down, even on error.
import os from 'node:os'
import { spawn } from 'node:child_process'
import { performance } from 'node:perf_hooks'
import { Member, startRelay, cli, tmpDir } from '../test/helpers/cli.js'
import { writeBenchResults, runBench, wallLine, check, timed, median, percentile, type Teardowns } from './common.js'

const MESH = 'bench'


interface Stats { n: number, median: number, p95: number, min: number, max: number, mean: number, samples: number[] }

function stats (samples: number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b)
  const round = (x: number): number => Math.round(x * 10) / 10
  return {
    n: sorted.length,
    median: round(median(sorted)),
    p95: round(percentile(sorted, 95)),
    min: round(sorted[0]),
    max: round(sorted[sorted.length - 1]),
    mean: round(sorted.reduce((a, b) => a + b, 0) / sorted.length),
    samples: samples.map(round)
  }
}

/** Spawns a process and resolves with its exit code once it has exited. */
function run (cmd: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: 'ignore' })
    child.on('error', reject)
    child.on('close', (code) => resolve(code ?? -1))
  })
}

function parseRuns (argv: string[]): number {
  const i = argv.indexOf('--runs')
  if (i === -1) return 10
  const n = Number(argv[i + 1])
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new Error('--runs must be a whole number from 1 to 1000')
  return n
}

/** Wall time of a spawned command, `runs` times, after one discarded warm-up run. */
async function spawnTimes (runs: number, once: () => Promise<unknown>): Promise<number[]> {
  await once()
  const out: number[] = []
  for (let i = 0; i < runs; i++) out.push((await timed(once)).ms)
  return out
}

async function benchNodeBaseline (runs: number): Promise<number[]> {
  return await spawnTimes(runs, async () => {
    if (await run(process.execPath, ['-e', '']) !== 0) throw new Error('node -e "" failed')
  })
}

async function benchHelp (t: Teardowns, runs: number): Promise<number[]> {
  const home = tmpDir(t, 'cm-bench-help-')
  return await spawnTimes(runs, async () => check(await cli(home, ['--help']), 'claudemesh --help'))
}

interface Mesh { relay: string, owner: Member, existing: Member[] }

/** A relay process, an owner that creates a mesh on it, and one more member: two online. */
async function setupMesh (t: Teardowns): Promise<Mesh> {
  const relay = await startRelay(t)
  const relaySpec = `${relay.key}@${relay.address}`
  const owner = new Member(t, 'owner')
  await owner.json('create', MESH, '--relay', relaySpec)
  const peer = new Member(t, 'peer')
  check(await peer.run('join', await mintInvite(owner)), 'join (existing member)')
  await peer.wait({ mesh: MESH, connected: 1 })
  await owner.wait({ mesh: MESH, connected: 1 })
  return { relay: relaySpec, owner, existing: [owner, peer] }
}

async function mintInvite (owner: Member): Promise<string> {
  const res = await owner.json<{ link: string }>('invite', '--mesh', MESH)
  return res.link
}

interface JoinSample { joinMs: number, connectedMs: number }

/** One fresh member: invite, `claudemesh join`, then wait in its daemon until connected to everyone online. */
async function joinOnce (t: Teardowns, mesh: Mesh, i: number): Promise<{ sample: JoinSample, member: Member }> {
  const member = new Member(t, `joiner${i}`)
  const link = await mintInvite(mesh.owner)
  const start = performance.now()
  check(await member.run('join', link), `join run ${i}`)
  const joinMs = performance.now() - start
  await member.wait({ mesh: MESH, connected: mesh.existing.length })
  const connectedMs = performance.now() - start
  return { sample: { joinMs, connectedMs }, member }
}

/** Returns the samples and the home of the last joiner (stopped), for the daemon start-up runs. */
async function benchJoin (t: Teardowns, mesh: Mesh, runs: number): Promise<{ samples: JoinSample[], last: Member }> {
  const samples: JoinSample[] = []
  let last: Member | null = null
  for (let i = 0; i < runs; i++) {
    const { sample, member } = await joinOnce(t, mesh, i)
    await member.stop()
    samples.push(sample)
    last = member
    process.stdout.write(`  join run ${i + 1}/${runs}: join ${sample.joinMs.toFixed(0)} ms, connected ${sample.connectedMs.toFixed(0)} ms\n`)
  }
  if (last === null) throw new Error('no join run')
  return { samples, last }
}

/** `claudemesh daemon start` on a given home, then stop it. Optionally times reconnection too. */
async function startOnce (member: Member, reconnect: number | null): Promise<{ startMs: number, reconnectMs: number | null }> {
  try {
    const start = performance.now()
    check(await member.run('daemon', 'start'), 'daemon start')
    const startMs = performance.now() - start
    if (reconnect === null) return { startMs, reconnectMs: null }
    await member.wait({ mesh: MESH, connected: reconnect })
    return { startMs, reconnectMs: performance.now() - start }
  } finally {
    await member.stop()
  }
}

async function benchDaemonFresh (t: Teardowns, runs: number): Promise<number[]> {
  const out: number[] = []
  for (let i = 0; i < runs; i++) {
    const member = new Member(t, `fresh${i}`)
    out.push((await startOnce(member, null)).startMs)
  }
  return out
}

async function benchDaemonJoined (member: Member, mesh: Mesh, runs: number): Promise<{ start: number[], reconnect: number[] }> {
  const start: number[] = []
  const reconnect: number[] = []
  for (let i = 0; i < runs; i++) {
    const res = await startOnce(member, mesh.existing.length)
    start.push(res.startMs)
    reconnect.push(res.reconnectMs ?? NaN)
  }
  return { start, reconnect }
}

function printTable (rows: Array<[string, Stats]>): void {
  const width = Math.max(...rows.map(([name]) => name.length))
  const num = (x: number): string => x.toFixed(1).padStart(9)
  console.log(`\n${'measurement'.padEnd(width)}  ${'n'.padStart(3)} ${'median ms'.padStart(9)} ${'p95 ms'.padStart(9)} ${'min ms'.padStart(9)} ${'max ms'.padStart(9)}`)
  for (const [name, s] of rows) console.log(`${name.padEnd(width)}  ${String(s.n).padStart(3)} ${num(s.median)} ${num(s.p95)} ${num(s.min)} ${num(s.max)}`)
}

function writeResults (runs: number, rows: Array<[string, Stats]>, loadBefore: number[], wallMs: number): void {
  writeBenchResults('join', false, loadBefore, wallMs, { runs, results: Object.fromEntries(rows) })
}

async function bench (t: Teardowns, runs: number): Promise<Array<[string, Stats]>> {
  console.log(`claudemesh join bench: ${runs} run${runs === 1 ? '' : 's'} per figure, node ${process.version}, ${os.cpus().length} cpus`)
  const rows: Array<[string, Stats]> = []
  rows.push(['node -e "" (baseline)', stats(await benchNodeBaseline(runs))])
  rows.push(['claudemesh --help', stats(await benchHelp(t, runs))])
  rows.push(['daemon start (fresh home)', stats(await benchDaemonFresh(t, runs))])
  const mesh = await setupMesh(t)
  console.log(`mesh ready: relay ${mesh.relay}, ${mesh.existing.length} members online`)
  const join = await benchJoin(t, mesh, runs)
  rows.push(['join command', stats(join.samples.map((s) => s.joinMs))])
  rows.push([`join -> connected to ${mesh.existing.length}`, stats(join.samples.map((s) => s.connectedMs))])
  const joined = await benchDaemonJoined(join.last, mesh, runs)
  rows.push(['daemon start (1 mesh)', stats(joined.start)])
  rows.push([`daemon start -> connected to ${mesh.existing.length}`, stats(joined.reconnect)])
  return rows
}

const runs = parseRuns(process.argv.slice(2))
let rows: Array<[string, Stats]> = []
runBench({
  measure: async (t) => { rows = await bench(t, runs) },
  report: (loadBefore, wallMs) => {
    printTable(rows)
    console.log(wallLine(loadBefore, wallMs))
    writeResults(runs, rows, loadBefore, wallMs)
  }
})
