// The guard's port: a loopback TCP port that the PreToolUse hook's bash script
// (hooks/pre-tool-use.sh) reaches through bash's /dev/tcp. A Node process takes longer to start
// here (about 46 ms) than the guard may take before an edit (50 ms), and bash cannot reach a Unix
// socket, hence a port. Both ends prove themselves with secrets in <home>/guard (mode 0600), and
// neither says anything that matters before the other has: the hook sends its token first, and the
// daemon says nothing at all to a connection without it (so nobody can learn the daemon's token);
// the hook sends the tool call only to a port that answered with the daemon's token (so a stale
// port taken by another program learns only a dead daemon's hook token, and no tool call).
//
// Protocol 2 (each line ends with \n):
//   hook -> daemon   "<hook token> <pid> <bytes>"
//   daemon -> hook   "claudemesh-guard 2 <daemon token>"
//   hook -> daemon   <bytes> bytes of Claude Code's JSON (one write: a second small write after a
//                    line would wait out the daemon's delayed ACK, 40 ms, behind Nagle in bash)
//   daemon -> hook   the line for the hook's stdout, the line for its stderr (either may be empty); close
// Anything else closes the connection; the daemon goes on. A connection has 1 s to prove itself;
// when many have not, the oldest of them goes, so a flood cannot keep the hook out.
import net from 'node:net'
import fs from 'node:fs'
import crypto from 'node:crypto'
import { writeFileAtomic } from './home.js'
import { LIMITS } from '../../protocol/limits.js'

export const GUARD_PROTOCOL = 2
const LINE_MAX = 128
const AUTH_MS = 1000
const REQUEST_MS = 5000
/** connections that have not sent the hook token yet (past this, the oldest goes) */
const MAX_UNPROVEN = 64
/** connections with the hook token, being answered (past this, a new one is closed) */
const MAX_PROVEN = 16

export interface GuardAnswer { stdout: string, stderr: string }
/** Answers one PreToolUse call: its JSON, and the pid of the hook's parent (Claude Code). */
export type GuardAsk = (input: Record<string, unknown>, pid: number) => Promise<GuardAnswer>

export class GuardPort {
  readonly file: string
  port = 0
  private readonly ask: GuardAsk
  private readonly log: (line: string) => void
  private readonly server: net.Server
  private readonly unproven = new Set<net.Socket>()
  private readonly proven = new Set<net.Socket>()
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
    fs.rmSync(this.file, { force: true }) // one a daemon that died left behind
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen({ host: '127.0.0.1', port: 0 }, () => { this.server.off('error', reject); resolve() })
    })
    this.server.on('error', (err: Error) => this.log(`guard: ${err.message}`))
    this.port = (this.server.address() as net.AddressInfo).port
    this.written = `${GUARD_PROTOCOL} ${this.port} ${this.daemonToken} ${this.hookToken}\n`
    writeFileAtomic(this.file, this.written)
  }

  async close (): Promise<void> {
    // only our own file: a daemon started since may have written its own
    try { if (this.written !== null && fs.readFileSync(this.file, 'utf-8') === this.written) fs.unlinkSync(this.file) } catch {}
    for (const socket of [...this.unproven, ...this.proven]) socket.destroy()
    if (this.server.listening) await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  private serve (socket: net.Socket): void {
    socket.on('error', () => {})
    if (this.unproven.size >= MAX_UNPROVEN) this.unproven.values().next().value?.destroy()
    this.unproven.add(socket)
    let timer = setTimeout(() => socket.destroy(), AUTH_MS)
    socket.once('close', () => { clearTimeout(timer); this.unproven.delete(socket); this.proven.delete(socket) })
    socket.setNoDelay(true)

    let stage: 'token' | 'body' | 'done' = 'token'
    let line = Buffer.alloc(0)
    let want = 0
    let pid = 0
    const body: Buffer[] = []
    let got = 0
    /** the next line of `chunk` (after what came before it), and what follows it; null: not complete yet */
    const takeLine = (chunk: Buffer): { text: string, rest: Buffer } | null => {
      line = Buffer.concat([line, chunk])
      const nl = line.indexOf(10)
      if (nl === -1) { if (line.length > LINE_MAX) socket.destroy(); return null }
      const text = line.subarray(0, nl).toString('latin1')
      const rest = line.subarray(nl + 1)
      line = Buffer.alloc(0)
      return { text, rest }
    }
    const onData = (chunk: Buffer): void => {
      if (socket.destroyed) return
      if (stage === 'token') {
        const taken = takeLine(chunk)
        if (taken === null) return
        const header = this.header(taken.text)
        if (header === null || this.proven.size >= MAX_PROVEN) { socket.destroy(); return }
        this.unproven.delete(socket)
        this.proven.add(socket)
        clearTimeout(timer)
        timer = setTimeout(() => socket.destroy(), REQUEST_MS)
        socket.write(`claudemesh-guard ${GUARD_PROTOCOL} ${this.daemonToken}\n`)
        want = header.bytes
        pid = header.pid
        stage = 'body'
        chunk = taken.rest
      }
      if (stage === 'done') { socket.destroy(); return } // nothing may follow the body
      got += chunk.length
      if (got > want) { socket.destroy(); return }
      body.push(chunk)
      if (got < want) return
      stage = 'done'
      this.answer(Buffer.concat(body), pid).then((a) => {
        socket.end(`${oneLine(a.stdout)}\n${oneLine(a.stderr)}\n`)
      }, (err: Error) => {
        this.log(`guard: ${err.message}`)
        socket.end(`\nclaudemesh hook: claims were not checked (${oneLine(err.message)}); the edit goes ahead\n`)
      })
    }
    socket.on('data', onData)
  }

  /** "<hook token> <pid> <bytes>", or null when it is not exactly that (the token compared in constant time). */
  private header (line: string): { pid: number, bytes: number } | null {
    const m = /^([^ ]{1,64}) ([0-9]{1,10}) ([0-9]{1,10})$/.exec(line)
    if (m === null) return null
    const given = Buffer.from(m[1] as string, 'latin1')
    const expected = Buffer.from(this.hookToken, 'latin1')
    if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) return null
    const pid = Number(m[2])
    const bytes = Number(m[3])
    if (pid < 1 || bytes > LIMITS.hookInput) return null
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
