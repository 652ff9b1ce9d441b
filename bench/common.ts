// Plumbing shared by the benchmarks.

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
