// Messages held for this daemon's sessions, and the recipient side's priority gate: `now` is pushed
// at once, `next` when the session is idle (to a session's Claude Code inbox at once: Claude Code
// queues it until its turn ends), `low` only when it asks. What one sending member can make a
// session hold is capped (messages and bytes); past the cap its oldest message for that session
// goes, and its daemon is told `dropped`. Held messages are saved, so a restart loses none.
import fs from 'node:fs'
import path from 'node:path'
import { OFFLINE_TTL_MS, type MessageFrame, type Priority } from '../../protocol/session-wire.js'
import { CAPS } from '../../protocol/limits.js'
import { WriteBatch } from '../../protocol/write-batch.js'

/** `pushed`: handed to the session's Claude Code inbox, not yet confirmed: kept (and saved) until it is */
export interface Held { frame: MessageFrame, bytes: number, pushed?: boolean }

/** One local session's held messages, in arrival order. */
export class Inbox {
  private held: Held[] = []

  static from (frames: MessageFrame[]): Inbox {
    const inbox = new Inbox()
    for (const frame of frames) inbox.hold(frame)
    return inbox
  }

  get size (): number {
    return this.held.length
  }

  frames (): MessageFrame[] {
    return this.held.map((h) => h.frame)
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

  /** Takes out the held messages of these priorities, in order (not those on their way to an inbox). */
  take (priorities: Priority[], which: (frame: MessageFrame) => boolean = () => true): MessageFrame[] {
    const out: MessageFrame[] = []
    const keep: Held[] = []
    for (const h of this.held) {
      if (h.pushed !== true && priorities.includes(h.frame.priority) && which(h.frame)) out.push(h.frame)
      else keep.push(h)
    }
    this.held = keep
    return out
  }

  /** Held messages of these priorities not on their way yet: marked as on their way, and returned. */
  push (priorities: Priority[]): MessageFrame[] {
    const out: MessageFrame[] = []
    for (const h of this.held) {
      if (h.pushed === true || !priorities.includes(h.frame.priority)) continue
      h.pushed = true
      out.push(h.frame)
    }
    return out
  }

  /** The inbox took it: out of here. */
  confirm (id: string): MessageFrame | null {
    const i = this.held.findIndex((h) => h.frame.id === id && h.pushed === true)
    if (i === -1) return null
    return this.held.splice(i, 1)[0].frame
  }

  /** It did not reach the inbox (or nobody will say): held like any other. */
  unpush (id?: string): void {
    for (const h of this.held) if (id === undefined || h.frame.id === id) h.pushed = false
  }
}

/** The gate for a channel session: whether a message goes to its Claude now, or waits. */
export function pushesNow (frame: MessageFrame, session: { channel: boolean, status: string }): boolean {
  return session.channel && (frame.priority === 'now' || (frame.priority === 'next' && session.status === 'idle'))
}

interface SavedInbox { frames: MessageFrame[], until: number | null }

/**
 * The held messages of this daemon's sessions in one mesh, on disk: a daemon restart (or kill -9)
 * loses none, and a session that registers again with its id gets them back. A session that went
 * away keeps its held messages for a day. Written asynchronously in batches; `saved()` resolves
 * once every change made so far is on disk (the recipient reports `held` only then).
 */
export class HeldStore {
  private readonly file: string
  private readonly now: () => number
  /** inboxes of sessions that are not registered now, until when they are kept */
  private readonly away = new Map<string, { inbox: Inbox, until: number }>()
  private readonly batch = new WriteBatch(async () => await this.write())
  private live: () => Iterable<[string, Inbox]> = () => []

  constructor (file: string, now: () => number) {
    this.file = file
    this.now = now
    let saved: Record<string, SavedInbox> = {}
    try {
      saved = JSON.parse(fs.readFileSync(file, 'utf-8')) as Record<string, SavedInbox>
    } catch {} // none yet, or damaged: nothing held
    for (const [id, s] of Object.entries(saved)) {
      if (!Array.isArray(s?.frames)) continue
      this.away.set(id, { inbox: Inbox.from(s.frames), until: s.until ?? now() + OFFLINE_TTL_MS })
    }
  }

  /** Where the registered sessions' inboxes are read from when saving. */
  track (live: () => Iterable<[string, Inbox]>): void {
    this.live = live
  }

  /** The inbox a session that registers (again) starts with. */
  claim (id: string): Inbox {
    const away = this.away.get(id)
    this.away.delete(id)
    return away?.inbox ?? new Inbox()
  }

  /** A session went: its held messages wait a day for it to come back. */
  release (id: string, inbox: Inbox): void {
    if (inbox.size > 0) this.away.set(id, { inbox, until: this.now() + OFFLINE_TTL_MS })
    this.changed()
  }

  /** Forgets what waited too long. */
  prune (): void {
    let changed = false
    for (const [id, a] of this.away) if (a.until <= this.now()) { this.away.delete(id); changed = true }
    if (changed) this.changed()
  }

  changed (): void {
    this.save().catch(noop)
  }

  /** Resolves once a write with every change made so far is on disk. */
  save (): Promise<void> {
    return this.batch.save()
  }

  private async write (): Promise<void> {
    const out: Record<string, SavedInbox> = {}
    for (const [id, inbox] of this.live()) if (inbox.size > 0) out[id] = { frames: inbox.frames(), until: null }
    for (const [id, a] of this.away) out[id] = { frames: a.inbox.frames(), until: a.until }
    const tmp = `${this.file}.${process.pid}.tmp`
    await fs.promises.mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 })
    const handle = await fs.promises.open(tmp, 'w', 0o600)
    try {
      await handle.writeFile(JSON.stringify(out))
      await handle.sync()
    } finally {
      await handle.close()
    }
    await fs.promises.rename(tmp, this.file)
  }

  async close (): Promise<void> {
    await this.save().catch(noop)
  }
}

function noop (): void {}
