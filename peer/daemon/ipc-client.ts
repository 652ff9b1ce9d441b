// The daemon's IPC client: one JSON object per line on the daemon's unix socket.
// Kept free of heavy imports: the CLI, MCP server and hooks load it on every run.
import net from 'node:net'
import { EventEmitter } from 'node:events'
import { MeshError, type ErrorCode } from '../../protocol/errors.js'
import { LineSplitter, toLine } from './lines.js'
import type { Method, Params, Result, NoParams } from './contract.js'

/** the longest answer a client takes (a daemon's whole memory list can be tens of MB) */
export const MAX_REPLY_LINE = 256 * 1024 * 1024

/** A client for one request at a time over the socket; used by the CLI, MCP server and hooks. */
export class IpcClient extends EventEmitter {
  private readonly socket: net.Socket
  private nextId = 1
  private readonly pending = new Map<number, { resolve: (v: unknown) => void, reject: (e: Error) => void }>()
  private closedError: Error | null = null

  private constructor (socket: net.Socket, maxLine: number) {
    super()
    this.socket = socket
    socket.setEncoding('utf-8')
    const lines = new LineSplitter(maxLine, {
      line: (line) => this.onmessage(line),
      oversize: (max) => {
        this.closedError = MeshError.DAEMON_UNREACHABLE(`the daemon sent an answer over ${max} bytes; the connection was closed`)
        socket.destroy()
      }
    })
    socket.on('data', (chunk: string) => lines.push(chunk))
    const onend = (): void => {
      this.emit('close')
      this.closedError ??= MeshError.DAEMON_UNREACHABLE('the daemon closed the connection')
      for (const p of this.pending.values()) p.reject(this.closedError)
      this.pending.clear()
    }
    socket.on('close', onend)
    socket.on('error', (err) => { this.closedError = MeshError.DAEMON_UNREACHABLE(err.message) })
  }

  /** `maxLine`: the longest answer taken (default MAX_REPLY_LINE) */
  static connect (socketPath: string, opts: { maxLine?: number } = {}): Promise<IpcClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(socketPath)
      socket.once('connect', () => { socket.removeAllListeners('error'); resolve(new IpcClient(socket, opts.maxLine ?? MAX_REPLY_LINE)) })
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

  /** A method of the daemon's contract, with its parameters; resolves with its result. */
  request<M extends NoParams> (method: M, params?: Params<M>): Promise<Result<M>>
  request<M extends Method> (method: M, params: Params<M>): Promise<Result<M>>
  request (method: Method, params: unknown = {}): Promise<unknown> {
    return this.raw(method, params)
  }

  /** Any method name and any parameters, unchecked here: for tests of what the daemon refuses. */
  raw (method: string, params: unknown = {}): Promise<unknown> {
    if (this.closedError !== null || this.socket.destroyed) return Promise.reject(this.closedError ?? MeshError.DAEMON_UNREACHABLE('connection closed'))
    const id = this.nextId++
    return new Promise<unknown>((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      this.socket.write(toLine({ id, method, params }))
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

