// Benchmark: how fast sessions talk. Real relay, daemons and `claudemesh mcp` processes on loopback,
// driven by the MCP SDK's stdio client (as Claude Code would), plus a raw hyperswarm stream between
// two processes on the same DHT as the floor. Prints numbers beside the issue's targets, never pass/fail.
//
//   npm run bench:messaging [-- --quick] [-- --no-mcp-100] [-- --warmup N]
//
// --quick: fewer messages, 30 instead of 100 load sessions, 4 instead of 10 daemons (about 40 s).
// --no-mcp-100: skip 100 x 100 with 100 `claudemesh mcp` processes (about 70 s of start-up here);
// 100 x 100 with sessions registered over the daemon IPC always runs.
// --warmup N: messages sent and not counted before each latency series (default 50, quick 20).
//
// Sections: the floor (raw hyperswarm stream); two daemons: send_message -> channel notification
// latency and throughput (and the same through the daemon IPC without MCP); broadcast fan-out to 10
// sessions; load tests 10 x 100 and 100 x 100; ten daemons. Writes bench/results/messaging.json
// (--quick: messaging-quick.json). Every process and temp folder it starts is torn down, even on error.
import os from 'node:os'
import { spawn, type ChildProcess } from 'node:child_process'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import HyperDHT, { type NoiseSocket } from 'hyperdht'
import Hyperswarm from 'hyperswarm'
import { Member, startRelay, tmpDir, type RelayProcess } from '../test/helpers/cli.js'
import { McpSession } from '../test/helpers/mcp.js'
import { FakeInbox } from '../test/helpers/fake-inbox.js'
import { IpcClient } from '../peer/daemon/ipc-client.js'
import { homePaths } from '../peer/daemon/home.js'
import { ANY_UDP_PORT } from '../protocol/limits.js'
import { writeBenchResults, latency, runBench, wallLine, fmt, check, sleep, pipeline, cpuTicksOf, machineTicks, type Latency, type Teardowns } from './common.js'

const SELF = fileURLToPath(import.meta.url)
const MESH = 'bench'
const SIZE = 1024
const PAD = 'x'.repeat(SIZE)

// -------------------------------------------------------------------------------------------------
// configuration

interface Config {
  quick: boolean
  warmup: number
  latency: number
  throughput: number
  window: number
  floorThroughput: number
  fanoutSessions: number
  fanoutRepeats: number
  loads: Array<{ sessions: number, messages: number, via: 'mcp' | 'ipc' }>
  daemons: number
  manyLatency: number
}

const TARGETS = {
  latency: 'p50 <= 3, p99 <= 15 ms',
  throughput: '>= 20k msg/s (1 KB, daemon to daemon)',
  load100: '100.00 % delivered, p99 <= 250 ms'
}

function config (argv: string[]): Config {
  const cfg = presets(argv)
  const i = argv.indexOf('--warmup')
  if (i !== -1) {
    const n = Number(argv[i + 1])
    if (!Number.isInteger(n) || n < 0 || n > 100_000) throw new Error('--warmup must be a whole number from 0 to 100000')
    cfg.warmup = n
  }
  return cfg
}

function presets (argv: string[]): Config {
  const quick = argv.includes('--quick')
  const mcp100 = !argv.includes('--no-mcp-100')
  if (quick) {
    return {
      quick,
      warmup: 20,
      latency: 100,
      throughput: 500,
      window: 64,
      floorThroughput: 5000,
      fanoutSessions: 10,
      fanoutRepeats: 10,
      loads: [{ sessions: 10, messages: 20, via: 'mcp' }, { sessions: 30, messages: 20, via: 'ipc' }],
      daemons: 4,
      manyLatency: 100
    }
  }
  return {
    quick,
    warmup: 50,
    latency: 500,
    throughput: 2000,
    window: 64,
    floorThroughput: 20_000,
    fanoutSessions: 10,
    fanoutRepeats: 50,
    loads: [
      { sessions: 10, messages: 100, via: 'mcp' },
      { sessions: 100, messages: 100, via: 'ipc' },
      ...(mcp100 ? [{ sessions: 100, messages: 100, via: 'mcp' as const }] : [])
    ],
    daemons: 10,
    manyLatency: 500
  }
}

// -------------------------------------------------------------------------------------------------
// plumbing (same teardown contract as bench/join.ts)


/** The teardowns of one section (its sessions), run when it is done; those of one order all at once. */
class Scope {
  /** scopes not yet run, for the SIGINT handler */
  static readonly open = new Set<Scope>()
  private readonly fns: Array<{ fn: () => unknown, order: number }> = []

  constructor () {
    Scope.open.add(this)
  }

  teardown (fn: () => unknown, opts: { order?: number } = {}): void {
    this.fns.push({ fn, order: opts.order ?? 0 })
  }

  async run (): Promise<void> {
    Scope.open.delete(this)
    const fns = this.fns.splice(0)
    for (const order of [...new Set(fns.map((f) => f.order))].sort((a, b) => a - b)) {
      await Promise.all(fns.filter((f) => f.order === order).map(async ({ fn }) => {
        try { await fn() } catch (err) { console.error(`teardown failed: ${(err as Error).message}`) }
      }))
    }
  }
}

interface Row {
  section: string
  name: string
  latency?: Latency
  rate?: number
  delivered?: { sent: number, received: number, percent: number, duplicates: number, errors: number }
  target?: string
  note?: string
}

const rows: Row[] = []
const notes: string[] = []

function add (row: Row): void {
  rows.push(row)
  const l = row.latency
  const parts = [`  ${row.name}:`]
  if (l !== undefined) parts.push(`p50 ${fmt(l.p50)} ms, p99 ${fmt(l.p99)} ms, max ${fmt(l.max)} ms (n ${l.n})`)
  if (row.rate !== undefined) parts.push(`${Math.round(row.rate)} msg/s`)
  if (row.delivered !== undefined) parts.push(`${row.delivered.percent.toFixed(2)} % delivered`)
  console.log(parts.join(' '))
}

function content (tag: string): string {
  return (tag + '|' + PAD).slice(0, SIZE)
}

function tagOf (text: string): string {
  const bar = text.indexOf('|')
  return bar === -1 ? '' : text.slice(0, bar)
}

// -------------------------------------------------------------------------------------------------
// arrivals: every receiver reports (tag, time); senders wait for a tag's expected count

interface Expectation { t0: number, expected: number, got: number, first: number, last: number, done: () => void, promise: Promise<void> }

class Tracker {
  private readonly open = new Map<string, Expectation>()
  /** arrivals for tags nobody expects (yet, or any more) */
  strays = 0
  duplicates = 0
  private seq = 0

  tag (prefix: string): string {
    return `${prefix}${this.seq++}`
  }

  /** Registers a message about to be sent; `t0` is set by `sent`. */
  expect (tag: string, expected: number): Expectation {
    let done!: () => void
    const promise = new Promise<void>((resolve) => { done = resolve })
    const e: Expectation = { t0: performance.now(), expected, got: 0, first: NaN, last: NaN, done, promise }
    this.open.set(tag, e)
    return e
  }

  arrive (tag: string, at: number): void {
    const e = this.open.get(tag)
    if (e === undefined) { this.strays++; return }
    if (e.got >= e.expected) { this.duplicates++; return }
    e.got++
    if (e.got === 1) e.first = at
    e.last = at
    if (e.got === e.expected) e.done()
  }

  forget (tag: string): void {
    this.open.delete(tag)
  }
}

const tracker = new Tracker()

/** Resolves true when every expected arrival came, false at the deadline. */
async function arrived (e: Expectation, ms: number): Promise<boolean> {
  if (e.got === e.expected) return true
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), ms) })
  try {
    return await Promise.race([e.promise.then(() => true), timeout])
  } finally {
    clearTimeout(timer)
  }
}

// -------------------------------------------------------------------------------------------------
// sessions: one interface over an MCP process and a bare IPC registration

interface Session {
  name: string
  via: 'mcp' | 'ipc'
  pid: number | null
  send (to: string | string[], message: string): Promise<void>
}

/** MCP sessions still starting: an interrupt waits for them, else they would start a daemon again in a home torn down. */
const starting = new Set<Promise<unknown>>()
/** set on SIGINT/SIGTERM: no new session may start */
let interrupting = false

async function mcpSession (scope: Scope, home: string, name: string): Promise<Session> {
  if (interrupting) throw new Error('interrupted')
  const start = McpSession.start(scope, home, ['--name', name])
  starting.add(start)
  const s = await start.finally(() => starting.delete(start))
  // count arrivals here instead of McpSession's list, which would grow by 1 KB a message
  s.client.fallbackNotificationHandler = async (n) => {
    const at = performance.now()
    if (n.method !== 'notifications/claude/channel') return
    tracker.arrive(tagOf(String((n.params as { content?: unknown }).content ?? '')), at)
  }
  return {
    name,
    via: 'mcp',
    pid: s.pid,
    async send (to, message) {
      const res = await s.call('send_message', { to, message })
      if (res.isError) throw new Error(res.text)
    }
  }
}

async function ipcSession (scope: Scope, home: string, name: string): Promise<Session> {
  if (interrupting) throw new Error('interrupted')
  const client = await IpcClient.connect(homePaths(home).socket)
  scope.teardown(() => client.close(), { order: 5 })
  client.on('push', (event: string, data: { content?: unknown }) => {
    const at = performance.now()
    if (event !== 'message') return
    tracker.arrive(tagOf(String(data.content ?? '')), at)
  })
  await client.request('session.register', { name, cwd: home, channel: true })
  return {
    name,
    via: 'ipc',
    pid: null,
    async send (to, message) {
      await client.request('message.send', { to, message, priority: 'next' })
    }
  }
}

async function startSessions (scope: Scope, homes: Member[], names: string[], via: 'mcp' | 'ipc'): Promise<Session[]> {
  const out: Session[] = []
  const batch = via === 'mcp' ? 8 : 50
  for (let i = 0; i < names.length; i += batch) {
    out.push(...await Promise.all(names.slice(i, i + batch).map((name, j) => {
      const home = homes[(i + j) % homes.length].home
      return via === 'mcp' ? mcpSession(scope, home, name) : ipcSession(scope, home, name)
    })))
  }
  return out
}

/** Waits until every daemon's roster shows exactly `n` sessions. */
async function rosters (members: Member[], n: number): Promise<void> {
  await Promise.all(members.map((m) => m.wait({ mesh: MESH, sessions: n, timeoutMs: 60_000 })))
}

async function endScope (scope: Scope, members: Member[]): Promise<void> {
  await scope.run()
  await rosters(members, 0)
}

// -------------------------------------------------------------------------------------------------
// CPU per process, from /proc: what each role burnt during a section

type Roles = Record<string, Array<number | null>>

const TICK_MS = 10 // USER_HZ is 100 on Linux

class CpuMeter {
  private readonly machine = machineTicks()
  private readonly before = new Map<string, number>()
  private readonly start = performance.now()
  private readonly benchBefore = process.cpuUsage()
  private readonly roles: Roles

  constructor (roles: Roles) {
    this.roles = roles
    for (const [role, pids] of Object.entries(roles)) this.before.set(role, cpuTicksOf(pids))
  }

  /** Per role: average cores used over the section (1.00 = one core busy all along). */
  stop (): Record<string, number> {
    const wall = performance.now() - this.start
    const out: Record<string, number> = {}
    const b = process.cpuUsage(this.benchBefore)
    out.bench = round2((b.user + b.system) / 1000 / wall)
    for (const [role, pids] of Object.entries(this.roles)) out[role] = round2((cpuTicksOf(pids) - (this.before.get(role) ?? 0)) * TICK_MS / wall)
    const m = machineTicks()
    const ncpu = os.cpus().length
    const machine = (m.busy - this.machine.busy) / Math.max(1, m.total - this.machine.total) * ncpu
    const ours = Object.values(out).reduce((a, b) => a + b, 0)
    out.machine = round2(machine)
    out.others = round2(Math.max(0, machine - ours))
    return out
  }
}

function round2 (x: number): number {
  return Math.round(x * 100) / 100
}

const cpu: Array<{ section: string, cores: Record<string, number>, loadavg1: number }> = []

/** Cores busy per role over the section; `machine` is the whole box, `others` what is not ours (other users' work). */
function recordCpu (section: string, meter: CpuMeter): void {
  const cores = meter.stop()
  const loadavg1 = round2(os.loadavg()[0])
  cpu.push({ section, cores, loadavg1 })
  console.log(`  cpu (cores busy of ${os.cpus().length}): ${Object.entries(cores).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')}; load average ${loadavg1.toFixed(2)}`)
}

// -------------------------------------------------------------------------------------------------
// the floor: a raw hyperswarm stream between two processes on the relay's DHT

// frames: u32 length, u8 type, u32 seq, payload. 1 echo (echoed back), 2 bulk (counted),
// 3 flush (answered once every bulk frame before it was read, which the stream's order guarantees)
const ECHO = 1
const BULK = 2
const FLUSH = 3

function frame (type: number, seq: number, payload: Buffer): Buffer {
  const buf = Buffer.allocUnsafe(9 + payload.byteLength)
  buf.writeUInt32BE(5 + payload.byteLength, 0)
  buf.writeUInt8(type, 4)
  buf.writeUInt32BE(seq, 5)
  payload.copy(buf, 9)
  return buf
}

function onFrames (conn: NoiseSocket, fn: (type: number, seq: number, whole: Buffer) => void): void {
  let buffered: Buffer = Buffer.alloc(0)
  conn.on('data', (chunk: Buffer) => {
    buffered = buffered.byteLength === 0 ? chunk : Buffer.concat([buffered, chunk])
    while (buffered.byteLength >= 4) {
      const len = buffered.readUInt32BE(0)
      if (buffered.byteLength < 4 + len) break
      const whole = buffered.subarray(0, 4 + len)
      buffered = buffered.subarray(4 + len)
      fn(whole.readUInt8(4), whole.readUInt32BE(5), whole)
    }
  })
}

/** Child mode: an echo server on the DHT at `bootstrap`; prints `ready <key>`; exits when stdin closes. */
async function swarmEchoMain (bootstrap: string): Promise<void> {
  const [host, port] = bootstrap.split(':')
  const dht = new HyperDHT({ bootstrap: [{ host, port: Number(port) }], port: ANY_UDP_PORT, host: '127.0.0.1' })
  const swarm = new Hyperswarm({ dht })
  swarm.on('connection', (conn: NoiseSocket) => {
    conn.on('error', () => {})
    let bulk = 0
    onFrames(conn, (type, seq, whole) => {
      if (type === ECHO) conn.write(Buffer.from(whole))
      else if (type === BULK) bulk++
      else if (type === FLUSH) conn.write(frame(FLUSH, bulk, Buffer.alloc(0)))
    })
  })
  await swarm.listen()
  process.stdout.write(`ready ${swarm.keyPair.publicKey.toString('hex')}\n`)
  const stop = (): void => { swarm.destroy().finally(() => process.exit(0)) }
  process.stdin.on('end', stop).on('close', stop).resume()
  process.once('SIGTERM', stop)
}

async function startEcho (t: Teardowns, bootstrap: string): Promise<{ child: ChildProcess, key: Buffer }> {
  const child = spawn(process.execPath, [SELF, '--swarm-echo', bootstrap], { stdio: ['pipe', 'pipe', 'inherit'] })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  t.teardown(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGKILL')
    await exited
  }, { order: 20 })
  const key = await new Promise<string>((resolve, reject) => {
    let out = ''
    child.stdout?.setEncoding('utf-8').on('data', (d: string) => {
      out += d
      const m = /ready ([0-9a-f]{64})/.exec(out)
      if (m !== null) resolve(m[1])
    })
    child.once('exit', (code) => reject(new Error(`swarm echo exited with ${String(code)}`)))
  })
  return { child, key: Buffer.from(key, 'hex') }
}

async function benchFloor (t: Teardowns, cfg: Config, relay: RelayProcess): Promise<void> {
  console.log('\n[floor] raw hyperswarm stream, bench process <-> echo process, bootstrap: the relay\'s DHT')
  const echo = await startEcho(t, relay.address)
  const dht = new HyperDHT({ bootstrap: [{ host: '127.0.0.1', port: relay.port }], port: ANY_UDP_PORT, host: '127.0.0.1' })
  const swarm = new Hyperswarm({ dht })
  t.teardown(() => swarm.destroy(), { order: 15 })
  const connected = new Promise<NoiseSocket>((resolve) => swarm.once('connection', (c: NoiseSocket) => resolve(c)))
  const start = performance.now()
  swarm.joinPeer(echo.key)
  const conn = await connected
  conn.on('error', () => {})
  console.log(`  connected in ${(performance.now() - start).toFixed(0)} ms`)

  const waiting = new Map<number, (at: number) => void>()
  onFrames(conn, (type, seq) => {
    const at = performance.now()
    const key = type === FLUSH ? -1 : seq
    const w = waiting.get(key)
    if (w !== undefined) { waiting.delete(key); w(at) }
  })
  const payload = Buffer.from(PAD)
  const roundTrip = async (seq: number): Promise<number> => {
    const t0 = performance.now()
    const back = new Promise<number>((resolve) => waiting.set(seq, resolve))
    conn.write(frame(ECHO, seq, payload))
    return (await back) - t0
  }

  const meter = new CpuMeter({ echo: [echo.child.pid ?? null] })
  for (let i = 0; i < cfg.warmup; i++) await roundTrip(i)
  const rtts: number[] = []
  for (let i = 0; i < cfg.latency; i++) rtts.push(await roundTrip(cfg.warmup + i))
  add({ section: 'floor', name: 'raw stream 1 KB round trip', latency: latency(rtts), note: 'echo round trip' })
  add({ section: 'floor', name: 'raw stream 1 KB one-way (RTT/2)', latency: latency(rtts.map((x) => x / 2)), note: 'round trip / 2, not timestamped one-way' })

  const bulk = async (n: number): Promise<number> => {
    const flushed = new Promise<number>((resolve) => waiting.set(-1, resolve))
    const t0 = performance.now()
    for (let i = 0; i < n; i++) {
      if (!conn.write(frame(BULK, i, payload))) await new Promise<void>((resolve) => conn.once('drain', () => resolve()))
    }
    conn.write(frame(FLUSH, 0, Buffer.alloc(0)))
    return n / (((await flushed) - t0) / 1000)
  }
  await bulk(cfg.floorThroughput / 2) // warm-up: JIT and the transport's congestion window
  const n = cfg.floorThroughput
  add({ section: 'floor', name: 'raw stream 1 KB one way, pipelined', rate: await bulk(n), note: `${n} frames after ${n / 2} of warm-up, until the echo process confirmed it read them all`, target: TARGETS.throughput })
  recordCpu('floor', meter)
  await swarm.destroy()
}

// -------------------------------------------------------------------------------------------------
// the mesh

async function setupMesh (t: Teardowns, relay: RelayProcess): Promise<Member[]> {
  const owner = new Member(t, 'bench-d0')
  await owner.json('create', MESH, '--relay', `${relay.key}@${relay.address}`)
  const peer = new Member(t, 'bench-d1')
  const invite = await owner.json<{ link: string }>('invite', '--mesh', MESH)
  check(await peer.run('join', invite.link), 'join')
  await owner.wait({ mesh: MESH, members: 2, connected: 1 })
  await peer.wait({ mesh: MESH, members: 2, connected: 1 })
  return [owner, peer]
}

/** More daemons join with one multi-use invite, all at once; every daemon then waits for full connectivity. */
async function growMesh (t: Teardowns, members: Member[], total: number): Promise<Member[]> {
  const more = total - members.length
  if (more <= 0) return members
  const invite = await members[0].json<{ link: string }>('invite', '--mesh', MESH, '--uses', String(more))
  const fresh = Array.from({ length: more }, (_, i) => new Member(t, `bench-d${members.length + i}`))
  const results = await Promise.all(fresh.map((m) => m.run('join', invite.link)))
  results.forEach((r, i) => check(r, `join of d${members.length + i}`))
  const all = [...members, ...fresh]
  await Promise.all(all.map((m) => m.wait({ mesh: MESH, members: total, connected: total - 1, timeoutMs: 120_000 })))
  return all
}

function daemonPids (members: Member[]): Array<number | null> {
  return members.map((m) => m.pid())
}

/** Sequential send -> notification latency between two sessions, after a warm-up. */
async function sequential (from: Session, to: Session, warmup: number, n: number, prefix: string): Promise<{ samples: number[], acks: number[], lost: number }> {
  const samples: number[] = []
  const acks: number[] = []
  let lost = 0
  for (let i = 0; i < warmup + n; i++) {
    const tag = tracker.tag(prefix)
    const e = tracker.expect(tag, 1)
    const t0 = performance.now()
    await from.send(to.name, content(tag))
    const ack = performance.now() - t0
    const ok = await arrived(e, 10_000)
    tracker.forget(tag)
    if (i < warmup) continue
    if (!ok) { lost++; continue }
    samples.push(e.last - t0)
    acks.push(ack)
  }
  return { samples, acks, lost }
}

/** Messages per second from `t0` to the last arrival. */
function rate (received: Expectation[], t0: number): number {
  if (received.length === 0) return 0
  let last = t0
  for (const e of received) if (e.last > last) last = e.last
  return received.length / ((last - t0) / 1000)
}

/** N messages with `window` send calls in flight, not waiting for notifications; rate until the last one arrived. */
async function burst (from: Session, to: Session, n: number, window: number, prefix: string): Promise<{ rate: number, received: number, samples: number[] }> {
  const expectations: Expectation[] = []
  const tags: string[] = []
  const t0 = performance.now()
  await pipeline(n, window, async (i) => {
    const tag = tracker.tag(prefix)
    tags[i] = tag
    const e = tracker.expect(tag, 1)
    expectations[i] = e
    await from.send(to.name, content(tag))
  })
  const deadline = performance.now() + 30_000
  for (const e of expectations) if (!await arrived(e, Math.max(1, deadline - performance.now()))) break
  const received = expectations.filter((e) => e.got === 1)
  for (const tag of tags) tracker.forget(tag)
  return { rate: rate(received, t0), received: received.length, samples: received.map((e) => e.last - e.t0) }
}

async function benchPair (section: string, members: Member[], a: Member, b: Member, cfg: Config, relay: RelayProcess, opts: { ipc: boolean }): Promise<void> {
  const label = section === 'two daemons' ? '' : ` (${members.length} daemons)`
  for (const via of opts.ipc ? ['mcp', 'ipc'] as const : ['mcp'] as const) {
    const scope = new Scope()
    try {
      const what = via === 'mcp' ? 'MCP send_message -> channel notification' : 'IPC message.send -> push (no MCP)'
      console.log(`\n[${section}] ${what}, 1 KB messages`)
      const [from, to] = await startSessions(scope, [a, b], [`${via}-from-${members.length}d`, `${via}-to-${members.length}d`], via)
      await rosters(members, 2)
      const roles = { daemons: daemonPids(members), relay: [relay.child.pid ?? null], mcp: [from.pid, to.pid] }
      let meter = new CpuMeter(roles)
      const seq = await sequential(from, to, cfg.warmup, cfg.latency, 'lat')
      add({ section, name: `${via === 'mcp' ? 'MCP' : 'IPC'} send -> notification${label}`, latency: latency(seq.samples), target: TARGETS.latency, note: seq.lost > 0 ? `${seq.lost} lost` : undefined })
      add({ section, name: `${via === 'mcp' ? 'MCP' : 'IPC'} send call -> its reply${label}`, latency: latency(seq.acks) })
      recordCpu(`${section}: ${via} latency`, meter)
      meter = new CpuMeter(roles)
      const n = via === 'mcp' ? cfg.throughput : cfg.throughput * 3
      await burst(from, to, Math.ceil(n / 4), cfg.window, 'tpw') // warm-up
      const tp = await burst(from, to, n, cfg.window, 'tp')
      add({
        section,
        name: `${via === 'mcp' ? 'MCP' : 'IPC'} throughput, ${cfg.window} sends in flight${label}`,
        rate: tp.rate,
        latency: latency(tp.samples),
        delivered: { sent: n, received: tp.received, percent: 100 * tp.received / n, duplicates: 0, errors: 0 },
        target: TARGETS.throughput,
        note: `after ${Math.ceil(n / 4)} of warm-up; rate until the last notification`
      })
      recordCpu(`${section}: ${via} throughput`, meter)
    } finally {
      await endScope(scope, members)
    }
  }
}

/** send_message -> the recipient session's Claude Code inbox (the test's listener speaking its frame format). */
async function benchInbox (members: Member[], cfg: Config, relay: RelayProcess): Promise<void> {
  const section = 'two daemons'
  const scope = new Scope()
  try {
    console.log(`\n[${section}] MCP send_message -> the recipient's Claude Code inbox (a listener speaking its frame format), 1 KB messages`)
    const inbox = await FakeInbox.start(scope)
    // the text is the mark, the <claudemesh-message> line, then the body, which starts with the tag
    inbox.ontake = (f, at) => { tracker.arrive(tagOf(f.content.split('\n')[2] ?? ''), at) }
    const from = await mcpSession(scope, members[0].home, 'inbox-from')
    const rcpt = await McpSession.start(scope, members[1].home, ['--name', 'inbox-to'], { ...inbox.env(), CLAUDEMESH_CHANNELS: '0' })
    await rosters(members, 2)
    const to: Session = { name: 'inbox-to', via: 'mcp', pid: rcpt.pid, async send () { throw new Error('not a sender') } }
    const meter = new CpuMeter({ daemons: daemonPids(members), relay: [relay.child.pid ?? null], mcp: [from.pid, rcpt.pid] })
    const seq = await sequential(from, to, cfg.warmup, cfg.latency, 'inb')
    add({ section, name: 'MCP send -> inbox listener', latency: latency(seq.samples), target: TARGETS.latency, note: seq.lost > 0 ? `${seq.lost} lost` : 'the MCP server writes the frames, then follows the transcript for the confirmation' })
    recordCpu(`${section}: inbox latency`, meter)
  } finally {
    await endScope(scope, members)
  }
}

async function benchFanout (section: string, members: Member[], cfg: Config, relay: RelayProcess, count: number): Promise<void> {
  const scope = new Scope()
  try {
    console.log(`\n[${section}] broadcast fan-out: send_message to '*' from one of ${count} MCP sessions over ${members.length} daemons`)
    const names = Array.from({ length: count }, (_, i) => `fan${members.length}-${i}`)
    const sessions = await startSessions(scope, members, names, 'mcp')
    await rosters(members, count)
    const meter = new CpuMeter({ daemons: daemonPids(members), relay: [relay.child.pid ?? null], mcp: sessions.map((s) => s.pid) })
    const all: number[] = []
    const first: number[] = []
    let lost = 0
    const warmup = Math.min(5, cfg.fanoutRepeats)
    for (let i = 0; i < warmup + cfg.fanoutRepeats; i++) {
      const tag = tracker.tag('fan')
      const e = tracker.expect(tag, count - 1)
      const t0 = performance.now()
      await sessions[0].send('*', content(tag))
      const ok = await arrived(e, 10_000)
      tracker.forget(tag)
      if (i < warmup) continue
      if (!ok) { lost++; continue }
      all.push(e.last - t0)
      first.push(e.first - t0)
    }
    add({ section, name: `fan-out to ${count - 1}: last notification`, latency: latency(all), note: lost > 0 ? `${lost} repeats incomplete` : undefined })
    add({ section, name: `fan-out to ${count - 1}: first notification`, latency: latency(first) })
    recordCpu(`${section}: fan-out`, meter)
  } finally {
    await endScope(scope, members)
  }
}

/** Every session sends `messages` messages, one after another, each to a random other session; all at once. */
async function benchLoad (members: Member[], relay: RelayProcess, load: Config['loads'][number]): Promise<void> {
  const scope = new Scope()
  const section = 'load'
  try {
    console.log(`\n[load] ${load.sessions} sessions x ${load.messages} messages (sessions ${load.via === 'mcp' ? 'as `claudemesh mcp` processes' : 'registered over the daemon IPC, no MCP process'}, over ${members.length} daemons)`)
    const started = performance.now()
    const names = Array.from({ length: load.sessions }, (_, i) => `load${load.sessions}${load.via}-${i}`)
    const sessions = await startSessions(scope, members, names, load.via)
    await rosters(members, load.sessions)
    const upIn = (performance.now() - started) / 1000
    console.log(`  ${load.sessions} sessions up in ${upIn.toFixed(1)} s`)
    const meter = new CpuMeter({ daemons: daemonPids(members), relay: [relay.child.pid ?? null], mcp: sessions.map((s) => s.pid) })
    const expectations: Expectation[] = []
    const tags: string[] = []
    let errors = 0
    const duplicatesBefore = tracker.duplicates
    const t0 = performance.now()
    await Promise.all(sessions.map(async (s, si) => {
      for (let i = 0; i < load.messages; i++) {
        let to = Math.floor(Math.random() * (sessions.length - 1))
        if (to >= si) to++
        const tag = tracker.tag('load')
        tags.push(tag)
        const e = tracker.expect(tag, 1)
        expectations.push(e)
        try {
          await s.send(sessions[to].name, content(tag))
        } catch (err) {
          errors++
          if (errors <= 3) console.log(`  send failed: ${(err as Error).message.slice(0, 200)}`)
        }
      }
    }))
    const sendDone = performance.now()
    const deadline = sendDone + 15_000
    for (const e of expectations) if (!await arrived(e, Math.max(1, deadline - performance.now()))) break
    const received = expectations.filter((e) => e.got === 1)
    for (const tag of tags) tracker.forget(tag)
    const sent = expectations.length
    add({
      section,
      name: `${load.sessions} sessions x ${load.messages} messages (${load.via})`,
      latency: latency(received.map((e) => e.last - e.t0)),
      rate: rate(received, t0),
      delivered: { sent, received: received.length, percent: 100 * received.length / sent, duplicates: tracker.duplicates - duplicatesBefore, errors },
      target: load.sessions >= 100 ? TARGETS.load100 : undefined,
      note: `${load.via === 'mcp' ? 'MCP processes' : 'IPC sessions'}, up in ${upIn.toFixed(1)} s; sends took ${((sendDone - t0) / 1000).toFixed(2)} s`
    })
    recordCpu(`load ${load.sessions}x${load.messages} (${load.via})`, meter)
  } finally {
    await endScope(scope, members)
  }
}

// -------------------------------------------------------------------------------------------------
// output

function printTable (cfg: Config): void {
  const w = Math.max(...rows.map((r) => r.name.length), 11)
  const col = (s: string, n: number): string => s.padStart(n)
  console.log(`\n${'measurement'.padEnd(w)} ${col('n', 6)} ${col('p50 ms', 9)} ${col('p99 ms', 9)} ${col('max ms', 9)} ${col('msg/s', 8)} ${col('delivered', 9)}  target (issue 3)`)
  let section = ''
  for (const r of rows) {
    if (r.section !== section) { section = r.section; console.log(`-- ${section}`) }
    const l = r.latency
    console.log([
      r.name.padEnd(w),
      col(l !== undefined ? String(l.n) : '', 6),
      col(l !== undefined ? fmt(l.p50) : '', 9),
      col(l !== undefined ? fmt(l.p99) : '', 9),
      col(l !== undefined ? fmt(l.max) : '', 9),
      col(r.rate !== undefined ? String(Math.round(r.rate)) : '', 8),
      col(r.delivered !== undefined ? r.delivered.percent.toFixed(2) + '%' : '', 9),
      ' ' + (r.target ?? '') + (r.note !== undefined ? `${r.target !== undefined ? '; ' : ''}${r.note}` : '')
    ].join(' '))
  }
  console.log(`\nlatency: from the send call on one client to the notification on the other, one clock (the bench process), 1 KB messages;
${cfg.quick ? 'quick run: fewer messages, sessions and daemons' : 'full run'}; percentiles are nearest-rank. The issue's targets are shown for reference, not checked.`)
  notes.push(`arrivals of a message after its deadline or a second time: ${tracker.strays + tracker.duplicates}`)
  for (const n of notes) console.log(`note: ${n}`)
}

function writeResults (cfg: Config, loadBefore: number[], wallMs: number): void {
  writeBenchResults('messaging', cfg.quick, loadBefore, wallMs, { config: cfg, messageBytes: SIZE, targets: TARGETS, rows, cpu, notes })
}

async function bench (t: Teardowns, cfg: Config): Promise<void> {
  console.log(`claudemesh messaging bench${cfg.quick ? ' (quick)' : ''}: node ${process.version}, ${os.cpus().length} cpus, load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`)
  const relay = await startRelay(t, { data: tmpDir(t, 'cm-bench-relay-') })
  await benchFloor(t, cfg, relay)

  let setup = performance.now()
  let members = await setupMesh(t, relay)
  console.log(`\nmesh ready: 2 daemons through relay ${relay.address} in ${((performance.now() - setup) / 1000).toFixed(1)} s`)
  await benchPair('two daemons', members, members[0], members[1], cfg, relay, { ipc: true })
  await benchInbox(members, cfg, relay)
  await benchFanout('two daemons', members, cfg, relay, cfg.fanoutSessions)
  for (const load of cfg.loads) await benchLoad(members, relay, load)

  setup = performance.now()
  const meter = new CpuMeter({ daemons: daemonPids(members), relay: [relay.child.pid ?? null] })
  console.log(`\n[${cfg.daemons} daemons] ${cfg.daemons - members.length} more daemons join at once`)
  members = await growMesh(t, members, cfg.daemons)
  const grown = (performance.now() - setup) / 1000
  console.log(`  ${cfg.daemons} daemons joined and fully connected in ${grown.toFixed(1)} s`)
  notes.push(`${cfg.daemons} daemons: ${cfg.daemons - 2} joined at once with one invite and were all connected to each other ${grown.toFixed(1)} s later`)
  recordCpu(`grow to ${cfg.daemons} daemons (the join commands and new daemons count under others)`, meter)
  const idle = new CpuMeter({ daemons: daemonPids(members), relay: [relay.child.pid ?? null] })
  await sleep(3000)
  console.log(`  idle for 3 s:`)
  recordCpu(`${cfg.daemons} daemons idle, 3 s`, idle)
  const section = `${cfg.daemons} daemons`
  await benchPair(section, members, members[0], members[members.length - 1], { ...cfg, latency: cfg.manyLatency }, relay, { ipc: false })
  await benchFanout(section, members, cfg, relay, cfg.daemons)
}

const argv = process.argv.slice(2)
const echoAt = argv.indexOf('--swarm-echo')
if (echoAt !== -1) {
  swarmEchoMain(argv[echoAt + 1]).catch((err) => {
    console.error(`swarm echo failed: ${(err as Error).stack ?? String(err)}`)
    process.exitCode = 1
  })
} else {
  const cfg = config(argv)
  runBench({
    measure: async (t) => { await bench(t, cfg) },
    report: (loadBefore, wallMs) => {
      printTable(cfg)
      console.log(wallLine(loadBefore, wallMs))
      writeResults(cfg, loadBefore, wallMs)
    },
    interrupt: async () => {
      interrupting = true
      await Promise.race([Promise.allSettled([...starting]), sleep(15_000)])
      await Promise.all([...Scope.open].map((scope) => scope.run()))
    }
  })
}
