// Messages held for this daemon's sessions, and the recipient side's priority gate: `now` is pushed
// at once, `next` when the session is idle, `low` only when it asks. What one sending member can
// make a session hold is capped (messages and bytes); past the cap its oldest message for that
// session goes, and its daemon is told `dropped`.
import type { MessageFrame, Priority } from '../../protocol/session-wire.js'
import { CAPS } from '../../protocol/limits.js'

export interface Held { frame: MessageFrame, bytes: number }

/** One local session's held messages, in arrival order. */
export class Inbox {
  private held: Held[] = []

  get size (): number {
    return this.held.length
  }

  /** Holds a message; returns those of the same sender it pushed out (oldest first). */
  hold (frame: MessageFrame): MessageFrame[] {
    const bytes = Buffer.byteLength(frame.content) + 512 * (frame.files?.length ?? 0)
    this.held.push({ frame, bytes })
    const sender = frame.from.member
    let count = 0
    let total = 0
    for (const h of this.held) {
      if (h.frame.from.member !== sender) continue
      count++
      total += h.bytes
    }
    const dropped: MessageFrame[] = []
    while (count > CAPS.heldPerSender || total > CAPS.heldBytesPerSender) {
      const i = this.held.findIndex((h) => h.frame.from.member === sender)
      const [gone] = this.held.splice(i, 1)
      count--
      total -= gone.bytes
      dropped.push(gone.frame)
    }
    return dropped
  }

  /** Takes out the held messages of these priorities, in order. */
  take (priorities: Priority[]): MessageFrame[] {
    const out: MessageFrame[] = []
    const keep: Held[] = []
    for (const h of this.held) {
      if (priorities.includes(h.frame.priority)) out.push(h.frame)
      else keep.push(h)
    }
    this.held = keep
    return out
  }
}

/** The gate: whether a message goes to the session's Claude now, or waits in its inbox. */
export function pushesNow (frame: MessageFrame, session: { channel: boolean, status: string }): boolean {
  return session.channel && (frame.priority === 'now' || (frame.priority === 'next' && session.status === 'idle'))
}
