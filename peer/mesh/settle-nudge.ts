// An indexer's nudge for autobase's consensus. With one of three indexers offline, autobase 7.28
// can stop acking with nodes still unindexed: every indexer's heuristic (shouldAck) says another
// ack would not help, so a claim stays `pending` until the missing indexer returns (measured: past
// 120 s with the owner's daemon stopped). An ack is only a null node, always valid; when the log
// has unindexed nodes and the indexed length has not moved for a while, this indexer writes one.
// The wait doubles while nothing moves (a partition: at most one ack a minute), and resets on progress.

export interface NudgedBase {
  /** this member's acks count now */
  readonly ackable: boolean
  readonly indexedLength: number
  readonly length: number
  append (value: null): Promise<void>
}

export const NUDGE_FIRST_MS = 1500
export const NUDGE_MAX_MS = 60_000

export class SettleNudge {
  private timer: NodeJS.Timeout | null = null
  private waitMs = NUDGE_FIRST_MS
  private armedAt = -1
  private closed = false
  /** acks this nudge wrote (for status and tests) */
  nudges = 0

  constructor (private readonly base: NudgedBase, private readonly log: (line: string) => void) {}

  /** After every update of the base: arm when there is unindexed history, disarm when there is none. */
  check (): void {
    if (this.closed) return
    const b = this.base
    if (!b.ackable || b.indexedLength >= b.length) {
      this.disarm()
      this.waitMs = NUDGE_FIRST_MS
      return
    }
    if (this.timer !== null && b.indexedLength === this.armedAt) return
    if (b.indexedLength !== this.armedAt) this.waitMs = NUDGE_FIRST_MS // it moved: start over from the short wait
    this.disarm()
    this.armedAt = b.indexedLength
    this.timer = setTimeout(() => { this.fire() }, this.waitMs)
    this.timer.unref()
  }

  close (): void {
    this.closed = true
    this.disarm()
  }

  private fire (): void {
    this.timer = null
    const b = this.base
    if (this.closed || !b.ackable || b.indexedLength >= b.length) return
    if (b.indexedLength !== this.armedAt) { this.check(); return }
    this.nudges++
    this.waitMs = Math.min(this.waitMs * 2, NUDGE_MAX_MS)
    b.append(null)
      .catch((err: Error) => { if (!this.closed) this.log(`could not write an ack to settle the log: ${err.message}`) })
      .finally(() => { this.check() })
  }

  private disarm (): void {
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
  }
}
