// `claudemesh mcp`: the stdio MCP server Claude Code starts. A thin client of the daemon: it
// registers one session, exposes the mesh tools, and hands incoming messages to Claude by the one
// path the session has: Claude Code's own session inbox, channel notifications, or (doing nothing
// here) hooks and check_messages. It keeps the session on the mesh when the daemon restarts.
import path from 'node:path'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js'
import { z } from 'zod'
import type { IpcClient } from '../daemon/ipc-client.js'
import { DaemonLink } from './daemon-link.js'
import { detectInbox, writeInbox, TranscriptWatch, CONFIRM_MS } from './inbox.js'
import { instructions } from './instructions.js'
import { VERSION } from '../cli/version.js'
import { humanBytes } from '../cli/output.js'
import { oneLine } from '../../protocol/display.js'
import { STATUSES, PRIORITIES, type SessionInfo, type Receives } from '../../protocol/session-wire.js'
import type { Delivered, StateChange } from '../daemon/sessions.js'
import type { StateEntry, MemoryEntry, FileEntry } from '../mesh/apply.js'
import { formatHits, formatEntry, formatGroups, formatSend, formatMessages, formatFiles, formatFileStatus, formatPeers, messageNotification, stateNotification, inboxText } from './format.js'

export interface McpOptions { name?: string, role?: string, groups?: string, mesh?: string, channel: boolean }

interface Registered { session: SessionInfo, mesh: string, warning: string | null }

type ToolResult = { content: Array<{ type: 'text', text: string }>, isError?: boolean }

function text (value: string): ToolResult {
  return { content: [{ type: 'text', text: value }] }
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
      if (event !== 'message' && event !== 'state') return
      if (forward === null) early.push([event, data])
      else forward(event, data)
    },
    // the first time a new session; after the daemon came back, the same one again (id, proof, what it set since)
    register: async (client) => {
      const again = self
      const registered = await client.request<Registered>('session.register', {
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
        registered.session = await client.request<SessionInfo>('session.update', { summary: again.summary, status: again.status })
      }
      self = registered.session
      mesh = registered.mesh
      warning = registered.warning
    }
  })
  await link.open()
  if (self === null) throw new Error('the daemon registered no session')
  const first: SessionInfo = self
  const server = new McpServer({ name: 'claudemesh', version: VERSION }, {
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
    self = await link.request<SessionInfo>('session.receives', { receives: 'hooks', why })
  }

  const call = async (method: string, params: object, format: (result: any) => string): Promise<ToolResult> => {
    try {
      const result = await link.request(method, params)
      if (method.startsWith('session.')) self = result as SessionInfo // what to register again if the daemon restarts
      return text(format(result))
    } catch (err) {
      const e = err as { message: string, code?: string }
      return { content: [{ type: 'text', text: `${e.message}${e.code !== undefined ? ` [${e.code}]` : ''}` }], isError: true }
    }
  }

  server.registerTool('send_message', {
    description: 'Send a message to other Claude Code sessions in the mesh. `to`: a session name, a session id (or unique prefix), "@group", "@all" or "*", or an array of these. Returns the message id and each recipient\'s delivery status.',
    inputSchema: {
      to: z.union([z.string(), z.array(z.string())]).describe('recipient(s): name, session id or prefix, @group, @all or *'),
      message: z.string().describe('the message text (up to 64 KiB)'),
      priority: z.enum(PRIORITIES).optional().describe('now: interrupt even in dnd; next (default): when the recipient is idle; low: when it checks'),
      file: z.string().optional().describe('path of a file to attach (only the recipients can read it; it expires after 24 h)'),
      files: z.array(z.string()).optional().describe('paths of files to attach (up to 16)'),
      reply_to: z.string().optional().describe('the id of the message you are answering (its sender then sees it was read)')
    }
  }, async ({ to, message, priority, file, files, reply_to: replyTo }) => {
    const paths = [...(file === undefined ? [] : [file]), ...(files ?? [])].map((p) => path.resolve(process.cwd(), p))
    return await call('message.send', { to, message, priority, ...(paths.length > 0 ? { files: paths } : {}), ...(replyTo !== undefined ? { reply_to: replyTo } : {}) }, formatSend)
  })

  server.registerTool('check_messages', {
    description: 'Fetch the messages waiting for this session (held while it worked, and every low-priority one). Each is handed over once.',
    inputSchema: {}
  }, async () => call('message.check', {}, formatMessages))

  server.registerTool('message_status', {
    description: 'Delivery status of a message you sent, per recipient: queued, held, delivered (and by which path), read (the recipient acted on it), dropped or expired.',
    inputSchema: { id: z.string().describe('the message id returned by send_message') }
  }, async ({ id }) => call('message.status', { id }, formatSend))

  server.registerTool('list_peers', {
    description: 'List the sessions online in the mesh (optionally one group): name, id, role, groups, status, summary and working directory.',
    inputSchema: { group: z.string().optional().describe('only sessions in this group') }
  }, async ({ group }) => call('peers.list', { group: group ?? null }, formatPeers))

  server.registerTool('set_summary', {
    description: 'Set the one-line summary other sessions see for you: what you are working on now.',
    inputSchema: { summary: z.string().describe('up to 1024 characters') }
  }, async ({ summary }) => call('session.update', { summary }, () => 'Summary updated.'))

  server.registerTool('set_status', {
    description: 'Set your status: idle (messages arrive), working (`next` messages wait until you are idle), dnd (only `now` messages reach you).',
    inputSchema: { status: z.enum(STATUSES) }
  }, async ({ status }) => call('session.update', { status }, () => `Status: ${status}.`))

  server.registerTool('join_group', {
    description: 'Join a group (created on first use), optionally with a role such as lead, member or observer. Others can then message the group as @name.',
    inputSchema: { name: z.string().describe('group name'), role: z.string().optional().describe('your role in the group') }
  }, async ({ name, role }) => call('session.join_group', { name, role: role ?? null }, (s: SessionInfo) => `Groups: ${formatGroups(s)}.`))

  server.registerTool('leave_group', {
    description: 'Leave a group.',
    inputSchema: { name: z.string().describe('group name') }
  }, async ({ name }) => call('session.leave_group', { name }, (s: SessionInfo) => `Groups: ${formatGroups(s)}.`))

  const channel = (content: string, meta: Record<string, string>): void => {
    server.server.notification({ method: 'notifications/claude/channel', params: { content, meta } }).catch(() => {})
  }
  const notify = (event: string, data: unknown): void => {
    const n = event === 'message' ? messageNotification(data as Delivered) : event === 'state' ? stateNotification(data as StateChange) : null
    if (n !== null) channel(n.content, n.meta)
  }
  server.server.oninitialized = () => {
    forward = notify
    for (const [event, data] of early.splice(0)) notify(event, data)
  }

  server.registerTool('set_state', {
    description: 'Set a shared state entry for the whole mesh (live coordination: who owns what, build status, the current plan). Any JSON value up to 64 KiB; the last write wins everywhere. Every other session is notified.',
    inputSchema: { key: z.string().describe('up to 256 characters, e.g. "deploy/status"'), value: z.unknown().describe('any JSON value') }
  }, async ({ key, value }) => call('state.set', { key, value }, (e: StateEntry) => `Set "${oneLine(e.key)}" = ${JSON.stringify(e.value)}.`))

  server.registerTool('get_state', {
    description: 'Read one shared state entry: its value, who set it and when. Answers from this machine\'s copy, also offline.',
    inputSchema: { key: z.string() }
  }, async ({ key }) => call('state.get', { key }, (r: { key: string, entry: StateEntry | null }) => r.entry === null ? `"${oneLine(r.key)}" is not set.` : formatEntry(r.entry)))

  server.registerTool('list_state', {
    description: 'List shared state entries, optionally only keys starting with a prefix.',
    inputSchema: { prefix: z.string().optional() }
  }, async ({ prefix }) => call('state.list', { prefix: prefix ?? null }, (entries: StateEntry[]) => entries.length === 0 ? 'No state entries.' : entries.map(formatEntry).join('\n')))

  server.registerTool('delete_state', {
    description: 'Delete a shared state entry for everyone.',
    inputSchema: { key: z.string() }
  }, async ({ key }) => call('state.delete', { key }, () => `Deleted "${key}".`))

  server.registerTool('remember', {
    description: 'Store a piece of knowledge in the mesh\'s shared memory (decisions, conventions, where things are, gotchas), so any session, now or later, can recall it. Returns its id.',
    inputSchema: { content: z.string().describe('up to 16 KiB'), tags: z.array(z.string()).optional().describe('up to 20 tags of 64 characters') }
  }, async ({ content, tags }) => call('memory.remember', { content, tags: tags ?? [] }, (e: MemoryEntry) => `Remembered ${e.id}.`))

  server.registerTool('recall', {
    description: 'Search the mesh\'s shared memory: ranked results with fuzzy and prefix matching (tags weigh more). Use it before starting work that others may have done or decided on.',
    inputSchema: { query: z.string(), limit: z.number().int().optional().describe('default 10'), tags: z.array(z.string()).optional().describe('only entries with all these tags') }
  }, async ({ query, limit, tags }) => call('memory.recall', { query, limit: limit ?? 10, tags: tags ?? [] }, formatHits))

  server.registerTool('share_file', {
    description: 'Share a file with the whole mesh (every current and future member): it stays in your machine\'s drive and others fetch it from you (or from whoever already has it) with get_file. Up to 1 GiB. Returns its id. To send a file to some sessions only, attach it to send_message instead.',
    inputSchema: { path: z.string().describe('the file to share (relative to your working directory, or absolute)'), name: z.string().optional().describe('name others see (default: the file\'s name)'), tags: z.array(z.string()).optional().describe('up to 20 tags of 64 characters') }
  }, async ({ path: file, name, tags }) => call('files.share', { path: path.resolve(process.cwd(), file), name: name ?? null, tags: tags ?? [] }, (e: FileEntry) => `Shared ${oneLine(e.name)} (${humanBytes(e.size)}) as ${e.id}.`))

  server.registerTool('get_file', {
    description: 'Fetch a file shared in the mesh or attached to a message you received, verify it and save it. The file appears complete or not at all; an existing file is kept unless overwrite is true.',
    inputSchema: {
      id: z.string().describe('the file id from list_files or a message'),
      save_to: z.string().describe('where to write it (relative to your working directory, or absolute)'),
      overwrite: z.boolean().optional().describe('replace an existing file (default false)')
    }
  }, async ({ id, save_to: saveTo, overwrite }) => call('files.get', { id, saveTo: path.resolve(process.cwd(), saveTo), overwrite: overwrite ?? false }, (r: { name: string, path: string, bytes: number }) => `Saved ${oneLine(r.name)} (${humanBytes(r.bytes)}, verified) to ${r.path}.`))

  server.registerTool('list_files', {
    description: 'List the files you can fetch: everything shared with the mesh, plus attachments sent to you or by you. Filter by a query (name or tag), by who shared it, or by tags.',
    inputSchema: { query: z.string().optional(), from: z.string().optional().describe('session name, member label or session id prefix'), tags: z.array(z.string()).optional().describe('only files with all these tags') }
  }, async ({ query, from, tags }) => call('files.list', { query: query ?? null, from: from ?? null, tags: tags ?? [] }, formatFiles))

  server.registerTool('file_status', {
    description: 'One file: what it is, who shared it, and who fetched it when.',
    inputSchema: { id: z.string() }
  }, async ({ id }) => call('files.status', { id }, formatFileStatus))

  server.registerTool('delete_file', {
    description: 'Delete a file for everyone (only its uploader or the mesh owner can); the uploader\'s copy of the bytes is cleared.',
    inputSchema: { id: z.string() }
  }, async ({ id }) => call('files.delete', { id }, (r: { name: string, id: string }) => `Deleted ${oneLine(r.name)} (${r.id}).`))

  server.registerTool('forget', {
    description: 'Remove a memory entry for everyone (it never comes back in results).',
    inputSchema: { id: z.string().describe('the id returned by remember or recall') }
  }, async ({ id }) => call('memory.forget', { id }, () => `Forgot ${id}.`))

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
