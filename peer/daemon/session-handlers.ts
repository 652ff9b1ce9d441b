// IPC methods for Claude Code sessions (the MCP server) and their hooks. A session lives as long
// as the IPC connection that registered it: when the MCP process exits, the session is gone.
import path from 'node:path'
import { z } from 'zod'
import type { Daemon } from './daemon.js'
import type { IpcConnection } from './ipc.js'
import type { LocalSession, MeshSessions, Delivered } from './sessions.js'
import type { Mesh } from '../mesh/mesh.js'
import { createMesh } from './membership.js'
import { caller } from './caller.js'
import { parse } from '../../protocol/schema.js'
import { stateKey, memoryContent, memoryTags, memoryId } from '../../protocol/ops.js'
import { MeshError } from '../../protocol/errors.js'
import { randomBytes, toHex } from '../../protocol/crypto.js'
import { LIMITS } from '../../protocol/limits.js'
import { Schemas, STATUSES, PRIORITIES, RECEIVES, parseGroups, type SessionInfo, type AttachmentRef } from '../../protocol/session-wire.js'
import { checkReadable } from '../mesh/files.js'
import { formatForContext } from '../mcp/format.js'

const LOCAL_MESH = 'local'

const RegisterParams = z.object({
  name: Schemas.sessionName.optional().nullable(),
  role: Schemas.roleName.optional().nullable(),
  groups: z.union([z.string().max(4096), z.array(z.string().max(200)).max(32)]).optional().nullable(),
  mesh: z.string().max(LIMITS.meshName).optional().nullable(),
  cwd: z.string().min(1).max(4096),
  channel: z.boolean().default(false),
  /** how its Claude gets messages; default: channel with `channel`, else hooks */
  receives: z.enum(RECEIVES).optional(),
  claudePid: z.number().int().positive().optional().nullable(),
  /** a session registering again (its MCP server reconnected): its id and the proof this daemon gave it */
  id: Schemas.sessionId.optional(),
  proof: z.string().regex(/^[0-9a-f]{128}$/, 'must be the 128-character proof session.register returned').optional()
})
const UpdateParams = z.object({ status: z.enum(STATUSES).optional(), summary: z.string().max(1024, 'must be at most 1024 characters').optional() })
const GroupParams = z.object({ name: Schemas.groupName, role: Schemas.roleName.optional().nullable() })
const LeaveGroupParams = z.object({ name: Schemas.groupName })
const SendParams = z.object({
  to: z.union([z.string().min(1, 'must not be empty').max(200), z.array(z.string().min(1).max(200)).min(1, 'must name at least one recipient').max(64)]),
  message: z.string(),
  priority: z.enum(PRIORITIES).default('next'),
  files: z.array(z.string().min(1, 'must not be empty').max(4096).refine((p) => p.startsWith('/'), 'must be an absolute path')).max(LIMITS.attachments, `must be at most ${LIMITS.attachments} files`).optional().nullable(),
  reply_to: z.string().regex(/^[0-9a-f]{32}$/, 'must be the 32-character id of a message this session received').optional().nullable()
})
const ConfirmParams = z.object({ ids: z.array(z.string().regex(/^[0-9a-f]{32}$/, 'must be a message id')).min(1).max(1024) })
const ReceivesParams = z.object({ receives: z.enum(RECEIVES), why: z.string().max(1024).optional().nullable() })
const StatusParams = z.object({ id: z.string().regex(/^[0-9a-f]{32}$/, 'must be a 32-character message id as returned by send_message') })
const PeersParams = z.object({ group: Schemas.groupName.optional().nullable() })
const StateSetParams = z.object({ key: stateKey, value: z.unknown().refine((v) => v !== undefined, 'is required'), mesh: z.string().max(LIMITS.meshName).optional().nullable() })
const StateKeyParams = z.object({ key: stateKey, mesh: z.string().max(LIMITS.meshName).optional().nullable() })
const StateListParams = z.object({ prefix: z.string().max(LIMITS.stateKey).optional().nullable(), mesh: z.string().max(LIMITS.meshName).optional().nullable() })
const meshOpt = z.string().max(LIMITS.meshName).optional().nullable()
const RememberParams = z.object({ content: memoryContent, tags: memoryTags.optional().nullable(), mesh: meshOpt })
const RecallParams = z.object({ query: z.string().min(1, 'must not be empty').max(1024, 'must be at most 1024 characters'), limit: z.number().int().min(1, 'must be at least 1').max(100, 'must be at most 100').default(10), tags: memoryTags.optional().nullable(), mesh: meshOpt })
const ForgetParams = z.object({ id: memoryId, mesh: meshOpt })
const MeshOnlyParams = z.object({ mesh: meshOpt })
const HookParams = z.object({
  event: z.enum(['SessionStart', 'UserPromptSubmit', 'Stop', 'SessionEnd']),
  pids: z.array(z.number().int().positive()).max(64),
  cwd: z.string().max(4096).optional().nullable(),
  claudeSessionId: z.string().max(256).optional().nullable()
})

export function registerSessionHandlers (daemon: Daemon): void {
  const ipc = daemon.ipc
  const bound = daemon.sessionBindings

  const of = (conn: IpcConnection): { session: LocalSession, sessions: MeshSessions } => {
    const entry = bound.get(conn)
    if (entry === undefined) throw MeshError.BAD_INPUT('session', 'this connection has no registered session: call session.register first')
    return entry
  }

  ipc.handle('session.register', async (params, conn) => {
    const p = parse(RegisterParams, params, 'session')
    if (bound.has(conn)) throw MeshError.BAD_INPUT('session', 'this connection already registered a session')
    const mesh = await meshFor(daemon, p.mesh ?? null)
    const sessions = daemon.sessionsOf(mesh)
    const session = sessions.register(conn, {
      name: p.name ?? defaultName(p.cwd),
      role: p.role ?? 'member',
      groups: parseGroups(p.groups ?? undefined),
      cwd: p.cwd,
      receives: p.receives ?? (p.channel ? 'channel' : 'hooks'),
      claudePid: p.claudePid ?? null,
      ...(p.id !== undefined && p.proof !== undefined ? { id: p.id, proof: p.proof } : {})
    })
    bound.set(conn, { session, sessions })
    conn.socket.once('close', () => sessions.unregister(session))
    daemon.sessionStarted()
    const sameName = sessions.sessions().filter((s) => s.name === session.info.name && s.id !== session.info.id)
    return { session: session.info, mesh: mesh.name, warning: sameName.length > 0 ? `another session is also named ${session.info.name}: others must address you by id` : null }
  })

  ipc.handle('session.update', async (params, conn) => {
    const p = parse(UpdateParams, params, 'session')
    const { session, sessions } = of(conn)
    sessions.update(session, p)
    return session.info
  })

  ipc.handle('session.join_group', async (params, conn) => {
    const p = parse(GroupParams, params, 'group')
    const { session, sessions } = of(conn)
    const groups = session.info.groups.filter((g) => g.name !== p.name)
    if (groups.length >= 32) throw MeshError.BAD_INPUT('group', 'a session can be in at most 32 groups')
    sessions.update(session, { groups: [...groups, { name: p.name, role: p.role ?? null }] })
    return session.info
  })

  ipc.handle('session.leave_group', async (params, conn) => {
    const p = parse(LeaveGroupParams, params, 'group')
    const { session, sessions } = of(conn)
    if (!session.info.groups.some((g) => g.name === p.name)) throw MeshError.BAD_INPUT('group.name', `this session is not in group ${p.name}`)
    sessions.update(session, { groups: session.info.groups.filter((g) => g.name !== p.name) })
    return session.info
  })

  ipc.handle('message.send', async (params, conn) => {
    const p = parse(SendParams, params, 'send_message')
    const { session, sessions } = of(conn)
    const to = (Array.isArray(p.to) ? p.to : [p.to]).map((t) => stripMesh(t, sessions.mesh.name, daemon))
    const paths = p.files ?? []
    const replyTo = p.reply_to ?? undefined
    if (paths.length === 0) return await sessions.send(session, to, p.message, p.priority, undefined, replyTo)
    // every path is checked before anything is uploaded or sent
    for (const [i, file] of paths.entries()) await checkReadable(file, daemon.maxFileBytes, `files.${i}`)
    const { by } = caller(daemon, conn, null)
    return await sessions.send(session, to, p.message, p.priority, async (audience) => {
      const refs: AttachmentRef[] = []
      for (const file of paths) {
        const { entry, key } = await sessions.mesh.files.share(file, { by, attachment: { audience } })
        if (key === null || entry.expiresAt === null) throw new MeshError('INTERNAL', `attachment ${entry.id} has no key`)
        sessions.keys.sent(entry.id, key, entry.expiresAt, session.info.id)
        refs.push({ id: entry.id, name: entry.name, size: entry.size, mime: entry.mime, key: key.toString('hex'), expiresAt: entry.expiresAt })
      }
      return refs
    }, replyTo)
  })

  // the MCP server of a session with a Claude Code inbox says what the inbox took, and what it could not give it
  ipc.handle('message.delivered', async (params, conn) => {
    const p = parse(ConfirmParams, params, 'message.delivered')
    const { session, sessions } = of(conn)
    sessions.confirmed(session, p.ids)
    return { ok: true }
  })

  ipc.handle('message.undelivered', async (params, conn) => {
    const p = parse(ConfirmParams, params, 'message.undelivered')
    const { session, sessions } = of(conn)
    sessions.unconfirmed(session, p.ids)
    return { ok: true }
  })

  ipc.handle('session.receives', async (params, conn) => {
    const p = parse(ReceivesParams, params, 'session.receives')
    const { session, sessions } = of(conn)
    if (p.why !== undefined && p.why !== null) daemon.log(`session ${session.info.name} now receives by ${p.receives}: ${p.why}`)
    sessions.setReceives(session, p.receives)
    return session.info
  })

  ipc.handle('message.check', async (_params, conn) => {
    const { session, sessions } = of(conn)
    return sessions.drain(session)
  })

  ipc.handle('message.status', async (params) => {
    const p = parse(StatusParams, params, 'message_status')
    for (const sessions of daemon.allSessions()) {
      const status = sessions.status(p.id)
      if (status !== null) return status
    }
    throw MeshError.BAD_INPUT('id', `no message ${p.id} was sent from this machine in the last day`)
  })

  ipc.handle('peers.list', async (params, conn) => {
    const p = parse(PeersParams, params, 'list_peers')
    const { session, sessions } = of(conn)
    const roster = sessions.sessions().filter((s) => p.group === undefined || p.group === null || s.groups.some((g) => g.name === p.group))
    return { self: session.info.id, mesh: sessions.mesh.name, sessions: roster.sort(byName) }
  })

  // state and memory calls come from a session (MCP) or from a person (CLI): caller() says which
  ipc.handle('state.set', async (params, conn) => {
    const p = parse(StateSetParams, params, 'set_state')
    const { mesh, by } = caller(daemon, conn, p.mesh)
    return await mesh.setState(p.key, p.value, by)
  })

  ipc.handle('state.get', async (params, conn) => {
    const p = parse(StateKeyParams, params, 'get_state')
    const { mesh } = caller(daemon, conn, p.mesh)
    return { key: p.key, entry: await mesh.getState(p.key) }
  })

  ipc.handle('state.list', async (params, conn) => {
    const p = parse(StateListParams, params, 'list_state')
    const { mesh } = caller(daemon, conn, p.mesh)
    return await mesh.listState(p.prefix ?? '')
  })

  ipc.handle('state.delete', async (params, conn) => {
    const p = parse(StateKeyParams, params, 'delete_state')
    const { mesh, by } = caller(daemon, conn, p.mesh)
    await mesh.deleteState(p.key, by)
    return { key: p.key, deleted: true }
  })

  ipc.handle('memory.remember', async (params, conn) => {
    const p = parse(RememberParams, params, 'remember')
    const { mesh, by } = caller(daemon, conn, p.mesh)
    return await mesh.remember(p.content, p.tags ?? [], by)
  })

  ipc.handle('memory.recall', async (params, conn) => {
    const p = parse(RecallParams, params, 'recall')
    const { mesh } = caller(daemon, conn, p.mesh)
    return mesh.recall(p.query, p.limit, p.tags ?? [])
  })

  ipc.handle('memory.forget', async (params, conn) => {
    const p = parse(ForgetParams, params, 'forget')
    const { mesh, by } = caller(daemon, conn, p.mesh)
    await mesh.forget(p.id, by)
    return { id: p.id, forgotten: true }
  })

  ipc.handle('memory.list', async (params, conn) => {
    const p = parse(MeshOnlyParams, params, 'memory list')
    const { mesh } = caller(daemon, conn, p.mesh)
    return await mesh.listMemory()
  })

  ipc.handle('sessions.list', async () => daemon.allSessions().map((s) => ({ mesh: s.mesh.name, sessions: s.sessions().sort(byName) })))

  ipc.handle('hook', async (params) => {
    const p = parse(HookParams, params, 'hook')
    const found = findByPids(daemon, p.pids)
    if (found === null) return { matched: false }
    const { session, sessions } = found
    let context: Delivered[] = []
    // a session with a Claude Code inbox gets its messages there, never also through a hook
    const byHook = session.receives !== 'inbox'
    switch (p.event) {
      case 'SessionStart':
        sessions.update(session, { status: 'idle' })
        if (session.receives === 'hooks') context = sessions.drain(session, ['now', 'next'], 'hooks')
        break
      case 'UserPromptSubmit':
        sessions.update(session, { status: 'working' })
        if (byHook) context = sessions.drain(session, ['now', 'next'], 'hooks')
        break
      case 'Stop':
        sessions.update(session, { status: 'idle' }) // a channel session gets its held `next` messages pushed now
        if (session.receives === 'hooks') context = sessions.drain(session, ['now', 'next'], 'hooks')
        break
      case 'SessionEnd':
        sessions.unregister(session)
        break
    }
    return { matched: true, sessionId: session.info.id, additionalContext: context.length > 0 ? formatForContext(context) : null }
  })
}

/** Several sessions may start at once on a fresh machine: they share one creation of the local mesh. */
const creatingLocal = new WeakMap<Daemon, Promise<Mesh>>()

async function meshFor (daemon: Daemon, name: string | null): Promise<Mesh> {
  if (name !== null && name !== '') return daemon.resolveMesh(name)
  if (daemon.meshes.size === 0) {
    let creating = creatingLocal.get(daemon)
    if (creating === undefined) {
      creating = createMesh(daemon, LOCAL_MESH, null, null).finally(() => creatingLocal.delete(daemon))
      creatingLocal.set(daemon, creating)
    }
    return await creating
  }
  if (daemon.meshes.size === 1) return daemon.resolveMesh(null)
  const local = daemon.meshes.get(LOCAL_MESH)
  if (local !== undefined) return local
  return daemon.resolveMesh(null) // throws: several meshes, name one
}

function defaultName (cwd: string): string {
  const base = path.basename(cwd).replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 40)
  return `${base === '' ? 'session' : base}-${toHex(randomBytes(2))}`
}

function stripMesh (target: string, meshName: string, daemon: Daemon): string {
  const at = target.indexOf(':')
  if (at <= 0 || target.startsWith('@')) return target
  const prefix = target.slice(0, at)
  if (!daemon.meshes.has(prefix)) return target
  if (prefix !== meshName) throw MeshError.BAD_INPUT('to', `"${target}": this session is in mesh ${meshName}; it can only message sessions of that mesh`)
  return target.slice(at + 1)
}

function findByPids (daemon: Daemon, pids: number[]): { session: LocalSession, sessions: MeshSessions } | null {
  for (const pid of pids) {
    for (const sessions of daemon.allSessions()) {
      for (const session of sessions.local.values()) if (session.claudePid === pid) return { session, sessions }
    }
  }
  return null
}

function byName (a: SessionInfo, b: SessionInfo): number {
  return a.name.localeCompare(b.name)
}

