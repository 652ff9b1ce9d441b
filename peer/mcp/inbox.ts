// Claude Code's own session inbox (v2.1.224 and later): every MCP server it starts gets
// CLAUDE_CODE_MESSAGING_SOCKET (a unix socket Claude Code listens on, one per session) and
// CLAUDE_CODE_MESSAGING_TOKEN. A connection that writes `{"type":"auth","token"}` and then
// `{"type":"user","message":{"role":"user","content"},"priority"}` puts the text into the session
// as a message from another Claude session, and starts a turn in an idle one. Not a documented
// public API: this detects what the session offers, and the socket answers nothing (a wrong token
// is dropped in silence), so a message counts as delivered only once the session's transcript
// shows Claude Code took it (a `queue-operation` enqueue, or a user turn, carrying its id).
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'

/** how long Claude Code has to show it took a message before it counts as not taken (CLAUDEMESH_INBOX_CONFIRM_MS) */
export const CONFIRM_MS = positive(process.env.CLAUDEMESH_INBOX_CONFIRM_MS) ?? 10_000

function positive (value: string | undefined): number | null {
  const n = Number(value)
  return value !== undefined && Number.isInteger(n) && n > 0 ? n : null
}
const WRITE_TIMEOUT_MS = 5000

export interface InboxEnv {
  socket: string
  token: string
  /** the session's transcript, where Claude Code records what it took; null when it cannot be found */
  transcript: string | null
}

/**
 * What this session offers, from the environment Claude Code gave its MCP server: the inbox's
 * socket and token (both needed, and the socket must exist), and where its transcript is.
 */
export function detectInbox (env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): InboxEnv | null {
  const socket = env.CLAUDE_CODE_MESSAGING_SOCKET
  const token = env.CLAUDE_CODE_MESSAGING_TOKEN
  if (socket === undefined || socket === '' || token === undefined || token === '') return null
  try {
    if (!fs.statSync(socket).isSocket()) return null
  } catch {
    return null
  }
  return { socket, token, transcript: transcriptPath(env, cwd) }
}

/** `<config dir>/projects/<project dir, every other character than a letter or digit as ->/<session id>.jsonl` */
export function transcriptPath (env: NodeJS.ProcessEnv, cwd: string): string | null {
  const session = env.CLAUDE_CODE_SESSION_ID
  if (session === undefined || !/^[0-9A-Za-z-]{8,128}$/.test(session)) return null
  const config = env.CLAUDE_CONFIG_DIR !== undefined && env.CLAUDE_CONFIG_DIR !== '' ? env.CLAUDE_CONFIG_DIR : path.join(env.HOME ?? os.homedir(), '.claude')
  const project = env.CLAUDE_PROJECT_DIR !== undefined && env.CLAUDE_PROJECT_DIR !== '' ? env.CLAUDE_PROJECT_DIR : cwd
  return path.join(config, 'projects', project.replace(/[^A-Za-z0-9]/g, '-'), `${session}.jsonl`)
}

/** Writes one message to the inbox: auth, then the message, then the end of the connection. */
export async function writeInbox (inbox: InboxEnv, content: string, priority: 'now' | 'next'): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const socket = net.connect(inbox.socket)
    const timer = setTimeout(() => { socket.destroy(new Error('the inbox did not take the message in time')) }, WRITE_TIMEOUT_MS)
    socket.once('error', (err) => { clearTimeout(timer); reject(err) })
    socket.once('connect', () => {
      socket.write(JSON.stringify({ type: 'auth', token: inbox.token }) + '\n')
      socket.end(JSON.stringify({ type: 'user', message: { role: 'user', content }, priority }) + '\n')
    })
    socket.once('close', (hadError) => { clearTimeout(timer); if (!hadError) resolve() })
    socket.on('data', () => {}) // it says nothing today; whatever it says is not read
  })
}

/**
 * Follows the session's transcript for the marks of messages Claude Code took: each `expect(mark)`
 * resolves true once a line carrying the mark appears (also one written before), false after
 * CONFIRM_MS. Reads only what was appended since the last look.
 */
export class TranscriptWatch {
  private readonly file: string
  private offset = 0
  private partial = ''
  private readonly seen = new Set<string>()
  private readonly waiting = new Map<string, Array<(found: boolean) => void>>()
  private watcher: fs.FSWatcher | null = null
  private timer: NodeJS.Timeout | null = null
  private reading: Promise<void> | null = null
  private again = false

  constructor (file: string) {
    this.file = file
  }

  async expect (mark: string, ms = CONFIRM_MS): Promise<boolean> {
    await this.read()
    if (this.found(mark)) return true
    this.start()
    return await new Promise<boolean>((resolve) => {
      const done = (found: boolean): void => { clearTimeout(t); resolve(found) }
      const t = setTimeout(() => {
        const list = this.waiting.get(mark)?.filter((f) => f !== done) ?? []
        if (list.length === 0) this.waiting.delete(mark); else this.waiting.set(mark, list)
        this.stopIfIdle()
        resolve(false)
      }, ms)
      this.waiting.set(mark, [...(this.waiting.get(mark) ?? []), done])
    })
  }

  private found (mark: string): boolean {
    return this.seen.has(mark)
  }

  /** Watches the transcript's folder (the file may not exist yet), with a slow poll in case a change is missed. */
  private start (): void {
    if (this.timer !== null) return
    try {
      fs.mkdirSync(path.dirname(this.file), { recursive: true })
      this.watcher = fs.watch(path.dirname(this.file), () => { this.read().catch(() => {}) })
      this.watcher.on('error', () => {})
    } catch {
      this.watcher = null
    }
    this.timer = setInterval(() => { this.read().catch(() => {}) }, 250)
    this.timer.unref()
  }

  private stopIfIdle (): void {
    if (this.waiting.size > 0) return
    this.watcher?.close()
    this.watcher = null
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
  }

  private async read (): Promise<void> {
    if (this.reading !== null) {
      this.again = true
      return await this.reading
    }
    this.reading = (async () => {
      do {
        this.again = false
        await this.readOnce()
      } while (this.again)
    })()
    try {
      await this.reading
    } finally {
      this.reading = null
    }
  }

  private async readOnce (): Promise<void> {
    let handle: fs.promises.FileHandle
    try {
      handle = await fs.promises.open(this.file, 'r')
    } catch {
      return
    }
    try {
      const { size } = await handle.stat()
      if (size < this.offset) { this.offset = 0; this.partial = '' } // a new file in its place
      if (size === this.offset) return
      const buf = Buffer.alloc(size - this.offset)
      await handle.read(buf, 0, buf.length, this.offset)
      this.offset = size
      const lines = (this.partial + buf.toString('utf-8')).split('\n')
      this.partial = lines.pop() ?? ''
      for (const line of lines) this.scan(line)
    } finally {
      await handle.close()
    }
  }

  /** A line of the transcript that shows Claude Code took a message: its queue enqueue, or the user turn. */
  private scan (line: string): void {
    if (!line.includes('"queue-operation"') && !line.includes('"type":"user"')) return
    for (const [mark, fns] of [...this.waiting]) {
      if (!line.includes(mark)) continue
      this.waiting.delete(mark)
      this.seen.add(mark)
      for (const fn of fns) fn(true)
    }
    const marks = line.match(/claudemesh message [0-9a-f]{32}/g)
    for (const m of marks ?? []) this.seen.add(m)
    if (this.seen.size > 4096) this.seen.clear()
    this.stopIfIdle()
  }

  close (): void {
    for (const fns of this.waiting.values()) for (const fn of fns) fn(false)
    this.waiting.clear()
    this.stopIfIdle()
  }
}
