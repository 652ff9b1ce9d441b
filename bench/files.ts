// Benchmark: files between two daemons on loopback. Prints figures beside the targets, never pass/fail.
//
//   npm run bench:files [-- --quick] [-- --runs N] [-- --small N]
//
// A real relay and two daemons (A shares, B fetches), as separate processes, joined to one mesh.
//   throughput  files of 100 MiB and 1 GiB of random bytes (--quick: 100 MiB only), each run with a
//               fresh file: `files.share` on A (read the file, write it into A's drive: hash, blocks,
//               file.add op), then, once the share has reached B (wait { files: 1 }), `files.get` on B
//               (files this large come straight from A's store over the direct TCP link, the
//               claudemesh/files/v1 channel: sha256 verified, written to a temp file with fsync, linked
//               into place). Both timed at the IPC client. The result's sha256
//               is checked again by the bench. The daemons' CPU time (all threads) during the get is
//               read from /proc; "CPU ceiling" is the get's rate if each daemon had a core to itself
//               (bytes / max(CPU of A, CPU of B, their sum / 2)): on a shared machine the wall figures
//               follow the load, the ceiling much less.
//               Then the file is deleted (A clears its blocks, B any cached copy) before the next run.
//   baseline    the same runs again between two more daemons started with CLAUDEMESH_DIRECT_FILES=0:
//               B replicates the blocks from A into its own store over the TCP link, then reads them
//               back, as every get did before direct transfers.
//   floor       in the same run, the same bytes over a raw TCP loopback connection in this process:
//               read the file, pipe it into the socket, the receiver writes it to a file and fsyncs.
//   small       time to a fetched small file: N fresh 4 KiB files (default 30, after 3 of warm-up),
//               each shared on A, waited for on B, then fetched once; `files.get` latency end to end
//               (the first byte of a 4 KiB file is its last), the same get again once the block is on B
//               (the local part: temp file, fsync, link, file.access op), share, and share -> visible on B.
//
// Default runs: 3 of 100 MiB, 1 of 1 GiB (--runs N sets both). MB/s are 10^6 bytes per second.
// Writes bench/results/files.json (--quick: files-quick.json). Every process and temp folder it
// starts is torn down, even on error or Ctrl-C. Needs about 4 GiB free in the temp folder for 1 GiB.
import fs from 'node:fs'
import os from 'node:os'
import net from 'node:net'
import path from 'node:path'
import crypto from 'node:crypto'
import { pipeline } from 'node:stream/promises'
import { performance } from 'node:perf_hooks'
import { joinedHomes, tmpDir, type Member } from '../test/helpers/cli.js'
import { IpcClient } from '../peer/daemon/ipc-client.js'
import { homePaths } from '../peer/daemon/home.js'
import { writeBenchResults, latency, runBench, wallLine, timed, median, cpuTicks, type Latency, type Teardowns } from './common.js'

const MiB = 1024 * 1024
const GEN_CHUNK = 8 * MiB
const SMALL_BYTES = 4096
const SMALL_WARMUP = 3
const GET_TIMEOUT_S = 120

const TARGETS = {
  big: '>= 60 MB/s (1 GiB)',
  small: '<= 100 ms to a small file'
}

interface Config { quick: boolean, sizes: Array<{ bytes: number, runs: number }>, small: number }

function config (argv: string[]): Config {
  const quick = argv.includes('--quick')
  const num = (flag: string, min: number, max: number): number | null => {
    const i = argv.indexOf(flag)
    if (i === -1) return null
    const n = Number(argv[i + 1])
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${flag} must be a whole number from ${min} to ${max}`)
    return n
  }
  const runs = num('--runs', 1, 20)
  const small = num('--small', 1, 1000) ?? 30
  const sizes = [{ bytes: 100 * MiB, runs: runs ?? 3 }]
  if (!quick) sizes.push({ bytes: 1024 * MiB, runs: runs ?? 1 })
  return { quick, sizes, small }
}

// -------------------------------------------------------------------------------------------------
// figures

function mbps (bytes: number, ms: number): number {
  return Math.round(bytes / 1e6 / (ms / 1000) * 10) / 10
}

function sizeLabel (bytes: number): string {
  return bytes >= 1024 * MiB ? `${bytes / (1024 * MiB)} GiB` : `${bytes / MiB} MiB`
}

function range (xs: number[]): string {
  if (xs.length === 0) return '-'
  const lo = Math.min(...xs)
  const hi = Math.max(...xs)
  return lo === hi ? `${lo}` : `${lo}-${hi}`
}

// -------------------------------------------------------------------------------------------------
// helpers

/** A file of random bytes; returns its sha256. */
async function randomFile (file: string, bytes: number): Promise<string> {
  const hash = crypto.createHash('sha256')
  const fd = await fs.promises.open(file, 'w')
  try {
    for (let done = 0; done < bytes;) {
      const chunk = crypto.randomBytes(Math.min(GEN_CHUNK, bytes - done))
      hash.update(chunk)
      await fd.write(chunk)
      done += chunk.length
    }
  } finally {
    await fd.close()
  }
  return hash.digest('hex')
}

async function sha256File (file: string): Promise<string> {
  const hash = crypto.createHash('sha256')
  await pipeline(fs.createReadStream(file, { highWaterMark: MiB }), hash)
  return hash.digest('hex')
}

/** User + system CPU seconds a process has used so far (Linux /proc), or null elsewhere. */
function cpuSeconds (pid: number | null): number | null {
  if (pid === null) return null
  const ticks = cpuTicks(pid)
  return Number.isNaN(ticks) ? null : ticks / 100 // clock ticks, USER_HZ 100
}

function cpuDelta (before: number | null, after: number | null): number | null {
  return before === null || after === null ? null : Math.round((after - before) * 100) / 100
}

/** The floor: the file's bytes over a raw TCP loopback connection into a file, fsynced. */
async function tcpCopy (src: string, dest: string): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  try {
    const port = (server.address() as net.AddressInfo).port
    const received = new Promise<void>((resolve, reject) => {
      server.once('connection', (sock) => {
        pipeline(sock, fs.createWriteStream(dest, { flush: true })).then(resolve, reject)
      })
    })
    const start = performance.now()
    const sock = net.connect(port, '127.0.0.1')
    await new Promise<void>((resolve, reject) => { sock.once('connect', resolve); sock.once('error', reject) })
    await Promise.all([pipeline(fs.createReadStream(src, { highWaterMark: MiB }), sock), received])
    return performance.now() - start
  } finally {
    server.close()
  }
}

/** One IPC connection per daemon, kept for the whole run (as an MCP server keeps its own). */
async function client (t: Teardowns, m: Member): Promise<IpcClient> {
  const c = await IpcClient.connect(homePaths(m.home).socket)
  t.teardown(() => c.close(), { order: 5 })
  return c
}

// -------------------------------------------------------------------------------------------------
// sections

interface Run {
  shareMs: number
  shareMBps: number
  getMs: number
  getMBps: number
  tcpMs: number
  tcpMBps: number
  /** CPU seconds (all threads) of each daemon during the get */
  cpuA: number | null
  cpuB: number | null
  /** what the get would reach if each daemon had a core to itself: bytes / the busier daemon's CPU time (or half the sum, on 2 cores) */
  cpuCeilingMBps: number | null
  verified: boolean
}
interface SizeResult { bytes: number, label: string, runs: Run[] }

interface Rig { a: Member, b: Member, ca: IpcClient, cb: IpcClient, dir: string }

async function throughput (rig: Rig, bytes: number, runs: number): Promise<SizeResult> {
  const label = sizeLabel(bytes)
  const out: Run[] = []
  for (let i = 0; i < runs; i++) {
    const src = path.join(rig.dir, `big-${i}.bin`)
    const dest = path.join(rig.dir, `big-${i}.out`)
    const tcpDest = path.join(rig.dir, `big-${i}.tcp`)
    const hash = await randomFile(src, bytes)

    const tcpMs = await tcpCopy(src, tcpDest)
    if (await sha256File(tcpDest) !== hash) throw new Error(`the TCP copy of ${label} differs from the source`)
    await fs.promises.rm(tcpDest)

    const share = await timed(() => rig.ca.request('files.share', { path: src, name: `big-${i}.bin` }))
    await rig.b.wait({ files: 1, timeoutMs: 60_000 })
    const pidA = rig.a.pid()
    const pidB = rig.b.pid()
    const before = [cpuSeconds(pidA), cpuSeconds(pidB)]
    const got = await timed(() => rig.cb.request('files.get', { id: share.value.id, saveTo: dest, timeoutSeconds: GET_TIMEOUT_S }))
    const after = [cpuSeconds(pidA), cpuSeconds(pidB)]
    const verified = got.value.bytes === bytes && await sha256File(dest) === hash
    if (!verified) throw new Error(`the fetched copy of ${label} differs from the source`)

    const cpuA = cpuDelta(before[0], after[0])
    const cpuB = cpuDelta(before[1], after[1])
    const busiest = cpuA === null || cpuB === null ? null : Math.max(cpuA, cpuB, (cpuA + cpuB) / Math.min(2, os.cpus().length))
    const run: Run = {
      shareMs: Math.round(share.ms),
      shareMBps: mbps(bytes, share.ms),
      getMs: Math.round(got.ms),
      getMBps: mbps(bytes, got.ms),
      tcpMs: Math.round(tcpMs),
      tcpMBps: mbps(bytes, tcpMs),
      cpuA,
      cpuB,
      cpuCeilingMBps: busiest === null || busiest === 0 ? null : mbps(bytes, busiest * 1000),
      verified
    }
    out.push(run)
    const cpu = run.cpuA === null ? '' : `; CPU during get: A ${run.cpuA} s, B ${run.cpuB ?? '-'} s (ceiling ${run.cpuCeilingMBps ?? '-'} MB/s)`
    console.log(`  ${label} run ${i + 1}/${runs}: share ${run.shareMs} ms (${run.shareMBps} MB/s), get ${run.getMs} ms (${run.getMBps} MB/s), TCP floor ${run.tcpMs} ms (${run.tcpMBps} MB/s)${cpu}`)

    // free the disk before the next run: the file leaves both drives, then the copies go
    await rig.ca.request('files.delete', { id: share.value.id })
    await rig.b.wait({ files: 0, timeoutMs: 60_000 })
    await fs.promises.rm(dest, { force: true })
    await fs.promises.rm(src, { force: true })
  }
  return { bytes, label, runs: out }
}

interface SmallResult { n: number, bytes: number, get: Latency, again: Latency, share: Latency, visible: Latency }

async function small (rig: Rig, n: number): Promise<SmallResult> {
  const get: number[] = []
  const again: number[] = []
  const share: number[] = []
  const visible: number[] = []
  for (let i = 0; i < SMALL_WARMUP + n; i++) {
    const src = path.join(rig.dir, `small-${i}.txt`)
    const dest = path.join(rig.dir, `small-${i}.out`)
    const hash = await randomFile(src, SMALL_BYTES)
    const start = performance.now()
    const shared = await rig.ca.request('files.share', { path: src })
    const shareMs = performance.now() - start
    await rig.b.wait({ files: i + 1, timeoutMs: 30_000 })
    const visibleMs = performance.now() - start
    const got = await timed(() => rig.cb.request('files.get', { id: shared.id, saveTo: dest, timeoutSeconds: 30 }))
    if (got.value.bytes !== SMALL_BYTES || await sha256File(dest) !== hash) throw new Error(`small file ${i} arrived altered`)
    // the same get with the block already on B: what is left is the local part (temp file, fsync, link, file.access op)
    const cached = await timed(() => rig.cb.request('files.get', { id: shared.id, saveTo: dest, overwrite: true, timeoutSeconds: 30 }))
    if (i < SMALL_WARMUP) continue
    get.push(got.ms)
    again.push(cached.ms)
    share.push(shareMs)
    visible.push(visibleMs)
  }
  return { n, bytes: SMALL_BYTES, get: latency(get, 2), again: latency(again, 2), share: latency(share, 2), visible: latency(visible, 2) }
}

// -------------------------------------------------------------------------------------------------

interface Results { sizes: SizeResult[], small: SmallResult | null }

async function bench (t: Teardowns, cfg: Config, results: Results): Promise<void> {
  console.log(`claudemesh files bench${cfg.quick ? ' (quick)' : ''}: node ${process.version}, ${os.cpus().length} cpus, load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`)
  const [a, b] = await joinedHomes(t, ['a', 'b'])
  const rig: Rig = { a, b, ca: await client(t, a), cb: await client(t, b), dir: tmpDir(t, 'cm-bench-files-') }
  console.log('two daemons connected; throughput (share on A, get on B, raw TCP floor):')
  for (const { bytes, runs } of cfg.sizes) results.sizes.push(await throughput(rig, bytes, runs))
  // the baseline in the same run: two more daemons that replicate large files instead of fetching them directly
  const [ra, rb] = await joinedHomes(t, ['ra', 'rb'], { CLAUDEMESH_DIRECT_FILES: '0' })
  const replicated: Rig = { a: ra, b: rb, ca: await client(t, ra), cb: await client(t, rb), dir: rig.dir }
  console.log('baseline, direct transfers off (replicated into B\'s store, then read back):')
  for (const { bytes, runs } of cfg.sizes) {
    const base = await throughput(replicated, bytes, runs)
    results.sizes.push({ ...base, label: `${base.label}, replicated` })
  }
  await ra.stop()
  await rb.stop()
  console.log(`small files (${SMALL_BYTES} B, ${cfg.small} after ${SMALL_WARMUP} of warm-up):`)
  // the big files were deleted: the view holds none, so the count starts at 0 again
  results.small = await small(rig, cfg.small)
}

function printTable (results: Results): void {
  console.log('\nthroughput, MB/s (range over runs; median)')
  const head = ['file', 'runs', 'share on A', 'get on B', 'TCP floor', 'get CPU ceiling', 'target (get)']
  const rows = results.sizes.map((s) => {
    const col = (xs: number[]): string => `${range(xs)} (${median(xs)})`
    return [s.label, String(s.runs.length), col(s.runs.map((r) => r.shareMBps)), col(s.runs.map((r) => r.getMBps)), col(s.runs.map((r) => r.tcpMBps)), col(s.runs.map((r) => r.cpuCeilingMBps ?? NaN)), s.bytes >= 1024 * MiB ? TARGETS.big : '-']
  })
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)))
  for (const r of [head, ...rows]) console.log(r.map((c, i) => c.padEnd(widths[i])).join('  '))
  const s = results.small
  if (s !== null) {
    console.log(`\nsmall file (${s.bytes} B), ms, n ${s.n}`)
    const line = (name: string, l: Latency, target: string): void => console.log(`  ${name.padEnd(22)} p50 ${l.p50.toFixed(1).padStart(7)}  p99 ${l.p99.toFixed(1).padStart(7)}  max ${l.max.toFixed(1).padStart(7)}  ${target}`)
    line('get on B (end to end)', s.get, `target ${TARGETS.small}`)
    line('get again (cached)', s.again, 'same file, block already on B')
    line('share on A', s.share, '')
    line('share -> visible on B', s.visible, '')
  }
}

const cfg = config(process.argv.slice(2))
const results: Results = { sizes: [], small: null }
runBench({
  measure: async (t) => { await bench(t, cfg, results) },
  report: (loadBefore, wallMs) => {
    printTable(results)
    console.log(`\n${wallLine(loadBefore, wallMs)}`)
    writeBenchResults('files', cfg.quick, loadBefore, wallMs, { targets: TARGETS, mbPerSecond: '10^6 bytes/s', ...results })
  }
})
