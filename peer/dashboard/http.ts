// The dashboard's HTTP server on 127.0.0.1: the guard (guard.ts) first, then the page, its
// scripts, the API (each method of the daemon's contract that the dashboard may call), file
// downloads and the stream of changes. Routing by find-my-way (fastify's router): small, and it
// parses parameters and query strings so we do not.
import http from 'node:http'
import fs from 'node:fs'
import type { Readable } from 'node:stream'
import FindMyWay from 'find-my-way'
import { checkRequest } from './guard.js'
import { MeshError, type ErrorCode } from '../../protocol/errors.js'
import { LIMITS } from '../../protocol/limits.js'
import type { Change } from './live.js'

export interface Asset { type: string, body: () => Buffer | string }

export interface Download { name: string, size: number, stream: Readable }

export interface DashboardHandlers {
  /** a method of the contract, for the dashboard (refuses one it may not call) */
  call: (method: string, params: unknown) => Promise<unknown>
  download: (mesh: string | null, id: string) => Promise<Download>
  /** subscribes to changes; returns the unsubscribe */
  changes: (onchange: (change: Change) => void) => () => void
  assets: Record<string, Asset>
}

const SECURITY_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cache-Control': 'no-store',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Content-Security-Policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}

const KEEPALIVE_MS = 25_000

type Route = (req: http.IncomingMessage, res: http.ServerResponse, params: Record<string, string | undefined>, query: Record<string, string>) => Promise<void>

export class DashboardServer {
  readonly token: string
  private readonly handlers: DashboardHandlers
  private readonly server: http.Server
  private readonly router = FindMyWay()
  private readonly streams = new Set<http.ServerResponse>()
  port = 0

  constructor (token: string, handlers: DashboardHandlers) {
    this.token = token
    this.handlers = handlers
    this.server = http.createServer((req, res) => { this.onrequest(req, res) })
    this.server.on('clientError', (_err, socket) => socket.destroy())
    this.routes()
  }

  get origin (): string {
    return `http://127.0.0.1:${this.port}`
  }

  /** The URL to open: the token is part of the path, so every relative URL of the page carries it. */
  get url (): string {
    return `${this.origin}/t/${this.token}/`
  }

  async listen (port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(port, '127.0.0.1', () => { this.server.off('error', reject); resolve() })
    })
    this.port = (this.server.address() as { port: number }).port
  }

  async close (): Promise<void> {
    for (const res of this.streams) res.end()
    this.streams.clear()
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()))
    this.server.closeAllConnections()
    await closed
  }

  private routes (): void {
    const on = (method: 'GET' | 'POST', path: string, route: Route): void => {
      this.router.on(method, path, () => {}, { route })
    }
    on('GET', '/', async (_req, res) => this.asset(res, 'index.html'))
    on('GET', '/:file', async (_req, res, params) => this.asset(res, params.file ?? ''))
    on('POST', '/api/call/:method', async (req, res, params) => this.apiCall(req, res, params.method ?? ''))
    on('GET', '/api/events', async (req, res) => this.events(req, res))
    on('GET', '/api/files/:id', async (_req, res, params, query) => this.download(res, query.mesh ?? null, params.id ?? ''))
  }

  private onrequest (req: http.IncomingMessage, res: http.ServerResponse): void {
    const verdict = checkRequest(req, this.port, this.token)
    if (!verdict.ok) return this.refuse(res, verdict.status, verdict.why)
    if (verdict.rest === '/' && !/^\/t\/[^/]+\//.test(req.url ?? '')) {
      res.writeHead(308, { ...SECURITY_HEADERS, Location: `/t/${this.token}/` })
      res.end()
      return
    }
    const found = this.router.find(req.method as 'GET', verdict.rest)
    if (found === null) return this.refuse(res, 404, `nothing at ${verdict.rest.slice(0, 200)}`)
    const route = (found.store as { route: Route }).route
    route(req, res, found.params, found.searchParams).catch((err) => {
      if (!res.headersSent) this.json(res, statusOf(err), { ok: false, error: MeshError.from(err).toJSON() })
      else res.destroy()
    })
  }

  private refuse (res: http.ServerResponse, status: number, why: string): void {
    this.json(res, status, { ok: false, error: { code: status === 404 ? 'NOT_FOUND' : status === 401 ? 'UNAUTHORIZED' : 'FORBIDDEN', message: why } })
  }

  private json (res: http.ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body)
    res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) })
    res.end(text)
  }

  private asset (res: http.ServerResponse, name: string): void {
    const asset = Object.hasOwn(this.handlers.assets, name) ? this.handlers.assets[name] : undefined
    if (asset === undefined) return this.refuse(res, 404, `no file ${name.slice(0, 100)}`)
    const body = asset.body()
    res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': asset.type, 'Content-Length': Buffer.byteLength(body) })
    res.end(body)
  }

  private async apiCall (req: http.IncomingMessage, res: http.ServerResponse, method: string): Promise<void> {
    if (!(req.headers['content-type'] ?? '').startsWith('application/json')) {
      return this.json(res, 415, { ok: false, error: MeshError.BAD_INPUT('request', 'must be JSON (Content-Type: application/json)').toJSON() })
    }
    const text = await readBody(req, LIMITS.ipcLine)
    let params: unknown
    try {
      params = text.trim() === '' ? {} : JSON.parse(text)
    } catch {
      throw MeshError.BAD_INPUT('request', 'must be a JSON object')
    }
    const result = await this.handlers.call(method, params)
    this.json(res, 200, { ok: true, result })
  }

  private async events (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'text/event-stream; charset=utf-8', Connection: 'keep-alive' })
    res.write('retry: 1000\n\n')
    this.streams.add(res)
    const stop = this.handlers.changes((change) => res.write(`event: change\ndata: ${JSON.stringify(change)}\n\n`))
    const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS)
    const end = (): void => {
      clearInterval(keepalive)
      stop()
      this.streams.delete(res)
    }
    req.on('close', end)
    res.on('close', end)
  }

  private async download (res: http.ServerResponse, mesh: string | null, id: string): Promise<void> {
    const file = await this.handlers.download(mesh, id)
    // never shown in this page's origin: a shared .html must not run with the dashboard's token
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'Content-Type': 'application/octet-stream',
      'Content-Length': file.size,
      'Content-Disposition': `attachment; filename="${asciiName(file.name)}"; filename*=UTF-8''${encodeURIComponent(file.name)}`,
      'Content-Security-Policy': 'sandbox'
    })
    file.stream.pipe(res)
    res.on('close', () => file.stream.destroy())
    file.stream.on('error', () => res.destroy())
  }
}

function readBody (req: http.IncomingMessage, max: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > max) {
        reject(MeshError.BAD_INPUT('request', `must be at most ${max} bytes`))
        req.destroy()
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf-8')))
    req.on('error', reject)
  })
}

const STATUS: Partial<Record<ErrorCode, number>> = {
  BAD_INPUT: 400,
  NOT_OWNER: 403,
  NOT_A_MEMBER: 403,
  FILE_FORBIDDEN: 403,
  FORBIDDEN: 403,
  MESH_UNKNOWN: 404,
  MEMBER_UNKNOWN: 404,
  FILE_UNKNOWN: 404,
  FILE_EXPIRED: 410,
  FILE_UNAVAILABLE: 503,
  TIMEOUT: 504
}

function statusOf (err: unknown): number {
  const code = (err as { code?: string }).code
  return (code !== undefined ? STATUS[code as ErrorCode] : undefined) ?? 500
}

function asciiName (name: string): string {
  return name.replace(/[^\x20-\x7e]|["\\]/g, '_')
}

export function readAsset (file: string): () => Buffer {
  return () => fs.readFileSync(file)
}
