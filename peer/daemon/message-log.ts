// The opt-in log of the messages this daemon's sessions sent and received, for the dashboard's
// Messages page. Off by default; kept on this machine only (a file in the home, mode 0600), for
// `retentionDays`, and at most MAX_ENTRIES entries (a peer cannot make it grow without bound).
// Turning it off deletes what it kept.
import fs from 'node:fs'
import { EventEmitter } from 'node:events'
import { writeFileAtomic } from './home.js'
import type { AttachmentInfo } from './sessions.js'
import type { Priority } from '../../protocol/session-wire.js'

export interface MessageLogSettings { enabled: boolean, retentionDays: number }

export const DEFAULT_LOG_SETTINGS: MessageLogSettings = { enabled: false, retentionDays: 7 }
export const MAX_ENTRIES = 10_000

export interface LoggedMessage {
  id: string
  mesh: string
  /** a session of this daemon sent it, or received it */
  direction: 'sent' | 'received'
  /** that session of this daemon */
  session: { id: string, name: string }
  from: { id: string, name: string, member: string }
  /** recipients' names as the sender resolved them (sent), or the session that got it (received) */
  to: string[]
  priority: Priority
  group: string | null
  content: string
  files: AttachmentInfo[]
  /** the message this one answers, and the first message of its thread */
  replyTo: string | null
  thread: string | null
  at: number
}

const DAY_MS = 24 * 3600 * 1000

export class MessageLog extends EventEmitter {
  private readonly file: string
  private readonly now: () => number
  private settingsValue: MessageLogSettings
  private entries: LoggedMessage[] = []
  private pending: string[] = []
  private flushing: Promise<void> | null = null

  constructor (file: string, settings: Partial<MessageLogSettings> | undefined, now: () => number) {
    super()
    this.file = file
    this.now = now
    this.settingsValue = { ...DEFAULT_LOG_SETTINGS, ...settings }
    if (this.settingsValue.enabled) this.load()
  }

  get settings (): MessageLogSettings {
    return { ...this.settingsValue }
  }

  get size (): number {
    return this.entries.length
  }

  /** Changes the settings; turning the log off deletes what it kept. */
  async configure (next: Partial<MessageLogSettings>): Promise<MessageLogSettings> {
    const was = this.settingsValue.enabled
    this.settingsValue = { ...this.settingsValue, ...next }
    if (was && !this.settingsValue.enabled) {
      await this.idle()
      this.entries = []
      fs.rmSync(this.file, { force: true })
    }
    if (!was && this.settingsValue.enabled) this.load()
    this.prune(true)
    this.emit('logged')
    return this.settings
  }

  add (entry: LoggedMessage): void {
    if (!this.settingsValue.enabled) return
    this.entries.push(entry)
    this.pending.push(JSON.stringify(entry) + '\n')
    if (this.entries.length > MAX_ENTRIES) this.prune(true)
    else this.flush()
    this.emit('logged', entry)
  }

  /** Newest first; filtered by mesh, thread (a message and every one in its thread) and session. */
  list (opts: { mesh?: string | null, thread?: string | null, session?: string | null, limit: number }): LoggedMessage[] {
    this.prune(false)
    const out: LoggedMessage[] = []
    for (let i = this.entries.length - 1; i >= 0 && out.length < opts.limit; i--) {
      const e = this.entries[i]
      if (opts.mesh !== undefined && opts.mesh !== null && e.mesh !== opts.mesh) continue
      if (opts.thread !== undefined && opts.thread !== null && e.id !== opts.thread && e.thread !== opts.thread) continue
      if (opts.session !== undefined && opts.session !== null && e.session.id !== opts.session && e.session.name !== opts.session) continue
      out.push(e)
    }
    return out
  }

  /** Drops entries past the retention (and over the cap); `rewrite` also rewrites the file. */
  prune (rewrite: boolean): void {
    const cutoff = this.now() - this.settingsValue.retentionDays * DAY_MS
    const before = this.entries.length
    this.entries = this.entries.filter((e) => e.at >= cutoff).slice(-MAX_ENTRIES)
    if (this.settingsValue.enabled && (rewrite || this.entries.length !== before)) {
      this.pending = []
      writeFileAtomic(this.file, this.entries.map((e) => JSON.stringify(e) + '\n').join(''))
    }
  }

  async idle (): Promise<void> {
    while (this.flushing !== null) await this.flushing
  }

  async close (): Promise<void> {
    await this.idle()
  }

  private load (): void {
    let text = ''
    try {
      text = fs.readFileSync(this.file, 'utf-8')
    } catch {}
    this.entries = []
    const seen = new Set<string>()
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue
      let entry: LoggedMessage
      try {
        entry = JSON.parse(line) as LoggedMessage
      } catch {
        continue // a line cut short by a crash
      }
      const key = `${entry.id}:${entry.direction}:${entry.session?.id}`
      if (seen.has(key)) continue // appended again while the file was being rewritten
      seen.add(key)
      this.entries.push(entry)
    }
    this.prune(false)
  }

  /** Appends what was added, once per turn of the event loop. */
  private flush (): void {
    if (this.flushing !== null) return
    this.flushing = (async () => {
      await new Promise((resolve) => setImmediate(resolve))
      while (this.pending.length > 0) {
        const lines = this.pending.join('')
        this.pending = []
        await fs.promises.appendFile(this.file, lines, { mode: 0o600 })
      }
    })().catch(() => {}).finally(() => { this.flushing = null })
  }
}
