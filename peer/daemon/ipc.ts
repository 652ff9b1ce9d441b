// IPC between the daemon and its clients: one JSON object per line on a unix socket (mode 0600).
import net from 'node:net'
import fs from 'node:fs'
import { z } from 'zod'
import { MeshError } from '../../protocol/errors.js'
import { LIMITS } from '../../protocol/limits.js'

export const IpcRequest = z.object({ id: z.number().int().nonnegative(), method: z.string().min(1).max(64), params: z.unknown().optional() })
export type IpcRequest = z.infer<typeof IpcRequest>

export type Handler = (params: unknown, conn: IpcConnection) => Promise<unknown>

export class IpcConnection {
  readonly socket: net.Socket
  private buffered = ''

  constructor (socket: net.Socket, onrequest: (req: IpcRequest, conn: IpcConnection) => void) {
    this.socket = socket
    socket.setEncoding('utf-8')
    socket.on('error', noop)
    socket.on('data', (chunk: string) => {
      this.buffered += chunk
      if (this.buffered.length > LIMITS.ipcLine && !this.buffered.includes('\n')) {
        this.send({ id: 0, ok: false, error: MeshError.BAD_INPUT('request', `a line must be under ${LIMITS.ipcLine} bytes`).toJSON() })
        socket.end()
        return
      }
      let nl: number
      while ((nl = this.buffered.indexOf('\n')) !== -1) {
        const line = this.buffered.slice(0, nl)
        this.buffered = this.buffered.slice(nl + 1)
        if (line.trim() === '') continue
        let parsed: unknown
        try {
          parsed = JSON.parse(line)
        } catch {
          this.send({ id: 0, ok: false, error: MeshError.BAD_INPUT('request', 'must be one JSON object per line').toJSON() })
          continue
        }
        const req = IpcRequest.safeParse(parsed)
        if (!req.success) {
          this.send({ id: 0, ok: false, error: MeshError.BAD_INPUT('request', 'must be {"id": number, "method": string, "params"?: object}').toJSON() })
          continue
        }
        onrequest(req.data, this)
      }
    })
  }

  send (message: unknown): void {
    if (!this.socket.writable) return
    this.socket.write(JSON.stringify(message) + '\n')
  }
}

export class IpcServer {
  private readonly server: net.Server
  private readonly handlers = new Map<string, Handler>()
  readonly connections = new Set<IpcConnection>()

  constructor () {
    this.server = net.createServer((socket) => {
      const conn = new IpcConnection(socket, (req, c) => { this.dispatch(req, c) })
      this.connections.add(conn)
      socket.on('close', () => this.connections.delete(conn))
    })
  }

  handle (method: string, handler: Handler): void {
    this.handlers.set(method, handler)
  }

  private dispatch (req: IpcRequest, conn: IpcConnection): void {
    const handler = this.handlers.get(req.method)
    if (handler === undefined) {
      conn.send({ id: req.id, ok: false, error: MeshError.BAD_INPUT('method', `unknown method "${req.method}"`).toJSON() })
      return
    }
    handler(req.params ?? {}, conn).then(
      (result) => conn.send({ id: req.id, ok: true, result }),
      (err) => conn.send({ id: req.id, ok: false, error: MeshError.from(err).toJSON() })
    )
  }

  async listen (socketPath: string): Promise<void> {
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
