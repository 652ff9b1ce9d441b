// What changed, for the dashboard's open pages: one `change` per topic and mesh, at most every
// 100 ms each (a burst of a thousand memories is one change), which the page answers by asking
// for that page's data again. The page never polls.
import { EventEmitter } from 'node:events'
import type { Daemon } from '../daemon/daemon.js'
import type { Mesh } from '../mesh/mesh.js'

export type Topic = 'peers' | 'state' | 'memory' | 'files' | 'messages' | 'meshes'

export interface Change { topic: Topic, mesh: string | null }

const COALESCE_MS = 100

export class LiveChanges extends EventEmitter {
  private readonly daemon: Daemon
  private readonly due = new Map<string, NodeJS.Timeout>()
  private readonly watched = new Map<Mesh, () => void>()
  private readonly onmeshes: () => void
  private readonly onlogged: () => void

  constructor (daemon: Daemon) {
    super()
    this.daemon = daemon
    this.onmeshes = () => { this.follow(); this.change('meshes', null) }
    this.onlogged = () => this.change('messages', null)
    daemon.on('meshes', this.onmeshes)
    daemon.messageLog.on('logged', this.onlogged)
    this.follow()
  }

  /** Listens to every joined mesh (and stops listening to those left). */
  private follow (): void {
    for (const [mesh, stop] of this.watched) {
      if (this.daemon.meshes.get(mesh.name) !== mesh) { stop(); this.watched.delete(mesh) }
    }
    for (const mesh of this.daemon.meshes.values()) {
      if (this.watched.has(mesh)) continue
      const network = this.daemon.networkOf(mesh)
      const sessions = this.daemon.sessionsOf(mesh)
      const on = (topic: Topic) => () => this.change(topic, mesh.name)
      const wiring: Array<[EventEmitter, string, () => void]> = [
        [mesh, 'members', on('peers')],
        [network, 'peers', on('peers')],
        [network.bulk, 'link', on('peers')],
        [sessions, 'roster', on('peers')],
        [mesh, 'state', on('state')],
        [mesh, 'memory', on('memory')],
        [mesh, 'claims', on('peers')],
        [mesh.files, 'files', on('files')]
      ]
      for (const [emitter, event, fn] of wiring) emitter.on(event, fn)
      this.watched.set(mesh, () => { for (const [emitter, event, fn] of wiring) emitter.off(event, fn) })
    }
  }

  private change (topic: Topic, mesh: string | null): void {
    const key = `${topic}:${mesh ?? ''}`
    if (this.due.has(key)) return
    this.due.set(key, setTimeout(() => {
      this.due.delete(key)
      this.emit('change', { topic, mesh } satisfies Change)
    }, COALESCE_MS))
  }

  close (): void {
    this.daemon.off('meshes', this.onmeshes)
    this.daemon.messageLog.off('logged', this.onlogged)
    for (const stop of this.watched.values()) stop()
    this.watched.clear()
    for (const timer of this.due.values()) clearTimeout(timer)
    this.due.clear()
  }
}
