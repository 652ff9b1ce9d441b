// Keys of the attachments this daemon may open: those it sent and those its sessions received. A key
// travels only inside a message; this file (mode 0600, in the daemon's home) keeps it until the
// attachment expires, so a recipient can still fetch it after a daemon restart. A received key
// lasts at most 24 h from when it arrived (whatever expiry the sender's clock gave it), one member
// can make this daemon hold a bounded number of them, and the file is written in batches.
import fs from 'node:fs'
import path from 'node:path'
import { writeFileAtomic, readJson } from './home.js'
import { CAPS, LIMITS } from '../../protocol/limits.js'

interface Held { key: string, expiresAt: number, sessions: string[], from?: string }

const SAVE_DELAY_MS = 500

export class AttachmentKeys {
  private readonly file: string
  private readonly held: Map<string, Held>
  private readonly now: () => number
  private saveTimer: NodeJS.Timeout | null = null

  constructor (dir: string, meshKey: string, now: () => number) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
    this.file = path.join(dir, `${meshKey.slice(0, 16)}.json`)
    this.now = now
    this.held = new Map(Object.entries(readJson<Record<string, Held>>(this.file, {})))
  }

  get size (): number {
    return this.held.size
  }

  /** An attachment a session of ours sent: that session can open it too. Saved at once (the sender's only copy of the key). */
  sent (id: string, key: Buffer, expiresAt: number, sessionId: string): void {
    this.held.set(id, { key: key.toString('hex'), expiresAt, sessions: [sessionId] })
    this.save()
  }

  /**
   * A local session received a message from member `from` carrying the attachment's key, which
   * the sender says lasts `lifeMs` from sending: it lasts that long from now, 24 h at most.
   */
  received (id: string, key: string, lifeMs: number, sessionId: string, from: string): void {
    const life = Math.min(Math.max(lifeMs, 0), LIMITS.attachmentTtlMs)
    const held = this.held.get(id) ?? { key, expiresAt: this.now() + life, sessions: [], from }
    if (held.key !== key) return // a second message cannot swap the key of one we hold
    if (!held.sessions.includes(sessionId)) held.sessions.push(sessionId)
    if (!this.held.has(id)) this.capFrom(from)
    this.held.set(id, held)
    this.saveSoon()
  }

  /** The key, if the session (null: the CLI of this machine's user) may open the attachment. */
  keyFor (id: string, sessionId: string | null): Buffer | null {
    const held = this.held.get(id)
    if (held === undefined || held.expiresAt <= this.now()) return null
    if (sessionId !== null && !held.sessions.includes(sessionId)) return null
    return Buffer.from(held.key, 'hex')
  }

  holds (id: string): boolean {
    return this.held.has(id)
  }

  /** Drops expired keys. */
  prune (): void {
    let changed = false
    for (const [id, held] of this.held) {
      if (held.expiresAt <= this.now()) { this.held.delete(id); changed = true }
    }
    if (changed) this.saveSoon()
  }

  /** Makes room for one more key from `from`: its oldest keys go past the cap. */
  private capFrom (from: string): void {
    let count = 0
    for (const h of this.held.values()) if (h.from === from) count++
    for (const [id, h] of this.held) {
      if (count < CAPS.attachmentKeysPerSender) break
      if (h.from !== from) continue
      this.held.delete(id)
      count--
    }
  }

  private saveSoon (): void {
    if (this.saveTimer !== null) return
    this.saveTimer = setTimeout(() => this.save(), SAVE_DELAY_MS)
    this.saveTimer.unref()
  }

  private save (): void {
    if (this.saveTimer !== null) clearTimeout(this.saveTimer)
    this.saveTimer = null
    writeFileAtomic(this.file, JSON.stringify(Object.fromEntries(this.held)) + '\n')
  }

  /** Writes what is pending (the daemon is stopping). */
  close (): void {
    if (this.saveTimer !== null) this.save()
  }
}
