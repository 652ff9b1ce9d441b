// Who is calling the daemon: a Claude Code session (registered on its IPC connection) or a person
// through the CLI. The author of what they write, and the mesh they act on, follow from that.
import type { Daemon } from './daemon.js'
import type { IpcConnection } from './ipc.js'
import type { LocalSession, MeshSessions } from './sessions.js'
import type { Mesh } from '../mesh/mesh.js'
import type { Author } from '../../protocol/ops.js'
import { MeshError } from '../../protocol/errors.js'

export interface Bound { session: LocalSession, sessions: MeshSessions }

export interface Caller { mesh: Mesh, by: Author, session: LocalSession | null, sessions: MeshSessions }

export function caller (daemon: Daemon, conn: IpcConnection | null, meshName: string | null | undefined): Caller {
  const entry = conn === null ? undefined : daemon.sessionBindings.get(conn)
  if (entry !== undefined) {
    if (meshName !== undefined && meshName !== null && meshName !== entry.sessions.mesh.name) throw MeshError.BAD_INPUT('mesh', `this session is in mesh ${entry.sessions.mesh.name}`)
    return { mesh: entry.sessions.mesh, by: { session: entry.session.info.name, sessionId: entry.session.info.id, member: daemon.label }, session: entry.session, sessions: entry.sessions }
  }
  const mesh = daemon.resolveMesh(meshName ?? null)
  return { mesh, by: { session: null, sessionId: null, member: daemon.label }, session: null, sessions: daemon.sessionsOf(mesh) }
}
