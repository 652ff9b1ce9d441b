// Plumbing shared by the benchmarks.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { performance } from 'node:perf_hooks'

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
