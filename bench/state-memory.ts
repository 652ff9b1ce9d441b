// Benchmark: shared state and shared memory (issue 4). Prints numbers beside the issue's targets,
// never pass/fail.
//
//   npm run bench:state-memory [-- --quick] [-- --only notify,partition,index,startup]
//
// Full run about 6 minutes on 2 cores; --quick about 1.5 minutes (2 and 4 daemons, 30 sets, 10k memories).
//
// Sections:
//   notify     set_state on one daemon -> state_change notification on the MCP session of every
//              other daemon, at 2, 5 and 10 daemons. Real relay, daemons and `claudemesh mcp`
//              processes on loopback, one MCP session per daemon, sequential sets after 20 of warm-up:
//              200 sets at 2 daemons (by a member, then by the owner), 150 at 5 and 100 at 10 (fewer,
//              as 10 daemons and 10 MCP processes share 2 cores and every set takes longer there).
//   partition  1,000 state writes while partitioned, then convergence. Twice: (a) real daemons: three
//              daemons stopped, each started alone to take its share of the writes over the daemon IPC
//              (one at a time on the first, 32 in flight on the others) and stopped again, then all
//              restarted; timed until every view holds every key (Member.wait({ state })); (b) in-process
//              Mesh objects on corestores in temp folders, replicating over in-memory streams that are
//              cut for the writes and re-linked (the "disconnect them" of the issue). One key is written
//              by all three, concurrently. (b) also measures the floor of the notify figures: setState
//              on one Mesh -> 'state' event on the others, with no network, IPC or MCP.
//   index      the MemoryIndex (MiniSearch) on its own: build time, heap and RSS, recall latency per
//              query kind (exact words, prefixes, typos, a stop word) at 10k and 100k entries.
//   startup    a real daemon home (created on the relay, daemon stopped) whose view is filled in-process
//              through a Mesh with mesh.base.append of 500 memory.add ops at a time: the first 10k with
//              the Mesh refreshing on every update as a daemon does, the rest with the update listener
//              detached (apply only). The Mesh uses the daemon's memory snapshot file, as the daemon
//              does (saved when it closes, loaded when it opens). At 10k and 100k: Mesh.ready() on the
//              filled store and the time until its memory index is ready (loaded from the snapshot the
//              previous close saved and diffed forward over what was appended since), then
//              refresh()/remember()/setState() latency and a full rescan (the one that follows a view
//              truncation; set off by hand, as the view's truncate event does). Last, the real daemon
//              on that home: its main.js spawned as the CLI does and timed to "ready" (not `claudemesh
//              daemon start`, which gives up after 30 s) and to its index being ready, its RSS,
//              recall, remember and state.set over the daemon IPC.
//
// Memory entries are windows of 10 to 60 consecutive words of the README and other .md files in
// node_modules (real technical English, Zipf-distributed), with 0 to 3 of 20 tags; deterministic.
// Writes bench/results/state-memory.json (--quick: state-memory-quick.json). Every process and
// temp folder it starts is torn down, even on error or Ctrl-C.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import v8 from 'node:v8'
import vm from 'node:vm'
import { spawn } from 'node:child_process'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import Corestore from 'corestore'
import BlindPairing from 'blind-pairing'
import { createReceipt } from 'blind-pairing-core'
import { Member, startRelay, tmpDir, type RelayProcess } from '../test/helpers/cli.js'
import { McpSession } from '../test/helpers/mcp.js'
import { IpcClient } from '../peer/daemon/ipc-client.js'
import { homePaths, meshDir } from '../peer/daemon/home.js'
import { Mesh, type MeshConfig } from '../peer/mesh/mesh.js'
import { MemoryIndex } from '../peer/mesh/memory-index.js'
import type { MemoryEntry, StateEntry } from '../peer/mesh/apply.js'
import { keyPair, randomBytes, toHex, type KeyPair } from '../protocol/crypto.js'
import { signInviteCert, encodeMemberKeys } from '../protocol/invite.js'
import type { JoinOp, Author } from '../protocol/ops.js'
import { Teardowns, writeBenchResults, latency, runBench, wallLine, fmt, check, sleep, pipeline, cpuTicks, cpuTicksOf, machineTicks, type Latency } from './common.js'

const MESH = 'bench'
const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const DAEMON_MAIN = fileURLToPath(new URL('../peer/daemon/main.js', import.meta.url))

v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc') as () => void

// -------------------------------------------------------------------------------------------------
// configuration

const SECTIONS = ['notify', 'partition', 'index', 'startup'] as const
type Section = typeof SECTIONS[number]

interface Config {
  quick: boolean
  only: Section[]
  /** daemon counts of the notify section, grown one after the other */
  daemons: number[]
  warmup: number
  /** sequential sets per writer at n daemons */
  sets: (daemons: number) => number
  /** which daemon writes at n daemons: the newest member (a non-indexer, like most) and/or the owner (the only indexer) */
  writers: (daemons: number) => Array<'member' | 'owner'>
  partitionWrites: number
  pipelineWindow: number
  indexSizes: number[]
  meshSizes: number[]
  batch: number
  queries: number
  queryBudgetMs: number
  /** remember()/setState()/refresh() samples per size: many at 10k, few at 100k (each rescans the view) */
  meshSamples: (size: number) => number
}

const TARGETS = {
  notify2: 'p50 <= 10, p99 <= 50 ms (2 daemons)',
  notify5: 'p50 <= 50, p99 <= 200 ms (5 daemons)',
  notifyOther: 'none set (5 daemons: p50 <= 50, p99 <= 200 ms)',
  partition: 'converged <= 3 s',
  recall: 'p99 <= 10 ms at 100k',
  startup: '<= 1 s with 100k memories'
}

function config (argv: string[]): Config {
  const quick = argv.includes('--quick')
  const i = argv.indexOf('--only')
  let only: Section[] = [...SECTIONS]
  if (i !== -1) {
    only = String(argv[i + 1] ?? '').split(',').filter((s) => s !== '') as Section[]
    const bad = only.filter((s) => !SECTIONS.includes(s))
    if (bad.length > 0 || only.length === 0) throw new Error(`--only takes a comma-separated list of ${SECTIONS.join(', ')}`)
  }
  if (quick) {
    return {
      quick,
      only,
      daemons: [2, 4],
      warmup: 5,
      sets: () => 30,
      writers: () => ['member'],
      partitionWrites: 1000,
      pipelineWindow: 32,
      indexSizes: [10_000],
      meshSizes: [10_000],
      batch: 500,
      queries: 50,
      queryBudgetMs: 600,
      meshSamples: () => 3
    }
  }
  return {
    quick,
    only,
    daemons: [2, 5, 10],
    warmup: 20,
    sets: (n) => n >= 10 ? 100 : n >= 5 ? 150 : 200,
    writers: (n) => n === 2 ? ['member', 'owner'] : ['member'],
    partitionWrites: 1000,
    pipelineWindow: 32,
    indexSizes: [10_000, 100_000],
    meshSizes: [10_000, 100_000],
    batch: 500,
    queries: 200,
    queryBudgetMs: 1500,
    meshSamples: (size) => size >= 50_000 ? 3 : 10
  }
}

// -------------------------------------------------------------------------------------------------
// rows, figures, output helpers

type Unit = 's' | 'ms' | 'ops/s' | 'MB'

interface Row {
  section: string
  name: string
  latency?: Latency
  value?: number
  unit?: Unit
  target?: string
  note?: string
}

const rows: Row[] = []
const notes: string[] = []

function add (row: Row): void {
  rows.push(row)
  const parts = [`  ${row.name}:`]
  const l = row.latency
  if (l !== undefined) parts.push(`p50 ${fmt(l.p50)} ms, p99 ${fmt(l.p99)} ms, max ${fmt(l.max)} ms (n ${l.n})`)
  if (row.value !== undefined) parts.push(fmtValue(row.value, row.unit))
  if (row.note !== undefined) parts.push(`[${row.note}]`)
  console.log(parts.join(' '))
}

function fmtValue (x: number | undefined, unit: Unit | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return x === undefined ? '' : '-'
  if (unit === 'ops/s') return `${Math.round(x)} ops/s`
  if (unit === 'MB') return `${x.toFixed(1)} MB`
  if (unit === 's') return `${x < 10 ? x.toFixed(2) : x.toFixed(1)} s`
  return `${fmt(x)} ${unit ?? ''}`.trim()
}

function seconds (ms: number): number {
  return Math.round(ms) / 1000
}

const MB = 1024 * 1024

function mem (): { heap: number, rss: number } {
  gc()
  gc()
  const m = process.memoryUsage()
  return { heap: m.heapUsed, rss: m.rss }
}

function signedMB (bytes: number): string {
  const mb = Math.round(bytes / MB)
  return `${mb >= 0 ? '+' : '-'}${Math.abs(mb)} MB`
}

function rssOf (pid: number | null): number {
  if (pid === null) return NaN
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf-8'))
    return m === null ? NaN : Number(m[1]) * 1024
  } catch {
    return NaN
  }
}

/** set on SIGINT/SIGTERM: nothing new may start */
let interrupting = false
/** MCP sessions and daemons still starting: an interrupt waits for them before tearing down */
const starting = new Set<Promise<unknown>>()

function guard<T> (p: Promise<T>): Promise<T> {
  if (interrupting) return Promise.reject(new Error('interrupted'))
  starting.add(p)
  return p.finally(() => starting.delete(p))
}

/** The teardowns of one section, run when it ends (and by the global ones on an interrupt). */
function scopeOf (t: Teardowns): Teardowns {
  const scope = new Teardowns()
  t.teardown(() => scope.run(), { order: 0 })
  return scope
}

// -------------------------------------------------------------------------------------------------
// CPU per process, from /proc: what each role burnt during a section (as in bench/messaging.ts)

const cpu: Array<{ section: string, cores: Record<string, number> }> = []

class CpuMeter {
  private readonly machine = machineTicks()
  private readonly start = performance.now()
  private readonly self = process.cpuUsage()
  private readonly before = new Map<string, number>()

  constructor (private readonly roles: Record<string, Array<number | null>>) {
    for (const [role, pids] of Object.entries(roles)) this.before.set(role, cpuTicksOf(pids))
  }

  record (section: string): void {
    const wall = performance.now() - this.start
    const r2 = (x: number): number => Math.round(x * 100) / 100
    const b = process.cpuUsage(this.self)
    const cores: Record<string, number> = { bench: r2((b.user + b.system) / 1000 / wall) }
    for (const [role, pids] of Object.entries(this.roles)) cores[role] = r2((cpuTicksOf(pids) - (this.before.get(role) ?? 0)) * 10 / wall)
    const m = machineTicks()
    cores.machine = r2((m.busy - this.machine.busy) / Math.max(1, m.total - this.machine.total) * os.cpus().length)
    cpu.push({ section, cores })
    console.log(`  cpu (cores busy of ${os.cpus().length}): ${Object.entries(cores).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')}`)
  }
}

// -------------------------------------------------------------------------------------------------
// the corpus: memory entries and queries from real technical English, deterministic

function prng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6D2B79F5) >>> 0
    let x = a
    x = Math.imul(x ^ (x >>> 15), x | 1)
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

const TAGS = ['deploy', 'database', 'testing', 'frontend', 'backend', 'infra', 'security', 'release', 'docs', 'oncall',
  'performance', 'api', 'build', 'ci', 'design', 'migration', 'monitoring', 'auth', 'cache', 'network']

const BY: Author = { session: 'bench', sessionId: null, member: 'bench' }

class Corpus {
  readonly words: string[]
  readonly vocabulary: number

  constructor () {
    const dir = path.join(ROOT, 'node_modules')
    const files = (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.toLowerCase().endsWith('.md')).sort()
    let text = fs.existsSync(path.join(ROOT, 'README.md')) ? fs.readFileSync(path.join(ROOT, 'README.md'), 'utf-8') : ''
    for (const f of files) {
      if (text.length > 3 * MB) break
      try { text += '\n' + fs.readFileSync(path.join(dir, f), 'utf-8') } catch {}
    }
    this.words = (text.toLowerCase().match(/[a-z]+/g) ?? []).filter((w) => w.length <= 20)
    if (this.words.length < 20_000) throw new Error(`too little text for the corpus (${this.words.length} words in node_modules/**/*.md)`)
    this.vocabulary = new Set(this.words).size
  }

  /** Entry i: the same content and tags on every run. */
  entry (i: number): MemoryEntry {
    const r = prng(i * 2654435761 + 1)
    const len = 10 + Math.floor(r() * 51)
    const start = Math.floor(r() * (this.words.length - len))
    const tags: string[] = []
    const nTags = Math.floor(r() * 4)
    for (let k = 0; k < nTags; k++) { const tag = TAGS[Math.floor(r() * TAGS.length)]; if (!tags.includes(tag)) tags.push(tag) }
    const id = (i.toString(16).padStart(8, '0') + toHex(randomBytes(12))).slice(0, 32)
    return { id, content: this.words.slice(start, start + len).join(' '), tags, by: BY, at: 1_700_000_000_000 + i, writer: 'bench' }
  }

  /** A word drawn as it occurs in the text (common words often), with a length in [min, max]. */
  word (r: () => number, min: number, max = 20): string {
    for (;;) {
      const w = this.words[Math.floor(r() * this.words.length)]
      if (w.length >= min && w.length <= max) return w
    }
  }
}

interface QueryKind { name: string, queries: Array<{ query: string, expect?: string }> }

/** Query kinds; `expect` is the word a typo query should still find. */
function queryKinds (corpus: Corpus, n: number): QueryKind[] {
  const r = prng(42)
  const typo = (w: string): string => {
    const i = 1 + Math.floor(r() * (w.length - 2))
    let c = w[i]
    while (c === w[i]) c = String.fromCharCode(97 + Math.floor(r() * 26))
    return w.slice(0, i) + c + w.slice(i + 1)
  }
  const list = (fn: () => { query: string, expect?: string }): QueryKind['queries'] => Array.from({ length: n }, fn)
  return [
    { name: 'exact word', queries: list(() => ({ query: corpus.word(r, 5) })) },
    { name: 'two exact words', queries: list(() => ({ query: `${corpus.word(r, 5)} ${corpus.word(r, 5)}` })) },
    { name: 'prefix (3-4 letters)', queries: list(() => { const w = corpus.word(r, 7); return { query: w.slice(0, 3 + Math.floor(r() * 2)) } }) },
    { name: 'typo (1 letter, word >= 6)', queries: list(() => { const w = corpus.word(r, 6); return { query: typo(w), expect: w } }) },
    { name: 'two words with typos', queries: list(() => { const a = corpus.word(r, 6); return { query: `${typo(a)} ${typo(corpus.word(r, 6))}`, expect: a } }) },
    { name: 'stop word "the"', queries: list(() => ({ query: 'the' })) }
  ]
}

/** Runs each kind's queries until `budget` ms or the list is spent (at least 3), after 2 warm-ups. */
async function recallSeries (section: string, label: string, kinds: QueryKind[], cfg: Config, recall: (q: string) => Promise<Array<{ content: string }>> | Array<{ content: string }>, target?: string): Promise<void> {
  for (const kind of kinds) {
    for (const q of kind.queries.slice(0, 2)) await recall(q.query)
    const samples: number[] = []
    let found = 0
    let checked = 0
    const started = performance.now()
    for (const q of kind.queries) {
      const t0 = performance.now()
      const hits = await recall(q.query)
      samples.push(performance.now() - t0)
      if (q.expect !== undefined) { checked++; if (hits.some((h) => h.content.split(' ').includes(q.expect ?? ''))) found++ }
      if (samples.length >= 3 && performance.now() - started > cfg.queryBudgetMs) break
    }
    const note = checked > 0 ? `${Math.round(100 * found / checked)} % found the misspelt word` : undefined
    add({ section, name: `${label}: ${kind.name}`, latency: latency(samples), target, note })
  }
}

// -------------------------------------------------------------------------------------------------
// the mesh of real daemons

async function createMesh (t: Teardowns, relay: RelayProcess, labels: string[]): Promise<Member[]> {
  const owner = new Member(t, labels[0])
  await guard(owner.json('create', MESH, '--relay', `${relay.key}@${relay.address}`))
  return await growMesh(t, [owner], labels.slice(1))
}

/** More daemons join with one multi-use invite, all at once; every daemon then waits for full connectivity. */
async function growMesh (t: Teardowns, members: Member[], labels: string[]): Promise<Member[]> {
  if (labels.length === 0) return members
  const invite = await members[0].json<{ link: string }>('invite', '--mesh', MESH, '--uses', String(labels.length))
  const fresh = labels.map((label) => new Member(t, label))
  const results = await guard(Promise.all(fresh.map((m) => m.run('join', invite.link))))
  results.forEach((r, i) => check(r, `join of ${labels[i]}`))
  const all = [...members, ...fresh]
  await Promise.all(all.map((m) => m.wait({ mesh: MESH, members: all.length, connected: all.length - 1, timeoutMs: 120_000 })))
  return all
}

// -------------------------------------------------------------------------------------------------
// 1. set_state -> state_change notification

interface PendingSet { t0: number, expected: number, arrivals: number[], done: () => void, promise: Promise<void> }

const pendingSets = new Map<string, PendingSet>()
let strayNotifications = 0

async function stateSession (scope: Teardowns, home: string, name: string): Promise<McpSession> {
  const s = await guard(McpSession.start(scope, home, ['--name', name]))
  // our own handler: match by value, and keep no list
  s.client.fallbackNotificationHandler = async (n) => {
    const at = performance.now()
    if (n.method !== 'notifications/claude/channel') return
    const meta = (n.params as { meta?: Record<string, string> } | undefined)?.meta
    if (meta?.kind !== 'state_change') return
    let tag: unknown = null
    try { tag = JSON.parse(meta.value) } catch {}
    const p = typeof tag === 'string' ? pendingSets.get(tag) : undefined
    if (p === undefined) { strayNotifications++; return }
    p.arrivals.push(at - p.t0)
    if (p.arrivals.length === p.expected) p.done()
  }
  return s
}

async function within (p: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), ms) })
  try {
    return await Promise.race([p.then(() => true), timeout])
  } finally {
    clearTimeout(timer)
  }
}

let setSeq = 0

async function notifySeries (members: Member[], sessions: McpSession[], writer: number, cfg: Config): Promise<{ all: number[], last: number[], acks: number[], lost: number }> {
  const all: number[] = []
  const last: number[] = []
  const acks: number[] = []
  let lost = 0
  const sets = cfg.sets(members.length)
  for (let i = 0; i < cfg.warmup + sets; i++) {
    const tag = `v${setSeq++}`
    let done!: () => void
    const promise = new Promise<void>((resolve) => { done = resolve })
    const p: PendingSet = { t0: 0, expected: members.length - 1, arrivals: [], done, promise }
    pendingSets.set(tag, p)
    p.t0 = performance.now()
    const res = await sessions[writer].call('set_state', { key: `bench/k${i % 16}`, value: tag })
    const ack = performance.now() - p.t0
    if (res.isError) throw new Error(`set_state failed: ${res.text}`)
    const ok = await within(p.promise, 10_000)
    pendingSets.delete(tag)
    if (i < cfg.warmup) continue
    if (!ok) lost++
    all.push(...p.arrivals)
    if (ok) last.push(Math.max(...p.arrivals))
    acks.push(ack)
  }
  return { all, last, acks, lost }
}

async function benchNotify (t: Teardowns, relay: RelayProcess, cfg: Config): Promise<void> {
  const scope = scopeOf(t)
  try {
    let setup = performance.now()
    let members = await createMesh(scope, relay, ['d0', 'd1'])
    console.log(`  2 daemons up and connected in ${seconds(performance.now() - setup)} s`)
    const sessions: McpSession[] = []
    for (const n of cfg.daemons) {
      if (members.length < n) {
        setup = performance.now()
        members = await growMesh(scope, members, Array.from({ length: n - members.length }, (_, i) => `d${members.length + i}`))
        console.log(`  grown to ${n} daemons (joined at once) and fully connected in ${seconds(performance.now() - setup)} s`)
      }
      setup = performance.now()
      for (let i = sessions.length; i < members.length; i++) sessions.push(await stateSession(scope, members[i].home, `s${i}`))
      await Promise.all(members.map((m) => m.wait({ mesh: MESH, sessions: members.length, timeoutMs: 60_000 })))
      console.log(`  ${members.length} MCP sessions up, every roster full, in ${seconds(performance.now() - setup)} s`)
      const section = `notify, ${n} daemons`
      const target = n === 2 ? TARGETS.notify2 : n === 5 ? TARGETS.notify5 : TARGETS.notifyOther
      for (const who of cfg.writers(n)) {
        const writer = who === 'owner' ? 0 : members.length - 1
        console.log(`\n[${section}] set_state by the ${who === 'owner' ? 'owner (the only indexer)' : 'newest member (a non-indexer)'}: ${cfg.warmup} warm-up + ${cfg.sets(n)} sequential sets`)
        const meter = new CpuMeter({ daemons: members.map((m) => m.pid()), mcp: sessions.map((s) => s.pid), relay: [relay.child.pid ?? null] })
        const res = await notifySeries(members, sessions, writer, cfg)
        const by = `by the ${who}`
        add({ section, name: `set_state ${by} -> notification on another daemon`, latency: latency(res.all), target, note: `${n - 1} receivers x ${cfg.sets(n)} sets${res.lost > 0 ? `; ${res.lost} sets not seen everywhere within 10 s` : ''}` })
        if (n > 2) add({ section, name: `set_state ${by} -> last of ${n - 1} notifications`, latency: latency(res.last) })
        add({ section, name: `set_state ${by}: call -> its reply`, latency: latency(res.acks) })
        meter.record(`${section}: sets ${by}`)
      }
    }
  } finally {
    await scope.run()
  }
}

// -------------------------------------------------------------------------------------------------
// 2a. partition with real daemons: stop, write alone, restart, converge

/** Splits `total` writes over `peers`; the first write of each is to one shared key, concurrently. */
function partitionKeys (labels: string[], total: number): string[][] {
  return labels.map((label, p) => {
    const share = Math.floor(total / labels.length) + (p < total % labels.length ? 1 : 0)
    return Array.from({ length: share }, (_, i) => i === 0 ? 'leader' : `part/${label}/${i}`)
  })
}

function sameViews (views: StateEntry[][]): boolean {
  const norm = (v: StateEntry[]): string => JSON.stringify([...v].sort((a, b) => a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  return views.every((v) => norm(v) === norm(views[0]))
}

async function benchPartitionDaemons (t: Teardowns, relay: RelayProcess, cfg: Config): Promise<void> {
  const scope = scopeOf(t)
  const section = 'partition, real daemons'
  try {
    console.log(`\n[${section}] 3 daemons; each started alone writes its share of ${cfg.partitionWrites} state.set over the daemon IPC; then all restart`)
    const members = await createMesh(scope, relay, ['pa', 'pb', 'pc'])
    const keys = partitionKeys(members.map((m) => m.label), cfg.partitionWrites)
    const unique = new Set(keys.flat()).size
    await Promise.all(members.map((m) => m.stop()))
    for (const [p, m] of members.entries()) {
      check(await guard(m.run('daemon', 'start')), `daemon start of ${m.label}`)
      const client = await IpcClient.connect(homePaths(m.home).socket)
      try {
        const set = (key: string, i: number): Promise<unknown> => client.request('state.set', { key, value: { by: m.label, i } })
        const t0 = performance.now()
        if (p === 0) {
          const each: number[] = []
          for (const [i, key] of keys[p].entries()) { const s = performance.now(); await set(key, i); each.push(performance.now() - s) }
          const ms = performance.now() - t0
          add({ section, name: `state.set over IPC, one at a time (${m.label} alone, ${keys[p].length})`, latency: latency(each), value: keys[p].length / (ms / 1000), unit: 'ops/s' })
        } else {
          await pipeline(keys[p].length, cfg.pipelineWindow, (i) => set(keys[p][i], i))
          const ms = performance.now() - t0
          add({ section, name: `state.set over IPC, ${cfg.pipelineWindow} in flight (${m.label} alone, ${keys[p].length})`, value: keys[p].length / (ms / 1000), unit: 'ops/s' })
        }
      } finally {
        client.close()
      }
      await m.stop()
    }
    const meter = new CpuMeter({ relay: [relay.child.pid ?? null] })
    const t0 = performance.now()
    const times = await guard(Promise.all(members.map(async (m) => {
      check(await m.run('daemon', 'start'), `restart of ${m.label}`)
      const started = performance.now() - t0
      const [connected, converged] = await Promise.all([
        m.wait({ mesh: MESH, connected: members.length - 1, timeoutMs: 120_000 }).then(() => performance.now() - t0),
        m.wait({ mesh: MESH, state: unique, timeoutMs: 120_000 }).then(() => performance.now() - t0)
      ])
      return { started, connected, converged }
    })))
    const daemonCpu = members.map((m) => { const pid = m.pid(); return pid === null ? NaN : cpuTicks(pid) * 10 / 1000 })
    const started = Math.max(...times.map((x) => x.started))
    const connected = Math.max(...times.map((x) => x.connected))
    const converged = Math.max(...times.map((x) => x.converged))
    meter.record(`${section}: restart and converge (daemons count under machine)`)
    const views = await Promise.all(members.map((m) => m.ipc('state.list', { mesh: MESH })))
    const identical = sameViews(views)
    const leaders = views.map((v) => JSON.stringify(v.find((e) => e.key === 'leader')?.value))
    add({ section, name: 'restart all 3 -> every daemon started (claudemesh daemon start)', value: seconds(started), unit: 's' })
    add({ section, name: 'restart all 3 -> all connected to each other', value: seconds(connected), unit: 's' })
    add({ section, name: `restart all 3 -> every view holds all ${unique} keys`, value: seconds(converged), unit: 's', target: TARGETS.partition, note: `${cfg.partitionWrites} writes (${unique} keys, "leader" written by all 3); views ${identical ? 'identical' : 'DIFFER'}; leader ${leaders[0]} everywhere: ${leaders.every((l) => l === leaders[0])}` })
    add({ section, name: 'all connected -> every view holds every key', value: seconds(Math.max(0, converged - connected)), unit: 's', target: TARGETS.partition, note: `convergence once the network is back; CPU of each daemon from its start to converged: ${daemonCpu.map((x) => x.toFixed(1)).join(', ')} s` })
    if (!identical) notes.push('partition, real daemons: the three state views differ after convergence')
  } finally {
    await scope.run()
  }
}

// -------------------------------------------------------------------------------------------------
// 2b. partition in-process: Mesh objects, in-memory streams cut and re-linked (as test/apply.test.ts)

interface Peer { mesh: Mesh, store: Corestore, signing: KeyPair, swarm: KeyPair, label: string }

async function inProcessPeer (t: Teardowns, label: string, config: Partial<MeshConfig> & { encryptionKey: string }): Promise<Peer> {
  const dir = tmpDir(t, `cm-bench-${label}-`)
  const store = new Corestore(dir)
  const signing = keyPair()
  const swarm = keyPair()
  const mesh = new Mesh(store, {
    name: MESH, namespace: 'mesh', key: null, relay: { publicKey: toHex(randomBytes(32)), addresses: ['127.0.0.1:1'], embedded: false }, owner: false, createdAt: 0, ...config
  }, { signing, swarmKey: swarm.publicKey, label })
  t.teardown(async () => { await mesh.close(); await store.close() }, { order: 20 })
  await mesh.ready()
  return { mesh, store, signing, swarm, label }
}

type Stream = NodeJS.ReadWriteStream & { destroy (): void, on (e: string, f: () => void): void }

/** Replicates two peers over an in-memory stream pair; returns the cut. */
function link (a: Peer, b: Peer): () => void {
  const s1 = a.mesh.base.replicate(true) as Stream
  const s2 = b.mesh.base.replicate(false) as Stream
  s1.on('error', () => {})
  s2.on('error', () => {})
  s1.pipe(s2).pipe(s1)
  return () => { s1.destroy(); s2.destroy() }
}

function joinOp (owner: Peer, p: Peer): JoinOp {
  const seed = randomBytes(32)
  const expires = Date.now() + 60_000
  const created = BlindPairing.createInvite(owner.mesh.key, { seed, expires, data: randomBytes(16) })
  const cert = signInviteCert(owner.mesh.key, { invitePublicKey: toHex(keyPair(seed).publicKey), role: 'member', uses: 1, expires }, owner.signing.secretKey)
  const userData = encodeMemberKeys({ writerKey: p.mesh.base.local.key, swarmKey: p.swarm.publicKey, signingKey: p.signing.publicKey })
  return { type: 'join', v: 1, at: Date.now(), label: p.label, cert, receipt: toHex(createReceipt(created.invite, userData).receipt) }
}

/** Resolves with the time the mesh emits 'state' for key = value, or NaN after `ms`. */
function stateEvent (mesh: Mesh, key: string, value: unknown, ms: number): Promise<number> {
  return new Promise((resolve) => {
    const on = (k: string, entry: StateEntry | undefined): void => {
      if (k !== key || entry?.value !== value) return
      cleanup()
      resolve(performance.now())
    }
    const timer = setTimeout(() => { cleanup(); resolve(NaN) }, ms)
    const cleanup = (): void => { clearTimeout(timer); mesh.off('state', on) }
    mesh.on('state', on)
  })
}

function untilStateCount (mesh: Mesh, n: number, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const check = (): void => { if (mesh.stateCount === n) { cleanup(); resolve(true) } }
    const timer = setTimeout(() => { cleanup(); resolve(false) }, ms)
    const cleanup = (): void => { clearTimeout(timer); mesh.off('state', check) }
    mesh.on('state', check)
    check()
  })
}

async function benchPartitionInProcess (t: Teardowns, cfg: Config): Promise<void> {
  const scope = scopeOf(t)
  const section = 'partition, in-process'
  const cuts: Array<() => void> = []
  scope.teardown(() => { for (const cut of cuts.splice(0)) cut() }, { order: 10 })
  try {
    console.log(`\n[${section}] 3 Mesh objects, in-memory streams cut, ${cfg.partitionWrites} Mesh.setState while cut, then re-linked`)
    const encryptionKey = toHex(randomBytes(32))
    const owner = await inProcessPeer(scope, 'ia', { encryptionKey, owner: true })
    await owner.mesh.init()
    const key = owner.mesh.keyHex
    const b = await inProcessPeer(scope, 'ib', { encryptionKey, key })
    const c = await inProcessPeer(scope, 'ic', { encryptionKey, key })
    const peers = [owner, b, c]
    const linkAll = (): void => { cuts.push(link(owner, b), link(owner, c), link(b, c)) }
    linkAll()
    for (const p of [b, c]) await p.mesh.join(joinOp(owner, p), AbortSignal.timeout(30_000))
    for (const p of peers) await p.mesh.until(() => p.mesh.members.length === 3, AbortSignal.timeout(30_000))

    // the floor of the notify figures: no network, IPC or MCP, only autobase, the view and refresh()
    const floor: number[] = []
    const floorSets = cfg.quick ? 30 : 100
    for (let i = 0; i < 10 + floorSets; i++) {
      const seen = [owner, c].map((p) => stateEvent(p.mesh, 'floor', i, 10_000))
      const t0 = performance.now()
      await b.mesh.setState('floor', i, { session: null, sessionId: null, member: b.label })
      const at = await Promise.all(seen)
      if (i >= 10) floor.push(...at.map((x) => x - t0))
    }
    add({ section, name: 'floor: Mesh.setState by a member -> \'state\' event on the 2 other meshes', latency: latency(floor.filter(Number.isFinite)), note: `in-memory links, one thread; ${floorSets} sets after 10 of warm-up${floor.some((x) => !Number.isFinite(x)) ? '; some not seen within 10 s' : ''}` })

    for (const cut of cuts.splice(0)) cut()

    const keys = partitionKeys(peers.map((p) => p.label), cfg.partitionWrites)
    const unique = new Set(keys.flat()).size
    const expected = owner.mesh.stateCount + unique // the floor's key is there too
    const each: number[] = []
    const t0 = performance.now()
    for (const [i, p] of peers.entries()) {
      for (const [j, k] of keys[i].entries()) {
        const s = performance.now()
        await p.mesh.setState(k, { by: p.label, i: j }, { session: null, sessionId: null, member: p.label })
        each.push(performance.now() - s)
      }
    }
    add({ section, name: `Mesh.setState one at a time while cut (${cfg.partitionWrites})`, latency: latency(each), value: cfg.partitionWrites / ((performance.now() - t0) / 1000), unit: 'ops/s' })

    const meter = new CpuMeter({})
    const start = performance.now()
    linkAll()
    const ok = await Promise.all(peers.map(async (p) => { const r = await untilStateCount(p.mesh, expected, 120_000); return { r, at: performance.now() - start } }))
    const converged = Math.max(...ok.map((x) => x.at))
    meter.record(`${section}: re-link and converge (all three meshes in the bench process)`)
    const views = await Promise.all(peers.map((p) => p.mesh.listState()))
    const identical = sameViews(views)
    add({ section, name: `re-link -> every view holds all ${unique} keys`, value: seconds(converged), unit: 's', target: TARGETS.partition, note: `${ok.every((x) => x.r) ? '' : 'TIMED OUT; '}views ${identical ? 'identical' : 'DIFFER'}; leader ${JSON.stringify(views[0].find((e) => e.key === 'leader')?.value)}` })
  } finally {
    await scope.run()
  }
}

// -------------------------------------------------------------------------------------------------
// 3. the MemoryIndex on its own

async function benchIndex (cfg: Config, corpus: Corpus, kinds: QueryKind[]): Promise<void> {
  const section = 'index (MemoryIndex alone)'
  console.log(`\n[${section}] MiniSearch over content and tags, prefix and fuzzy 0.2, OR; entries from a ${corpus.vocabulary}-word vocabulary`)
  let index: MemoryIndex | null = new MemoryIndex()
  const before = mem()
  let buildMs = 0
  let built = 0
  for (const size of cfg.indexSizes) {
    const chunk: MemoryEntry[] = []
    for (let i = built; i < size; i++) chunk.push(corpus.entry(i))
    const t0 = performance.now()
    for (const e of chunk) index.add(e)
    buildMs += performance.now() - t0
    built = size
    const now = mem()
    const label = `${size / 1000}k`
    add({ section, name: `build ${label} entries (MemoryIndex.add, one by one)`, value: seconds(buildMs), unit: 's', note: `${Math.round(size / (buildMs / 1000))} entries/s` })
    add({ section, name: `heap held by the index of ${label} (entries included)`, value: (now.heap - before.heap) / MB, unit: 'MB', note: `RSS ${signedMB(now.rss - before.rss)}` })
    const idx = index
    await recallSeries(section, `recall at ${label}`, kinds, cfg, (q) => idx.recall(q, 10), size >= 100_000 ? TARGETS.recall : undefined)
  }
  index = null
  mem()
}

// -------------------------------------------------------------------------------------------------
// 4. a real daemon home, filled through a Mesh; start-up of the Mesh and of the daemon

/** Where the daemon keeps the bench mesh's memory snapshot. */
function snapshotOf (home: string): string {
  const configs = JSON.parse(fs.readFileSync(homePaths(home).meshes, 'utf-8')) as MeshConfig[]
  const config = configs.find((c) => c.name === MESH)
  if (config === undefined) throw new Error(`no mesh ${MESH} in ${homePaths(home).meshes}`)
  return path.join(meshDir(homePaths(home), config.namespace), 'memory-index.json')
}

async function openHomeMesh (home: string, log: (line: string) => void = () => {}): Promise<{ mesh: Mesh, store: Corestore }> {
  const paths = homePaths(home)
  const store = new Corestore(paths.store)
  await store.ready()
  const configs = JSON.parse(fs.readFileSync(paths.meshes, 'utf-8')) as MeshConfig[]
  const config = configs.find((c) => c.name === MESH)
  if (config === undefined) throw new Error(`no mesh ${MESH} in ${paths.meshes}`)
  const signing = await store.createKeyPair('claudemesh/signing')
  const swarm = await store.createKeyPair('hyperswarm')
  const mesh = new Mesh(store, config, { signing, swarmKey: swarm.publicKey, label: 'mem' }, { memorySnapshot: snapshotOf(home), log })
  return { mesh, store }
}

/** Spawns the daemon's main.js as the CLI does and resolves when it prints "ready" (the index is built by then). */
async function spawnDaemon (t: Teardowns, m: Member): Promise<{ ms: number, pid: number }> {
  const child = spawn(process.execPath, [DAEMON_MAIN], { stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, CLAUDEMESH_HOME: m.home, ...m.env } })
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') }, { order: 11 })
  const t0 = performance.now()
  const line = await guard(new Promise<string>((resolve) => {
    let out = ''
    const timer = setTimeout(() => resolve('timeout'), 300_000)
    child.stdout?.setEncoding('utf-8').on('data', (d: string) => {
      out += d
      const nl = out.indexOf('\n')
      if (nl !== -1) { clearTimeout(timer); resolve(out.slice(0, nl).trim()) }
    })
    child.once('exit', (code) => { clearTimeout(timer); resolve(`exited ${String(code)}`) })
  }))
  const ms = performance.now() - t0
  child.stdout?.destroy()
  if (!line.startsWith('ready ')) throw new Error(`daemon of ${m.label} did not start: ${line}`)
  return { ms, pid: Number(line.slice(6)) }
}

async function samplesOf (n: number, fn: (i: number) => Promise<unknown>): Promise<number[]> {
  const out: number[] = []
  for (let i = 0; i < n; i++) {
    const t0 = performance.now()
    await fn(i)
    out.push(performance.now() - t0)
  }
  return out
}

async function fill (mesh: Mesh, corpus: Corpus, from: number, to: number, batch: number, progress: string): Promise<void> {
  let last = performance.now()
  for (let i = from; i < to; i += batch) {
    const ops = []
    for (let j = i; j < Math.min(to, i + batch); j++) {
      const e = corpus.entry(j)
      ops.push({ type: 'memory.add', v: 1, at: e.at, id: e.id, content: e.content, tags: e.tags, by: e.by })
    }
    await mesh.base.append(ops)
    if (performance.now() - last > 10_000) { last = performance.now(); console.log(`  ${progress}: ${i + batch - from} of ${to - from} appended`) }
  }
  await mesh.base.update()
}

async function benchStartup (t: Teardowns, relay: RelayProcess, cfg: Config, corpus: Corpus, kinds: QueryKind[]): Promise<void> {
  const scope = scopeOf(t)
  const section = 'memory through a Mesh, and start-up'
  try {
    console.log(`\n[${section}] a real daemon home (mesh on the relay, daemon stopped), its view filled in-process in batches of ${cfg.batch} memory.add`)
    const member = new Member(scope, 'mem')
    await guard(member.json('create', MESH, '--relay', `${relay.key}@${relay.address}`))
    await member.stop()
    const empty = await spawnDaemon(scope, member)
    add({ section, name: 'daemon start, empty mesh (main.js -> "ready")', value: seconds(empty.ms), unit: 's', note: `RSS ${(rssOf(empty.pid) / MB).toFixed(0)} MB` })
    await member.stop()

    let opened: { mesh: Mesh, store: Corestore } | null = await openHomeMesh(member.home)
    const shut = async (): Promise<void> => {
      if (opened === null) return
      const { mesh, store } = opened
      opened = null // unreachable from here on, so the next heap figure does not count it
      await mesh.close()
      await store.close()
    }
    scope.teardown(shut, { order: 9 })
    await opened.mesh.ready()
    let count = 0
    let extra = 0
    // the mesh is passed to these two rather than held in a variable of the loop, so that nothing
    // keeps the closed one reachable when the heap is measured before the reopen
    const write = async (mesh: Mesh, k: number, from: number, size: number, label: string): Promise<void> => {
      // the first size is written as a daemon would take it in (refreshing on every update); the rest
      // with the update listener detached (apply only), as the reopen below indexes them anyway
      const attached = k === 0
      if (!attached) for (const l of mesh.base.listeners('update') as Array<() => void>) mesh.base.off('update', l)
      const t0 = performance.now()
      await fill(mesh, corpus, from, size, cfg.batch, `to ${label}`)
      const appended = performance.now() - t0
      const n = size - from
      if (attached) {
        await mesh.refresh()
        add({ section, name: `append ${n} memory.add (the Mesh refreshing on every update, as in a daemon)`, value: n / (appended / 1000), unit: 'ops/s', note: `appended in ${seconds(appended)} s, all indexed ${seconds(performance.now() - t0)} s after the first append` })
      } else {
        add({ section, name: `append ${n} memory.add (update listener detached: apply only)`, value: n / (appended / 1000), unit: 'ops/s', note: `${seconds(appended)} s` })
      }
    }
    const probe = async (mesh: Mesh, k: number, size: number, label: string, samples: number): Promise<void> => {
      add({ section, name: `Mesh.refresh() with nothing new, ${label} in the view`, latency: latency(await samplesOf(samples, () => mesh.refresh())), note: 'what every view update pays at least (members and state read in full, memory diffed)' })
      add({ section, name: `Mesh.remember() with ${label} in the view`, latency: latency(await samplesOf(samples, (i) => mesh.remember(`bench remember ${size} ${i}`, ['bench'], BY))) })
      add({ section, name: `Mesh.setState() with ${label} memories in the view`, latency: latency(await samplesOf(samples, (i) => mesh.setState('bench/startup', i, BY))) })
      // what a refresh pays when the view was truncated (autobase reordered it after a merge): a full rescan
      const truncated = (mesh.base.view.core as unknown as { emit?: (e: string, length: number) => void }).emit
      if (typeof truncated === 'function') {
        add({ section, name: `Mesh.refresh() after a view truncation, ${label} in the view (full rescan)`, latency: latency(await samplesOf(size >= 50_000 ? 1 : 3, async () => { truncated.call(mesh.base.view.core, 'truncate', mesh.base.view.core.length); await mesh.refresh() })), note: 'the view core\'s truncate event emitted by hand' })
      } else if (k === 0) {
        notes.push('the view core has no emit(): the full-rescan figure was skipped')
      }
    }
    for (const [k, size] of cfg.meshSizes.entries()) {
      const label = `${size / 1000}k`
      await write((opened as { mesh: Mesh }).mesh, k, count, size, label)
      count = size
      await shut()
      const before = mem()
      const logged: string[] = []
      const snapshotMB = fs.existsSync(snapshotOf(member.home)) ? fs.statSync(snapshotOf(member.home)).size / MB : 0
      opened = await openHomeMesh(member.home, (line) => logged.push(line))
      const r0 = performance.now()
      await opened.mesh.ready()
      const readyMs = performance.now() - r0
      await opened.mesh.memoryReady()
      const indexMs = performance.now() - r0
      const after = mem()
      const indexed = opened.mesh.memory.size
      add({ section, name: `Mesh.ready() on a store holding ${label} memories (the index loads in the background)`, value: seconds(readyMs), unit: 's', target: size >= 100_000 ? TARGETS.startup : undefined })
      add({ section, name: `  -> its memory index ready (snapshot loaded, then diffed forward)`, value: seconds(indexMs), unit: 's', note: `snapshot ${snapshotMB.toFixed(1)} MB: ${logged.find((l) => l.includes('snapshot')) ?? 'none'}; heap ${signedMB(after.heap - before.heap)}, RSS ${signedMB(after.rss - before.rss)}; index ${indexed}` })
      if (indexed !== count + extra) notes.push(`the Mesh's index holds ${indexed} entries, expected ${count + extra}`)
      const samples = cfg.meshSamples(size)
      await probe(opened.mesh, k, size, label, samples)
      extra += samples
    }
    const total = (opened as { mesh: Mesh } | null)?.mesh.memory.size ?? 0
    await shut()
    mem()

    const label = `${Math.round(total / 1000)}k`
    const snapshotMB = fs.statSync(snapshotOf(member.home)).size / MB
    const d0 = performance.now()
    const started = await spawnDaemon(scope, member)
    await member.wait({ mesh: MESH, memory: total, timeoutMs: 120_000 })
    const indexMs = performance.now() - d0
    const rss = rssOf(started.pid)
    add({ section, name: `daemon start with ${total} memories (main.js -> "ready")`, value: seconds(started.ms), unit: 's', target: cfg.meshSizes.includes(100_000) ? TARGETS.startup : undefined, note: `the memory index loads after "ready"${started.ms > 30_000 ? '; longer than the 30 s `claudemesh daemon start` waits (peer/cli/daemon-client.ts:11)' : ''}` })
    add({ section, name: `  -> its memory index ready (recall answers; spawn -> wait({ memory }))`, value: seconds(indexMs), unit: 's', note: `from the snapshot the Mesh above saved (${snapshotMB.toFixed(1)} MB); RSS ${(rss / MB).toFixed(0)} MB once loaded` })
    const client = await IpcClient.connect(homePaths(member.home).socket)
    try {
      await recallSeries(section, `recall over IPC at ${label}`, kinds, cfg, (q) => client.request('memory.recall', { query: q, limit: 10 }), cfg.meshSizes.includes(100_000) ? TARGETS.recall : undefined)
      const n = cfg.meshSamples(total)
      add({ section, name: `memory.remember over IPC with ${label} in the view`, latency: latency(await samplesOf(n, (i) => client.request('memory.remember', { content: `bench daemon remember ${i}`, tags: ['bench'] }))) })
      add({ section, name: `state.set over IPC with ${label} memories in the view`, latency: latency(await samplesOf(n, (i) => client.request('state.set', { key: 'bench/daemon', value: i }))) })
    } finally {
      client.close()
    }
    await member.stop()
  } finally {
    await scope.run()
  }
}

// -------------------------------------------------------------------------------------------------
// output

function printTable (cfg: Config): void {
  const w = Math.max(...rows.map((r) => r.name.length), 11)
  const col = (s: string, n: number): string => s.padStart(n)
  console.log(`\n${'measurement'.padEnd(w)} ${col('n', 5)} ${col('p50 ms', 9)} ${col('p99 ms', 9)} ${col('max ms', 9)} ${col('value', 12)}  target (issue 4); note`)
  let section = ''
  for (const r of rows) {
    if (r.section !== section) { section = r.section; console.log(`-- ${section}`) }
    const l = r.latency
    console.log([
      r.name.padEnd(w),
      col(l !== undefined ? String(l.n) : '', 5),
      col(l !== undefined ? fmt(l.p50) : '', 9),
      col(l !== undefined ? fmt(l.p99) : '', 9),
      col(l !== undefined ? fmt(l.max) : '', 9),
      col(fmtValue(r.value, r.unit), 12),
      ' ' + [r.target, r.note].filter((x) => x !== undefined && x !== '').join('; ')
    ].join(' '))
  }
  console.log(`\n${cfg.quick ? 'quick run: 2 and 4 daemons, 30 sets, 10k memories' : 'full run: 200 sets at 2 daemons, 150 at 5, 100 at 10 (fewer there: 21 processes on this machine)'}; latencies on one clock (the bench process); percentiles nearest-rank (with n < 100, p99 is the max).
The issue's targets are shown for reference, not checked.`)
  if (strayNotifications > 0) notes.push(`state_change notifications for no set in flight (late, or duplicates): ${strayNotifications}`)
  for (const n of notes) console.log(`note: ${n}`)
}

function writeResults (cfg: Config, loadBefore: number[], wallMs: number): void {
  const { meshSamples: _, sets: __, writers: ___, ...rest } = cfg
  const shown = { ...rest, sets: Object.fromEntries(cfg.daemons.map((n) => [n, cfg.sets(n)])), writers: Object.fromEntries(cfg.daemons.map((n) => [n, cfg.writers(n)])) }
  writeBenchResults('state-memory', cfg.quick, loadBefore, wallMs, { config: shown, targets: TARGETS, rows, cpu, notes })
}

async function bench (t: Teardowns, cfg: Config): Promise<void> {
  console.log(`claudemesh state and memory bench${cfg.quick ? ' (quick)' : ''}: node ${process.version}, ${os.cpus().length} cpus, load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}; sections ${cfg.only.join(', ')}`)
  const needsRelay = cfg.only.some((s) => s !== 'index')
  const relay = needsRelay ? await startRelay(t, { data: tmpDir(t, 'cm-bench-relay-') }) : null
  const mark = (what: string, since: number): void => { console.log(`  (${what}: ${seconds(performance.now() - since)} s)`) }
  let since = performance.now()
  if (relay !== null && cfg.only.includes('notify')) {
    console.log('\n[notify] real relay, daemons and one `claudemesh mcp` per daemon')
    await benchNotify(t, relay, cfg)
    mark('notify section', since)
  }
  since = performance.now()
  if (relay !== null && cfg.only.includes('partition')) {
    await benchPartitionDaemons(t, relay, cfg)
    await benchPartitionInProcess(t, cfg)
    mark('partition sections', since)
  }
  if (cfg.only.includes('index') || cfg.only.includes('startup')) {
    since = performance.now()
    const corpus = new Corpus()
    const kinds = queryKinds(corpus, cfg.queries)
    console.log(`\ncorpus: ${corpus.words.length} words of node_modules/**/*.md, ${corpus.vocabulary} distinct; entries of 10-60 words (mean ${Math.round(Array.from({ length: 1000 }, (_, i) => corpus.entry(i).content.length).reduce((a, b) => a + b, 0) / 1000)} chars)`)
    if (cfg.only.includes('index')) await benchIndex(cfg, corpus, kinds)
    mark('index section', since)
    since = performance.now()
    if (relay !== null && cfg.only.includes('startup')) await benchStartup(t, relay, cfg, corpus, kinds)
    mark('startup section', since)
  }
}

const cfg = config(process.argv.slice(2))
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
  }
})
