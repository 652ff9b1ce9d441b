// A stand-in for the Anthropic Messages API on 127.0.0.1, for the real Claude Code CLI in tests:
// it records every request and answers each /v1/messages call with what `reply` says (a text, or a
// tool call), streamed as server-sent events when asked for a stream, the way the API does.
import http from 'node:http'
import type { AddressInfo } from 'node:net'

export interface ApiRequest { method: string, url: string, raw: string, body: any }

export type Reply = { text: string } | { tool: string, input: Record<string, unknown> }

export class FakeMessagesApi {
  readonly requests: ApiRequest[] = []
  private readonly server: http.Server
  private waiters: Array<() => void> = []
  reply: (req: ApiRequest) => Reply = () => ({ text: 'ok' })
  private n = 0

  private constructor () {
    this.server = http.createServer((req, res) => {
      let raw = ''
      req.setEncoding('utf-8')
      req.on('data', (d: string) => { raw += d })
      req.on('end', () => {
        let body: any = null
        try { body = JSON.parse(raw) } catch {}
        const request: ApiRequest = { method: req.method ?? '', url: req.url ?? '', raw, body }
        this.requests.push(request)
        const w = this.waiters
        this.waiters = []
        for (const fn of w) fn()
        if (request.method === 'POST' && request.url.startsWith('/v1/messages') && !request.url.includes('count_tokens')) this.answer(request, res)
        else if (request.url.includes('count_tokens')) json(res, { input_tokens: 10 })
        else { res.writeHead(404, { 'content-type': 'application/json' }); res.end('{}') }
      })
    })
  }

  static async start (): Promise<FakeMessagesApi> {
    const api = new FakeMessagesApi()
    await new Promise<void>((resolve) => api.server.listen(0, '127.0.0.1', () => resolve()))
    return api
  }

  get url (): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
  }

  private answer (req: ApiRequest, res: http.ServerResponse): void {
    const n = ++this.n
    const reply = this.reply(req)
    const block = 'text' in reply ? { type: 'text', text: reply.text } : { type: 'tool_use', id: `toolu_${n}`, name: reply.tool, input: reply.input }
    const stop = 'text' in reply ? 'end_turn' : 'tool_use'
    const message = { id: `msg_${n}`, type: 'message', role: 'assistant', model: req.body?.model ?? 'claude', content: [block], stop_reason: stop, stop_sequence: null, usage: { input_tokens: 10, output_tokens: 5 } }
    if (req.body?.stream !== true) {
      json(res, message)
      return
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    const ev = (type: string, data: object): void => { res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`) }
    ev('message_start', { message: { ...message, content: [], stop_reason: null } })
    if (block.type === 'text') {
      ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } })
      ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: block.text } })
    } else {
      ev('content_block_start', { index: 0, content_block: { ...block, input: {} } })
      ev('content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: JSON.stringify(block.input) } })
    }
    ev('content_block_stop', { index: 0 })
    ev('message_delta', { delta: { stop_reason: stop, stop_sequence: null }, usage: { output_tokens: 5 } })
    ev('message_stop', {})
    res.end()
  }

  /** Resolves with the first request (made or coming) that matches. */
  async next (pred: (r: ApiRequest) => boolean, ms: number): Promise<ApiRequest | null> {
    const deadline = Date.now() + ms
    for (;;) {
      const found = this.requests.find(pred)
      if (found !== undefined) return found
      const left = deadline - Date.now()
      if (left <= 0) return null
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left)
        this.waiters.push(() => { clearTimeout(timer); resolve() })
      })
    }
  }

  async close (): Promise<void> {
    this.server.closeAllConnections()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }
}

function json (res: http.ServerResponse, value: unknown): void {
  res.writeHead(200, { 'content-type': 'application/json' })
  res.end(JSON.stringify(value))
}
