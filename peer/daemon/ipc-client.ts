// The daemon's IPC client: one JSON object per line on the daemon's unix socket.
// Kept free of heavy imports: the CLI, MCP server and hooks load it on every run.
import net from 'node:net'
import { EventEmitter } from 'node:events'
import { MeshError, type ErrorCode } from '../../protocol/errors.js'

/** A client for one request at a time over the socket; used by the CLI, MCP server and hooks. */
export class IpcClient extends EventEmitter {
  private readonly socket: net.Socket
  private buffered = ''
  private nextId = 1
  private readonly pending = new Map<number, { resolve: (v: unknown) => void, reject: (e: Error) => void }>()
  private closedError: Error | null = null

  private constructor (socket: net.Socket) {
    super()
    this.socket = socket
    socket.setEncoding('utf-8')
    socket.on('data', (chunk: string) => {
      this.buffered += chunk
      let nl: number
      while ((nl = this.buffered.indexOf('\n')) !== -1) {
        const line = this.buffered.slice(0, nl)
        this.buffered = this.buffered.slice(nl + 1)
        this.onmessage(line)
      }
    })
    const onend = (): void => {
      this.emit('close')
      this.closedError ??= MeshError.DAEMON_UNREACHABLE('the daemon closed the connection')
      for (const p of this.pending.values()) p.reject(this.closedError)
      this.pending.clear()
    }
    socket.on('close', onend)
    socket.on('error', (err) => { this.closedError = MeshError.DAEMON_UNREACHABLE(err.message) })
  }

  static connect (socketPath: string): Promise<IpcClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(socketPath)
      socket.once('connect', () => { socket.removeAllListeners('error'); resolve(new IpcClient(socket)) })
      socket.once('error', (err: NodeJS.ErrnoException) => {
        const notRunning = err.code === 'ENOENT' || err.code === 'ECONNREFUSED'
        reject(Object.assign(MeshError.DAEMON_UNREACHABLE(notRunning ? 'it is not running' : `${socketPath}: ${err.message}`), { notRunning }))
      })
    })
  }

  private onmessage (line: string): void {
    let msg: { id?: number, ok?: boolean, result?: unknown, error?: { code: string, message: string }, event?: string, data?: unknown }
    try {
      msg = JSON.parse(line)
    } catch {
      return
    }
    if (typeof msg.event === 'string') {
      this.emit('push', msg.event, msg.data)
      return
    }
    const pending = this.pending.get(msg.id ?? -1)
    if (pending === undefined) return
    this.pending.delete(msg.id ?? -1)
    if (msg.ok === true) pending.resolve(msg.result)
    else pending.reject(new MeshError((msg.error?.code ?? 'INTERNAL') as ErrorCode, msg.error?.message ?? 'daemon error'))
  }

  request<T = unknown> (method: string, params: unknown = {}): Promise<T> {
    if (this.closedError !== null || this.socket.destroyed) return Promise.reject(this.closedError ?? MeshError.DAEMON_UNREACHABLE('connection closed'))
    const id = this.nextId++
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject })
      this.socket.write(JSON.stringify({ id, method, params }) + '\n')
    })
  }

  isClosed (): boolean {
    return this.closedError !== null || this.socket.destroyed
  }

  /** Resolves when the daemon closes the connection (it does so as it exits). */
  closed (): Promise<void> {
    if (this.socket.destroyed) return Promise.resolve()
    return new Promise((resolve) => this.socket.once('close', () => resolve()))
  }

  close (): void {
    this.socket.end()
  }
}

