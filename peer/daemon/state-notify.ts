// State changes pushed to this daemon's sessions that receive notifications: every change made by
// anyone else (a session on any daemon, or a person with the CLI), never an echo to the writer.
import type { Mesh } from '../mesh/mesh.js'
import type { StateEntry } from '../mesh/apply.js'
import type { Author } from '../../protocol/ops.js'

export interface StateChange { mesh: string, key: string, value: unknown, deleted: boolean, by: Author, at: number }

export interface Notified { info: { id: string }, channel: boolean, conn: { send (message: unknown): void } }

export class StateNotifier {
  private readonly mesh: Mesh
  private readonly sessions: () => Iterable<Notified>
  private readonly onstate: (key: string, entry: StateEntry) => void

  constructor (mesh: Mesh, sessions: () => Iterable<Notified>) {
    this.mesh = mesh
    this.sessions = sessions
    this.onstate = (_key, entry) => { this.push(entry) }
    mesh.on('state', this.onstate)
  }

  private push (entry: StateEntry): void {
    const data: StateChange = { mesh: this.mesh.name, key: entry.key, value: entry.value, deleted: entry.deleted === true, by: entry.by, at: entry.at }
    for (const session of this.sessions()) {
      if (!session.channel || (entry.writer === this.mesh.localWriter && entry.by.sessionId === session.info.id)) continue
      session.conn.send({ event: 'state', data })
    }
  }

  close (): void {
    this.mesh.off('state', this.onstate)
  }
}
