// The sender's side of messages: each sent message's honest status per recipient, the offline
// queue (messages to a name seen before but away now, persisted, 24 h), and the names seen in the
// mesh (persisted, a bounded number per member).
import path from 'node:path'
import fs from 'node:fs'
import { OFFLINE_TTL_MS, type MessageFrame, type DeliveryStatus, type SessionInfo, type Via } from '../../protocol/session-wire.js'
import { CAPS } from '../../protocol/limits.js'
import { writeFileAtomic, readJson } from './home.js'

interface Recipient { name: string, status: DeliveryStatus, at: number, via?: Via }
interface Outgoing { id: string, from: string, createdAt: number, thread?: string, recipients: Map<string, Recipient> }
interface Queued { frame: MessageFrame, toName: string, expires: number }
interface Seen { name: string, member: string, seen: number }
interface SavedOutgoing { id: string, from: string, createdAt: number, thread?: string, recipients: Array<[string, Recipient]> }
interface Persisted { names: Array<Seen | string>, outbox: Queued[], sent?: SavedOutgoing[] }

/** `thread`: the first message of its thread (its own id when it starts one) */
export interface SendResult { id: string, thread: string, recipients: Array<{ name: string, id: string | null, status: DeliveryStatus, via: Via | null }>, queuedFor: string[] }

/** how far along a status is: a status only moves forward; `read`, `expired` and `dropped` are final */
const RANK: Record<DeliveryStatus, number> = { queued: 0, held: 1, delivered: 2, read: 3, expired: 4, dropped: 4 }

const SAVE_DELAY_MS = 250
/** statuses of the latest messages sent are kept on disk (a restart forgets older ones) */
const SAVED_STATUSES = 5000
/** the journal is folded into the snapshot past this many lines */
const JOURNAL_LINES = 20_000

export class Outbox {
  private readonly file: string
  private readonly now: () => number
  private readonly names = new Map<string, Seen>()
  private queued: Queued[]
  private readonly outgoing = new Map<string, Outgoing>()
  private saveTimer: NodeJS.Timeout | null = null
  private readonly journalFile: string
  private lines: string[] = []
  private journalLines = 0

  constructor (dir: string, meshKey: string, now: () => number) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
    this.file = path.join(dir, `${meshKey.slice(0, 16)}.json`)
    this.journalFile = path.join(dir, `${meshKey.slice(0, 16)}.statuses.jsonl`)
    this.now = now
    const saved = readJson<Persisted>(this.file, { names: [], outbox: [] })
    for (const n of saved.names) {
      const seen = typeof n === 'string' ? { name: n, member: '', seen: 0 } : n
      this.names.set(seen.name, seen)
    }
    this.queued = saved.outbox
    // what was sent and how it stood, so message_status stays true across a restart
    for (const o of saved.sent ?? []) this.outgoing.set(o.id, { id: o.id, from: o.from, createdAt: o.createdAt, ...(o.thread !== undefined ? { thread: o.thread } : {}), recipients: new Map(o.recipients) })
    this.replayJournal()
    for (const q of this.queued) this.track(q.frame, [{ id: `queued:${q.toName}`, name: q.toName, status: 'queued' }])
  }

  /** Whether a session of this name was seen in the mesh (so messages to it queue while it is away). */
  seen (name: string): boolean {
    return this.names.has(name)
  }

  /** Remembers a name as seen, for its member; a member's oldest names go past the cap. Saved in batches. */
  learn (name: string, member: string): void {
    const known = this.names.get(name)
    if (known !== undefined && known.member === member && known.seen > this.now() - 3600_000) return
    this.names.delete(name)
    this.names.set(name, { name, member, seen: this.now() })
    let count = 0
    for (const n of this.names.values()) if (n.member === member) count++
    for (const n of this.names.values()) {
      if (count <= CAPS.namesPerMember) break
      if (n.member !== member) continue
      this.names.delete(n.name)
      count--
    }
    this.saveSoon()
  }

  track (frame: MessageFrame, recipients: Array<{ id: string, name: string, status: DeliveryStatus }>): void {
    let out = this.outgoing.get(frame.id)
    if (out === undefined) {
      out = { id: frame.id, from: frame.from.id, createdAt: frame.at, ...(frame.thread !== undefined ? { thread: frame.thread } : {}), recipients: new Map() }
      this.outgoing.set(frame.id, out)
    }
    for (const r of recipients) {
      const rec: Recipient = { name: r.name, status: r.status, at: this.now() }
      out.recipients.set(r.id, rec)
      this.journal(out, r.id, rec)
    }
  }

  /** Queues a message for names that are offline (persisted at once). */
  queue (frame: MessageFrame, names: string[]): void {
    if (names.length === 0) return
    this.track(frame, names.map((name) => ({ id: `queued:${name}`, name, status: 'queued' as const })))
    for (const name of names) this.queued.push({ frame, toName: name, expires: frame.at + OFFLINE_TTL_MS })
    this.save()
  }

  /** Queued messages whose name is online now: taken out of the queue, to be sent to that session. */
  due (roster: SessionInfo[]): Array<{ frame: MessageFrame, target: SessionInfo }> {
    if (this.queued.length === 0) return []
    const out: Array<{ frame: MessageFrame, target: SessionInfo }> = []
    const keep: Queued[] = []
    for (const q of this.queued) {
      const target = roster.find((s) => s.name === q.toName)
      if (target === undefined || q.expires <= this.now()) { keep.push(q); continue }
      this.outgoing.get(q.frame.id)?.recipients.delete(`queued:${q.toName}`)
      this.track(q.frame, [{ id: target.id, name: target.name, status: 'queued' }])
      out.push({ frame: q.frame, target })
    }
    if (keep.length !== this.queued.length) {
      this.queued = keep
      this.save()
    }
    return out
  }

  /** Records a recipient's status, only forward (held, delivered with the path that handed it over, read). Returns whether it changed. */
  setStatus (id: string, recipient: string, status: DeliveryStatus, via?: Via): boolean {
    const r = this.outgoing.get(id)?.recipients.get(recipient)
    if (r === undefined || RANK[status] <= RANK[r.status] || RANK[r.status] >= 3) return false
    // read before a delivered report came (they may cross): delivered is implied, its path unknown
    r.status = status
    if (via !== undefined) r.via = via
    r.at = this.now()
    const out = this.outgoing.get(id)
    if (out !== undefined) this.journal(out, recipient, r)
    return true
  }

  /**
   * Statuses go to an append-only journal, within the same turn of the event loop (one write for
   * everything that changed in it): cheap per message, and a process killed with -9 loses only
   * the last fraction of a millisecond. Folded into the snapshot at start, and when it grows.
   */
  private journal (out: Outgoing, recipient: string, r: Recipient): void {
    this.lines.push(JSON.stringify({ id: out.id, from: out.from, createdAt: out.createdAt, r: recipient, ...r }) + '\n')
    if (this.lines.length > 1) return
    setImmediate(() => this.flushJournal())
  }

  private flushJournal (): void {
    if (this.lines.length === 0) return
    const text = this.lines.join('')
    this.journalLines += this.lines.length
    this.lines = []
    try {
      fs.appendFileSync(this.journalFile, text, { mode: 0o600 })
    } catch {} // the snapshot at the next save has them
    if (this.journalLines > JOURNAL_LINES) this.save()
  }

  /** Whether message `id` went from this daemon to `recipient` (so only that recipient's daemon may report on it). */
  sentTo (id: string, recipient: string): boolean {
    return this.outgoing.get(id)?.recipients.has(recipient) === true
  }

  status (id: string, queuedFor: string[] = []): SendResult | null {
    const out = this.outgoing.get(id)
    if (out === undefined) return null
    return {
      id: out.id,
      thread: out.thread ?? out.id,
      recipients: [...out.recipients.entries()].map(([rid, r]) => ({ name: r.name, id: rid.startsWith('queued:') ? null : rid, status: r.status, via: r.via ?? null })),
      queuedFor
    }
  }

  /** Queued messages past their 24 h expire (the sender sees `expired`); statuses are kept a day longer. Returns the ids that changed. */
  expire (): string[] {
    const now = this.now()
    const changed: string[] = []
    const expired = this.queued.filter((q) => q.expires <= now)
    if (expired.length > 0) {
      for (const q of expired) if (this.setStatus(q.frame.id, `queued:${q.toName}`, 'expired')) changed.push(q.frame.id)
      this.queued = this.queued.filter((q) => q.expires > now)
      this.save()
    }
    for (const [id, out] of this.outgoing) if (out.createdAt < now - 2 * OFFLINE_TTL_MS) this.outgoing.delete(id)
    return changed
  }

  /** The statuses written since the last snapshot, laid over it; then the snapshot takes them. */
  private replayJournal (): void {
    let text = ''
    try { text = fs.readFileSync(this.journalFile, 'utf-8') } catch { return }
    for (const line of text.split('\n')) {
      if (line === '') continue
      let j: { id: string, from: string, createdAt: number, r: string, name: string, status: DeliveryStatus, at: number, via?: Via }
      try { j = JSON.parse(line) } catch { continue } // a line cut by a crash
      let out = this.outgoing.get(j.id)
      if (out === undefined) {
        out = { id: j.id, from: j.from, createdAt: j.createdAt, recipients: new Map() }
        this.outgoing.set(j.id, out)
      }
      if (j.r.startsWith('queued:') === false) out.recipients.delete(`queued:${j.name}`)
      out.recipients.set(j.r, { name: j.name, status: j.status, at: j.at, ...(j.via === undefined ? {} : { via: j.via }) })
    }
    this.save()
  }

  private saveSoon (): void {
    if (this.saveTimer !== null) return
    this.saveTimer = setTimeout(() => this.save(), SAVE_DELAY_MS)
    this.saveTimer.unref()
  }

  save (): void {
    if (this.saveTimer !== null) clearTimeout(this.saveTimer)
    this.saveTimer = null
    this.flushJournal()
    const sent = [...this.outgoing.values()].slice(-SAVED_STATUSES).map((o) => ({ id: o.id, from: o.from, createdAt: o.createdAt, ...(o.thread !== undefined ? { thread: o.thread } : {}), recipients: [...o.recipients.entries()] }))
    writeFileAtomic(this.file, JSON.stringify({ names: [...this.names.values()], outbox: this.queued, sent } satisfies Persisted))
    // the snapshot has every status now: the journal starts over
    fs.rmSync(this.journalFile, { force: true })
    this.journalLines = 0
  }

  close (): void {
    if (this.saveTimer !== null) this.save()
  }
}
