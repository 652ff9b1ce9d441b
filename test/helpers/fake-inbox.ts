// Claude Code's session inbox as the test's own listener: a unix socket (mode 0600) that speaks
// the frame format (an auth line with the token, then a user message), drops a connection with a
// wrong token in silence, and, like Claude Code, records each message it takes in the session's
// transcript (a queue-operation enqueue line). The environment it gives is what Claude Code gives
// every MCP server it starts.
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import crypto from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { tmpDir } from './cli.js'

interface Teardown { teardown (fn: () => unknown, opts?: { order?: number }): void }

export interface InboxFrame { content: string, priority: string }

export class FakeInbox {
  readonly dir: string
  readonly socket: string
  readonly token: string
  readonly sessionId = crypto.randomUUID()
  /** the project folder Claude Code would run in (the MCP server's cwd) */
  readonly project: string
  readonly transcript: string
  readonly taken: InboxFrame[] = []
  /** connections whose auth was wrong (dropped) */
  refused = 0
  /** called with each message taken, and when (performance.now()) */
  ontake: ((f: InboxFrame, at: number) => void) | null = null
  private readonly server: net.Server
  private waiters: Array<() => void> = []

  private constructor (t: Teardown, opts: { token?: string, transcript?: boolean }) {
    this.dir = tmpDir(t, 'cm-inbox-')
    this.socket = path.join(this.dir, 'cc.sock')
    this.token = opts.token ?? crypto.randomBytes(16).toString('hex')
    this.project = path.join(this.dir, 'project')
    fs.mkdirSync(this.project)
    this.transcript = path.join(this.dir, 'config', 'projects', this.project.replace(/[^A-Za-z0-9]/g, '-'), `${this.sessionId}.jsonl`)
    const record = opts.transcript !== false
    this.server = net.createServer((conn) => {
      let buffered = ''
      let authed: boolean | null = null
      conn.setEncoding('utf-8')
      conn.on('error', () => {})
      conn.on('data', (d: string) => {
        buffered += d
        let nl: number
        while ((nl = buffered.indexOf('\n')) !== -1) {
          const line = buffered.slice(0, nl)
          buffered = buffered.slice(nl + 1)
          let frame: { type?: string, token?: string, message?: { content?: string }, priority?: string }
          try { frame = JSON.parse(line) } catch { conn.destroy(); return }
          if (authed === null) {
            authed = frame.type === 'auth' && frame.token === this.token
            if (!authed) { this.refused++; this.wake(); conn.destroy(); return }
            continue
          }
          if (frame.type !== 'user' || typeof frame.message?.content !== 'string') continue
          const taken = { content: frame.message.content, priority: String(frame.priority) }
          this.ontake?.(taken, performance.now())
          this.taken.push(taken)
          if (record) {
            fs.mkdirSync(path.dirname(this.transcript), { recursive: true })
            fs.appendFileSync(this.transcript, JSON.stringify({ type: 'queue-operation', operation: 'enqueue', timestamp: new Date().toISOString(), sessionId: this.sessionId, content: frame.message.content }) + '\n')
          }
          this.wake()
        }
      })
    })
  }

  static async start (t: Teardown, opts: { token?: string, transcript?: boolean } = {}): Promise<FakeInbox> {
    const inbox = new FakeInbox(t, opts)
    await new Promise<void>((resolve) => inbox.server.listen(inbox.socket, () => resolve()))
    fs.chmodSync(inbox.socket, 0o600)
    t.teardown(() => new Promise<void>((resolve) => inbox.server.close(() => resolve())), { order: 6 })
    return inbox
  }

  /** What Claude Code gives its MCP servers; `token` to hand them another (wrong) one. */
  env (token = this.token): Record<string, string> {
    return {
      CLAUDE_CODE_MESSAGING_SOCKET: this.socket,
      CLAUDE_CODE_MESSAGING_TOKEN: token,
      CLAUDE_CODE_SESSION_ID: this.sessionId,
      CLAUDE_PROJECT_DIR: this.project,
      CLAUDE_CONFIG_DIR: path.join(this.dir, 'config')
    }
  }

  private wake (): void {
    const w = this.waiters
    this.waiters = []
    for (const fn of w) fn()
  }

  /** Resolves with the first message taken that matches. */
  async next (pred: (f: InboxFrame) => boolean): Promise<InboxFrame> {
    for (;;) {
      const found = this.taken.find(pred)
      if (found !== undefined) return found
      await new Promise<void>((resolve) => this.waiters.push(resolve))
    }
  }

  /** Resolves once `n` connections were dropped for a wrong token. */
  async refusals (n: number): Promise<void> {
    while (this.refused < n) await new Promise<void>((resolve) => this.waiters.push(resolve))
  }
}
