// Keys of the attachments this daemon may open: those it sent and those its sessions received. A key
// travels only inside a message; this file (mode 0600, in the daemon's home) keeps it until the
// attachment expires, so a recipient can still fetch it after a daemon restart.
import fs from 'node:fs'
import path from 'node:path'
import { writeFileAtomic, readJson } from './home.js'

interface Held { key: string, expiresAt: number, sessions: string[] }

export class AttachmentKeys {
  private readonly file: string
  private readonly held: Map<string, Held>
  private readonly now: () => number

  constructor (dir: string, meshKey: string, now: () => number) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
    this.file = path.join(dir, `${meshKey.slice(0, 16)}.json`)
    this.now = now
    this.held = new Map(Object.entries(readJson<Record<string, Held>>(this.file, {})))
  }

  /** An attachment a session of ours sent: that session can open it too. */
  sent (id: string, key: Buffer, expiresAt: number, sessionId: string): void {
    this.held.set(id, { key: key.toString('hex'), expiresAt, sessions: [sessionId] })
    this.save()
  }

  /** A local session received a message carrying the attachment's key. */
  received (id: string, key: string, expiresAt: number, sessionId: string): void {
    const held = this.held.get(id) ?? { key, expiresAt, sessions: [] }
    if (held.key !== key) return // a second message cannot swap the key of one we hold
    if (!held.sessions.includes(sessionId)) held.sessions.push(sessionId)
    this.held.set(id, held)
    this.save()
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
    if (changed) this.save()
  }

  private save (): void {
    writeFileAtomic(this.file, JSON.stringify(Object.fromEntries(this.held)) + '\n')
  }
}
