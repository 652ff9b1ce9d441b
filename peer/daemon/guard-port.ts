// The guard's port: a loopback TCP port that the PreToolUse hook's bash script
// (hooks/pre-tool-use.sh) reaches through bash's /dev/tcp. A Node process takes longer to start
// here (about 46 ms) than the guard may take before an edit (50 ms), and bash cannot reach a Unix
// socket, hence a port. Both ends prove themselves with secrets in <home>/guard (mode 0600): the
// daemon greets with its token before the hook sends anything (a stale port taken by another
// program learns nothing of the tool call), and the hook's first line carries the hook's token.
//
// Protocol 1 (each line ends with \n):
//   daemon -> hook   "claudemesh-guard 1 <daemon token>"
//   hook -> daemon   "<hook token> <pid> <bytes>", then <bytes> bytes of Claude Code's JSON
//   daemon -> hook   the line for the hook's stdout, the line for its stderr (either may be empty); close
// Anything else closes the connection; the daemon goes on.
import net from 'node:net'
import fs from 'node:fs'
import crypto from 'node:crypto'
import { writeFileAtomic } from './home.js'
import { HOOK_INPUT_LIMIT } from '../cli/hook.js'

export const GUARD_PROTOCOL = 1
const HEADER_MAX = 128
const REQUEST_MS = 5000
const MAX_CONNECTIONS = 16

export interface GuardAnswer { stdout: string, stderr: string }
/** Answers one PreToolUse call: its JSON, and the pid of the hook's parent (Claude Code). */
export type GuardAsk = (input: Record<string, unknown>, pid: number) => Promise<GuardAnswer>

export class GuardPort {
  readonly file: string
  port = 0
  private readonly ask: GuardAsk
  private readonly log: (line: string) => void
  private readonly server: net.Server
  private readonly sockets = new Set<net.Socket>()
  private readonly daemonToken = crypto.randomBytes(16).toString('hex')
  private readonly hookToken = crypto.randomBytes(16).toString('hex')
  private written: string | null = null

  constructor (file: string, ask: GuardAsk, log: (line: string) => void = () => {}) {
    this.file = file
    this.ask = ask
    this.log = log
    this.server = net.createServer((socket) => this.serve(socket))
  }

  async ready (): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen({ host: '127.0.0.1', port: 0 }, () => { this.server.off('error', reject); resolve() })
    })
    this.port = (this.server.address() as net.AddressInfo).port
    this.written = `${GUARD_PROTOCOL} ${this.port} ${this.daemonToken} ${this.hookToken}\n`
    writeFileAtomic(this.file, this.written)
  }

  async close (): Promise<void> {
    // only our own file: a daemon started since may have written its own
    try { if (this.written !== null && fs.readFileSync(this.file, 'utf-8') === this.written) fs.unlinkSync(this.file) } catch {}
    for (const socket of this.sockets) socket.destroy()
    if (this.server.listening) await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  private serve (socket: net.Socket): void {
    socket.on('error', () => {})
    if (this.sockets.size >= MAX_CONNECTIONS) { socket.destroy(); return }
    this.sockets.add(socket)
    const timer = setTimeout(() => socket.destroy(), REQUEST_MS)
    socket.once('close', () => { clearTimeout(timer); this.sockets.delete(socket) })
    socket.setNoDelay(true)
    socket.write(`claudemesh-guard ${GUARD_PROTOCOL} ${this.daemonToken}\n`)

    let head = Buffer.alloc(0)
    let want = -1
    let pid = 0
    const body: Buffer[] = []
    let got = 0
    const onData = (chunk: Buffer): void => {
      if (want === -1) {
        head = Buffer.concat([head, chunk])
        const nl = head.indexOf(10)
        if (nl === -1) { if (head.length > HEADER_MAX) socket.destroy(); return }
        const header = this.header(head.subarray(0, nl).toString('latin1'))
        if (header === null) { socket.destroy(); return }
        want = header.bytes
        pid = header.pid
        chunk = head.subarray(nl + 1)
      }
      got += chunk.length
      if (got > want) { socket.destroy(); return }
      body.push(chunk)
      if (got < want) return
      socket.off('data', onData)
      this.answer(Buffer.concat(body), pid).then((a) => {
        socket.end(`${oneLine(a.stdout)}\n${oneLine(a.stderr)}\n`)
      }, (err: Error) => {
        this.log(`guard: ${err.message}`)
        socket.end(`\nclaudemesh hook: claims were not checked (${oneLine(err.message)}); the edit goes ahead\n`)
      })
    }
    socket.on('data', onData)
  }

  /** "<hook token> <pid> <bytes>", or null when it is not exactly that. */
  private header (line: string): { pid: number, bytes: number } | null {
    const parts = line.split(' ')
    if (parts.length !== 3) return null
    const [token, pidText, bytesText] = parts as [string, string, string]
    const given = Buffer.from(token, 'latin1')
    const expected = Buffer.from(this.hookToken, 'latin1')
    if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) return null
    if (!/^[0-9]{1,10}$/.test(pidText) || !/^[0-9]{1,10}$/.test(bytesText)) return null
    const pid = Number(pidText)
    const bytes = Number(bytesText)
    if (pid < 1 || bytes > HOOK_INPUT_LIMIT) return null
    return { pid, bytes }
  }

  private async answer (body: Buffer, pid: number): Promise<GuardAnswer> {
    let input: unknown
    try {
      input = JSON.parse(body.toString('utf-8'))
    } catch {
      return { stdout: '', stderr: 'claudemesh hook: the tool call on stdin was not JSON, so claims were not checked; the edit goes ahead' }
    }
    if (input === null || typeof input !== 'object' || Array.isArray(input)) return { stdout: '', stderr: '' }
    return await this.ask(input as Record<string, unknown>, pid)
  }
}

function oneLine (text: string): string {
  return text.replace(/[\r\n]+/g, ' ')
}
