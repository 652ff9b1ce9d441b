// Plumbing shared by the benchmarks.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { performance } from 'node:perf_hooks'
import type { CliResult } from '../test/helpers/cli.js'

/** The teardown interface the test helpers expect, run in `order` (then last-in, first-out). */
export class Teardowns {
  private readonly fns: Array<{ fn: () => unknown, order: number, seq: number }> = []

  teardown (fn: () => unknown, opts: { order?: number } = {}): void {
    this.fns.push({ fn, order: opts.order ?? 0, seq: this.fns.length })
  }

  async run (): Promise<void> {
    const fns = this.fns.splice(0).sort((a, b) => a.order - b.order || b.seq - a.seq)
    for (const { fn } of fns) {
      try { await fn() } catch (err) { console.error(`teardown failed: ${(err as Error).message}`) }
    }
  }
}

/** Writes bench/results/<name>[-quick].json: the run's environment, then the bench's own fields. */
export function writeBenchResults (name: string, quick: boolean, loadBefore: number[], wallMs: number, fields: Record<string, unknown>): void {
  const file = fileURLToPath(new URL(`../../bench/results/${quick ? `${name}-quick` : name}.json`, import.meta.url))
  fs.mkdirSync(path.dirname(file), { recursive: true })
  const doc = {
    bench: name,
    date: new Date().toISOString(),
    quick,
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpus: os.cpus().length,
    loadavg: { before: loadBefore, after: os.loadavg() },
    wallSeconds: Math.round(wallMs / 100) / 10,
    unit: 'ms',
    percentile: 'nearest-rank',
    ...fields
  }
  fs.writeFileSync(file, JSON.stringify(doc, null, 2) + '\n')
  console.log(`\nwrote ${path.relative(process.cwd(), file) || file}`)
}

/** Nearest-rank percentile of sorted samples (NaN when there are none). */
export function percentile (sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p / 100 * sorted.length) - 1))]
}

export interface Latency { n: number, p50: number, p99: number, mean: number, min: number, max: number }

/** p50, p99, mean, min and max of samples, rounded to `decimals` places. */
export function latency (samples: number[], decimals = 3): Latency {
  const sorted = [...samples].sort((a, b) => a - b)
  const scale = 10 ** decimals
  const r = (x: number): number => Math.round(x * scale) / scale
  return {
    n: sorted.length,
    p50: r(percentile(sorted, 50)),
    p99: r(percentile(sorted, 99)),
    mean: r(sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length)),
    min: r(sorted[0] ?? NaN),
    max: r(sorted[sorted.length - 1] ?? NaN)
  }
}

export interface BenchRun {
  /** the measurements: what they start registers its teardown on `t` */
  measure (t: Teardowns): Promise<void>
  /** prints and saves the figures (not after an interrupt) */
  report (loadBefore: number[], wallMs: number): void
  /** on Ctrl-C, before the teardowns: e.g. wait (briefly) for processes still starting */
  interrupt? (): Promise<unknown>
}

/** A bench's main: measures, reports, and tears down what it started, also on an error or Ctrl-C. */
export function runBench (run: BenchRun): void {
  const main = async (): Promise<void> => {
    const t = new Teardowns()
    let interrupting = false
    const interrupted = (signal: NodeJS.Signals): void => {
      interrupting = true
      console.error(`\n${signal}: tearing down`)
      Promise.resolve(run.interrupt?.()).catch(() => {}).then(() => t.run()).finally(() => process.exit(130))
    }
    process.once('SIGINT', interrupted)
    process.once('SIGTERM', interrupted)
    const loadBefore = os.loadavg()
    const began = performance.now()
    try {
      await run.measure(t).catch((err) => { if (!interrupting) throw err })
      if (interrupting) return
      run.report(loadBefore, performance.now() - began)
    } finally {
      if (!interrupting) await t.run()
      process.off('SIGINT', interrupted)
      process.off('SIGTERM', interrupted)
    }
  }
  main().catch((err) => {
    console.error(`bench failed: ${(err as Error).stack ?? String(err)}`)
    process.exitCode = 1
  })
}

/** "wall 12.3 s; load average before …, after …" */
export function wallLine (loadBefore: number[], wallMs: number): string {
  const load = (xs: number[]): string => xs.map((x) => x.toFixed(2)).join(' ')
  return `wall ${(wallMs / 1000).toFixed(1)} s; load average before ${load(loadBefore)}, after ${load(os.loadavg())}`
}

// -------------------------------------------------------------------------------------------------
// small helpers the benches share

/** A number for the tables: 3 decimals below 10, 2 below 100, else 1 ('-' when not finite). */
export function fmt (x: number): string {
  if (!Number.isFinite(x)) return '-'
  return x < 10 ? x.toFixed(3) : x < 100 ? x.toFixed(2) : x.toFixed(1)
}

/** Throws unless the CLI run exited with 0. */
export function check (res: CliResult, what: string): CliResult {
  if (res.code !== 0) throw new Error(`${what} exited with ${res.code}: ${res.stderr.trim() || res.stdout.trim()}`)
  return res
}

export function sleep (ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

export async function timed<T> (fn: () => Promise<T>): Promise<{ ms: number, value: T }> {
  const start = performance.now()
  const value = await fn()
  return { ms: performance.now() - start, value }
}

/** Runs fn(0..n-1) with at most `window` in flight. */
export async function pipeline (n: number, window: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next++
      await fn(i)
    }
  }
  await Promise.all(Array.from({ length: Math.min(window, n) }, worker))
}

/** The median of samples (the mean of the middle two for an even count; unrounded). */
export function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length / 2
  return s.length % 2 === 1 ? s[Math.floor(mid)] : (s[mid - 1] + s[mid]) / 2
}

// -------------------------------------------------------------------------------------------------
// CPU from /proc (Linux; NaN elsewhere)

/** User + system clock ticks (USER_HZ 100) a process has used so far. */
export function cpuTicks (pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf-8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return Number(fields[11]) + Number(fields[12]) // utime + stime, fields 14 and 15
  } catch {
    return NaN
  }
}

/** The summed cpuTicks of processes (skipping those gone or unknown). */
export function cpuTicksOf (pids: Array<number | null>): number {
  let total = 0
  for (const pid of pids) if (pid !== null) { const t = cpuTicks(pid); if (Number.isFinite(t)) total += t }
  return total
}

/** Busy and total jiffies of the whole machine (all cpus), from /proc/stat. */
export function machineTicks (): { busy: number, total: number } {
  try {
    const line = fs.readFileSync('/proc/stat', 'utf-8').split('\n')[0]
    const v = line.trim().split(/\s+/).slice(1).map(Number)
    const idle = v[3] + (v[4] ?? 0)
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0)
    return { busy: total - idle, total }
  } catch {
    return { busy: NaN, total: NaN }
  }
}
