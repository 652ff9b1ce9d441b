// IPC between the daemon and its clients: one JSON object per line on a unix socket (mode 0600).
// Every method is an entry of the contract (contract.ts): its parameters are checked here, before
// the handler runs, so a handler gets what its entry promises.
import net from 'node:net'
import fs from 'node:fs'
import { z } from 'zod'
import { MeshError } from '../../protocol/errors.js'
import { LIMITS } from '../../protocol/limits.js'
import { parse } from '../../protocol/schema.js'
import { LineSplitter, toLine } from './lines.js'
import { CONTRACT, METHODS, isMethod, type Method, type Parsed, type Result } from './contract.js'

export const IpcRequest = z.object({ id: z.number().int().nonnegative(), method: z.string().min(1).max(64), params: z.unknown().optional() })
export type IpcRequest = z.infer<typeof IpcRequest>

/** A handler gets checked parameters and the connection (null: the dashboard, a person at this machine). */
export type Handler<M extends Method> = (params: Parsed<M>, conn: IpcConnection | null) => Promise<Result<M>>

export class IpcConnection {
  readonly socket: net.Socket

  constructor (socket: net.Socket, onrequest: (req: IpcRequest, conn: IpcConnection) => void) {
    this.socket = socket
    socket.setEncoding('utf-8')
    socket.on('error', noop)
    const lines = new LineSplitter(LIMITS.ipcLine, {
      line: (line) => {
        let parsed: unknown
        try {
          parsed = JSON.parse(line)
        } catch {
          this.send({ id: 0, ok: false, error: MeshError.BAD_INPUT('request', 'must be one JSON object per line').toJSON() })
          return
        }
        const req = IpcRequest.safeParse(parsed)
        if (!req.success) {
          this.send({ id: 0, ok: false, error: MeshError.BAD_INPUT('request', 'must be {"id": number, "method": string, "params"?: object}').toJSON() })
          return
        }
        onrequest(req.data, this)
      },
      oversize: (max) => {
        this.send({ id: 0, ok: false, error: MeshError.BAD_INPUT('request', `a line must be under ${max} bytes`).toJSON() })
        socket.end()
      }
    })
    socket.on('data', (chunk: string) => lines.push(chunk))
  }

  send (message: unknown): void {
    if (!this.socket.writable) return
    this.socket.write(toLine(message))
  }
}

export class IpcServer {
  private readonly server: net.Server
  private readonly handlers = new Map<Method, Handler<any>>()
  readonly connections = new Set<IpcConnection>()

  constructor () {
    this.server = net.createServer((socket) => {
      const conn = new IpcConnection(socket, (req, c) => { this.dispatch(req, c) })
      this.connections.add(conn)
      socket.on('close', () => this.connections.delete(conn))
    })
  }

  handle<M extends Method> (method: M, handler: Handler<M>): void {
    this.handlers.set(method, handler)
  }

  /** Checks the parameters against the method's entry and runs its handler. */
  async call (method: string, params: unknown, conn: IpcConnection | null): Promise<unknown> {
    if (!isMethod(method)) throw MeshError.BAD_INPUT('method', `unknown method "${method.slice(0, 64)}"`)
    const handler = this.handlers.get(method)
    if (handler === undefined) throw new MeshError('INTERNAL', `method ${method} has no handler`)
    const spec = CONTRACT[method]
    return await handler(parse(spec.params as z.ZodType<unknown>, params ?? {}, spec.label), conn)
  }

  private dispatch (req: IpcRequest, conn: IpcConnection): void {
    this.call(req.method, req.params, conn).then(
      (result) => conn.send({ id: req.id, ok: true, result }),
      (err) => conn.send({ id: req.id, ok: false, error: MeshError.from(err).toJSON() })
    )
  }

  async listen (socketPath: string): Promise<void> {
    const missing = METHODS.filter((m) => !this.handlers.has(m))
    if (missing.length > 0) throw new MeshError('INTERNAL', `methods of the contract with no handler: ${missing.join(', ')}`)
    try { fs.unlinkSync(socketPath) } catch {}
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(socketPath, () => { this.server.off('error', reject); resolve() })
    })
    fs.chmodSync(socketPath, 0o600)
  }

  /** Stops listening and ends every connection (after flushing what was written to it). */
  async close (): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()))
    for (const conn of this.connections) conn.socket.end()
    const grace = setTimeout(() => { for (const conn of this.connections) conn.socket.destroy() }, 1000)
    grace.unref()
    await closed
    clearTimeout(grace)
  }
}

function noop (): void {}
