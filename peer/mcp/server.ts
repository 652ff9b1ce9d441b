// `claudemesh mcp`: the stdio MCP server Claude Code starts. A thin client of the daemon: it
// registers one session, exposes the mesh tools, and hands incoming messages to Claude by the one
// path the session has: Claude Code's own session inbox, channel notifications, or (doing nothing
// here) hooks and check_messages. It keeps the session on the mesh when the daemon restarts.
import path from 'node:path'
import { Server } from '@modelcontextprotocol/sdk/server/index.js'
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js'
import { ListToolsRequestSchema, CallToolRequestSchema } from '@modelcontextprotocol/sdk/types.js'
import { z } from 'zod'
import type { IpcClient } from '../daemon/ipc-client.js'
import { DaemonLink } from './daemon-link.js'
import { detectInbox, writeInbox, TranscriptWatch, CONFIRM_MS } from './inbox.js'
import { instructions } from './instructions.js'
import { VERSION } from '../cli/version.js'
import { MeshError } from '../../protocol/errors.js'
import { parse } from '../../protocol/schema.js'
import type { SessionInfo, Receives } from '../../protocol/session-wire.js'
import type { Delivered, StateChange } from '../daemon/contract.js'
import { messageNotification, stateNotification, inboxText } from './format.js'
import { body } from '../../protocol/display.js'
import { TOOL_LIST, toolNamed, inputJsonSchema } from './tools.js'

export interface McpOptions { name?: string, role?: string, groups?: string, mesh?: string, channel: boolean }

/** A failed call as Claude reads it: the sentence and its code (`set_state.key: must not be empty [BAD_INPUT]`). */
function errorResult (err: unknown): { content: Array<{ type: 'text', text: string }>, structuredContent: Record<string, unknown>, isError: true } {
  const e = MeshError.from(err)
  const text = `${e.message} [${e.code}]`
  return { content: [{ type: 'text', text }], structuredContent: { text, error: e.toJSON() }, isError: true }
}

export async function runMcpServer (opts: McpOptions): Promise<void> {
  // how this session's Claude gets messages: Claude Code's own inbox where it offers one, else a channel when asked for, else hooks
  const inbox = detectInbox()
  const receives: Receives = inbox !== null ? 'inbox' : opts.channel ? 'channel' : 'hooks'
  const watch = inbox?.transcript === null || inbox === null ? null : new TranscriptWatch(inbox.transcript)
  // pushes that arrive before Claude Code finished initializing wait here, so none is lost
  const early: Array<[string, unknown]> = []
  let forward: ((event: string, data: unknown) => void) | null = null
  let self: SessionInfo | null = null
  let mesh = ''
  let warning: string | null = null
  const link: DaemonLink = new DaemonLink({
    log: (line) => { process.stderr.write(`claudemesh mcp: ${line}\n`) },
    onpush: (event, data) => {
      if (event === 'message' && (data as { confirm?: boolean }).confirm === true) {
        toInbox(data as Delivered).catch(() => {})
        return
      }
      if (event !== 'message' && event !== 'state' && event !== 'notice') return
      if (forward === null) early.push([event, data])
      else forward(event, data)
    },
    // the first time a new session; after the daemon came back, the same one again (id, proof, what it set since)
    register: async (client) => {
      const again = self
      const registered = await client.request('session.register', {
        name: again?.name ?? opts.name ?? null,
        role: again?.role ?? opts.role ?? null,
        groups: again !== null ? again.groups.map((g) => g.role === null ? g.name : `${g.name}:${g.role}`) : opts.groups ?? null,
        mesh: again !== null ? mesh : opts.mesh ?? null,
        cwd: process.cwd(),
        channel: receives === 'channel',
        receives: again?.receives ?? receives,
        claudePid: process.ppid,
        ...(again?.proof !== undefined ? { id: again.id, proof: again.proof } : {})
      })
      if (again !== null && (again.summary !== '' || again.status !== 'idle')) {
        registered.session = await client.request('session.update', { summary: again.summary, status: again.status })
      }
      self = registered.session
      mesh = registered.mesh
      warning = registered.warning
    }
  })
  await link.open()
  if (self === null) throw new Error('the daemon registered no session')
  const first: SessionInfo = self
  const server = new Server({ name: 'claudemesh', version: VERSION }, {
    capabilities: { experimental: { 'claude/channel': {} }, tools: {} },
    instructions: instructions(first, mesh, receives)
  })

  /** Hands a message to the session's Claude Code inbox; says to the daemon whether Claude Code took it. */
  const toInbox = async (m: Delivered): Promise<void> => {
    if (inbox === null) return
    const mark = `claudemesh message ${m.id}`
    // sent before the daemon restarted, and taken: say so, and do not send it twice
    if (watch !== null && await watch.expect(mark, 0)) {
      await link.request('message.delivered', { ids: [m.id] })
      return
    }
    try {
      await writeInbox(inbox, inboxText(m), m.priority === 'now' ? 'now' : 'next')
    } catch (err) {
      await fallBack([m.id], `Claude Code's inbox could not be written (${(err as Error).message})`)
      return
    }
    // without a transcript to look at, a message the inbox accepted counts as delivered
    if (watch === null || await watch.expect(mark)) await link.request('message.delivered', { ids: [m.id] })
    else await fallBack([m.id], `Claude Code's inbox did not take a message within ${CONFIRM_MS / 1000} s`)
  }
  /** The inbox does not work for this session: its messages are held for its hooks and check_messages. */
  const fallBack = async (ids: string[], why: string): Promise<void> => {
    process.stderr.write(`claudemesh mcp: ${why}; messages wait for hooks and check_messages from now on\n`)
    await link.request('message.undelivered', { ids })
    self = await link.request('session.receives', { receives: 'hooks', why })
  }

  const ctx = { cwd: process.cwd() }
  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: TOOL_LIST.map((t) => ({ name: t.name, title: t.title, description: t.description, inputSchema: inputJsonSchema(t), annotations: { title: t.title, ...t.annotations } }))
  }))
  server.setRequestHandler(CallToolRequestSchema, async (request) => {
    const tool = toolNamed(request.params.name)
    if (tool === undefined) return errorResult(MeshError.BAD_INPUT('name', `no tool ${request.params.name.slice(0, 64)}; the tools are ${TOOL_LIST.map((t) => t.name).join(', ')}`))
    try {
      const args = parse(z.object(tool.input), request.params.arguments ?? {}, tool.name)
      const result = await link.call(tool.method, tool.params(args, ctx)) as never
      if (tool.method.startsWith('session.')) self = (result as { session?: SessionInfo }).session ?? result as SessionInfo // what to register again if the daemon restarts
      const body = tool.format(result, args)
      return { content: [{ type: 'text' as const, text: body }], structuredContent: { text: body, ...tool.structured(result) } }
    } catch (err) {
      return errorResult(err)
    }
  })

  const channel = (content: string, meta: Record<string, string>): void => {
    server.notification({ method: 'notifications/claude/channel', params: { content, meta } }).catch(() => {})
  }
  const notify = (event: string, data: unknown): void => {
    if (event === 'notice') {
      // claudemesh itself speaking (a claim that settled): by the session's path
      const n = data as { text: string, meta: Record<string, string> }
      if (inbox !== null) writeInbox(inbox, n.text, 'next').catch(() => {})
      else channel(body(n.text, 'channel'), n.meta)
      return
    }
    const n = event === 'message' ? messageNotification(data as Delivered) : event === 'state' ? stateNotification(data as StateChange) : null
    if (n !== null) channel(n.content, n.meta)
  }
  server.oninitialized = () => {
    forward = notify
    for (const [event, data] of early.splice(0)) notify(event, data)
  }

  const transport = new StdioServerTransport()
  let stopping = false
  const stop = (): void => {
    if (stopping) return
    stopping = true
    watch?.close()
    link.close()
    server.close().catch(() => {}).finally(() => process.exit(0))
  }
  transport.onclose = stop
  process.stdin.on('end', stop)
  link.on('stopped', () => {
    process.stderr.write('claudemesh mcp: the daemon was stopped; this session left the mesh\n')
    stop()
  })
  await server.connect(transport)
  if (warning !== null) process.stderr.write(`claudemesh mcp: ${String(warning)}\n`)
}

export type { IpcClient }
