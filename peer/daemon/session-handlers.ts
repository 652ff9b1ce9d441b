// IPC methods for Claude Code sessions (the MCP server) and their hooks. A session lives as long
// as the IPC connection that registered it: when the MCP process exits, the session is gone.
import path from 'node:path'
import type { Daemon } from './daemon.js'
import type { IpcConnection } from './ipc.js'
import type { LocalSession, MeshSessions, Delivered } from './sessions.js'
import type { Mesh } from '../mesh/mesh.js'
import { createMesh } from './membership.js'
import { caller } from './caller.js'
import { MeshError } from '../../protocol/errors.js'
import { randomBytes, toHex } from '../../protocol/crypto.js'
import { parseGroups, type SessionInfo, type AttachmentRef } from '../../protocol/session-wire.js'
import { checkReadable } from '../mesh/files.js'
import { formatForContext } from '../mcp/format.js'

const LOCAL_MESH = 'local'

export function registerSessionHandlers (daemon: Daemon): void {
  const ipc = daemon.ipc
  const bound = daemon.sessionBindings

  const of = (conn: IpcConnection | null): { session: LocalSession, sessions: MeshSessions } => {
    const entry = conn === null ? undefined : bound.get(conn)
    if (entry === undefined) throw MeshError.BAD_INPUT('session', 'this connection has no registered session: call session.register first')
    return entry
  }

  ipc.handle('session.register', async (p, conn) => {
    if (conn === null) throw MeshError.BAD_INPUT('session', 'only a Claude Code session (its MCP server, over the daemon socket) registers')
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

  ipc.handle('session.update', async (p, conn) => {
    const { session, sessions } = of(conn)
    sessions.update(session, p)
    return session.info
  })

  ipc.handle('session.join_group', async (p, conn) => {
    const { session, sessions } = of(conn)
    const groups = session.info.groups.filter((g) => g.name !== p.name)
    if (groups.length >= 32) throw MeshError.BAD_INPUT('group', 'a session can be in at most 32 groups')
    sessions.update(session, { groups: [...groups, { name: p.name, role: p.role ?? null }] })
    return session.info
  })

  ipc.handle('session.leave_group', async (p, conn) => {
    const { session, sessions } = of(conn)
    if (!session.info.groups.some((g) => g.name === p.name)) throw MeshError.BAD_INPUT('group.name', `this session is not in group ${p.name}`)
    sessions.update(session, { groups: session.info.groups.filter((g) => g.name !== p.name) })
    return session.info
  })

  ipc.handle('message.send', async (p, conn) => {
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
  ipc.handle('message.delivered', async (p, conn) => {
    const { session, sessions } = of(conn)
    sessions.confirmed(session, p.ids)
    return { ok: true as const }
  })

  ipc.handle('message.undelivered', async (p, conn) => {
    const { session, sessions } = of(conn)
    sessions.unconfirmed(session, p.ids)
    return { ok: true as const }
  })

  ipc.handle('session.receives', async (p, conn) => {
    const { session, sessions } = of(conn)
    if (p.why !== undefined && p.why !== null) daemon.log(`session ${session.info.name} now receives by ${p.receives}: ${p.why}`)
    sessions.setReceives(session, p.receives)
    return session.info
  })

  ipc.handle('message.check', async (p, conn) => {
    const { session, sessions } = of(conn)
    return sessions.drain(session, undefined, 'check_messages', p.thread ?? undefined)
  })

  ipc.handle('message.status', async (p) => {
    for (const sessions of daemon.allSessions()) {
      const status = sessions.status(p.id)
      if (status !== null) return status
    }
    throw MeshError.BAD_INPUT('id', `no message ${p.id} was sent from this machine in the last day`)
  })

  ipc.handle('peers.list', async (p, conn) => {
    const { session, sessions } = of(conn)
    const roster = sessions.sessions().filter((s) => p.group === undefined || p.group === null || s.groups.some((g) => g.name === p.group))
    return { self: session.info.id, mesh: sessions.mesh.name, sessions: roster.sort(byName), claims: await daemon.claims.live(sessions.mesh) }
  })

  // state and memory calls come from a session (MCP) or from a person (CLI): caller() says which
  ipc.handle('state.set', async (p, conn) => {
    const { mesh, by } = caller(daemon, conn, p.mesh)
    return await mesh.setState(p.key, p.value, by)
  })

  ipc.handle('state.get', async (p, conn) => {
    const { mesh } = caller(daemon, conn, p.mesh)
    return { key: p.key, entry: await mesh.getState(p.key) }
  })

  ipc.handle('state.list', async (p, conn) => {
    const { mesh } = caller(daemon, conn, p.mesh)
    return await mesh.listState(p.prefix ?? '')
  })

  ipc.handle('state.delete', async (p, conn) => {
    const { mesh, by } = caller(daemon, conn, p.mesh)
    await mesh.deleteState(p.key, by)
    return { key: p.key, deleted: true as const }
  })

  ipc.handle('memory.remember', async (p, conn) => {
    const { mesh, by } = caller(daemon, conn, p.mesh)
    return await mesh.remember(p.content, p.tags ?? [], by)
  })

  ipc.handle('memory.recall', async (p, conn) => {
    const { mesh } = caller(daemon, conn, p.mesh)
    return mesh.recall(p.query, p.limit, p.tags ?? [])
  })

  ipc.handle('memory.forget', async (p, conn) => {
    const { mesh, by } = caller(daemon, conn, p.mesh)
    await mesh.forget(p.id, by)
    return { id: p.id, forgotten: true as const }
  })

  ipc.handle('memory.list', async (p, conn) => {
    const { mesh } = caller(daemon, conn, p.mesh)
    return await mesh.listMemory()
  })

  ipc.handle('sessions.list', async () => daemon.allSessions().map((s) => ({ mesh: s.mesh.name, sessions: s.sessions().sort(byName) })))

  ipc.handle('hook', async (p) => {
    const found = daemon.sessionByPids(p.pids)
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
    // what claudemesh itself has to tell a hooks session (a claim that settled) rides along
    const notices = p.event !== 'SessionEnd' && session.receives === 'hooks' ? session.notices.splice(0) : []
    const parts = [...notices, ...(context.length > 0 ? [formatForContext(context)] : [])]
    return { matched: true, sessionId: session.info.id, additionalContext: parts.length > 0 ? parts.join('\n') : null }
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

function byName (a: SessionInfo, b: SessionInfo): number {
  return a.name.localeCompare(b.name)
}

