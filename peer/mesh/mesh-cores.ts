// Which hypercores belong to one mesh: every core its autobase and its drives open, recorded by
// discovery key as they are opened (through a corestore session that notes each `get`, its own
// sessions included). The daemon's replication serves a core to a peer only if the peer is a
// member of every mesh that holds it (peer/daemon/replication.ts), so a member removed from one
// mesh gets nothing of it over a connection it keeps for another.
import { EventEmitter } from 'node:events'
import Corestore from 'corestore'
import type { CorestoreOptions } from 'corestore'
import b4a from 'b4a'

export class MeshCores extends EventEmitter {
  private readonly keys = new Set<string>()

  has (discoveryKey: string): boolean {
    return this.keys.has(discoveryKey)
  }

  get size (): number {
    return this.keys.size
  }

  /** Emits 'core' (discovery key, hex) for one not seen before. */
  add (discoveryKey: string): void {
    if (this.keys.has(discoveryKey)) return
    this.keys.add(discoveryKey)
    this.emit('core', discoveryKey)
  }

  /** A session of `root` in `namespace` that records every core opened through it (or its sessions) here. */
  session (root: Corestore, namespace: string): Corestore {
    const base = new TrackedCorestore(null, { root: root.root ?? root, tracked: this })
    const session = base.namespace(namespace)
    base.close().catch(noop) // only its namespaced session is used
    return session
  }

  record (core: { discoveryKey: Buffer | null, ready (): Promise<void> }): void {
    if (core.discoveryKey !== null) {
      this.add(b4a.toString(core.discoveryKey, 'hex'))
      return
    }
    // a core opened by name knows its key only once it is ready
    core.ready().then(() => { if (core.discoveryKey !== null) this.add(b4a.toString(core.discoveryKey, 'hex')) }, noop)
  }
}

/** corestore's session, with every core it opens noted in a MeshCores. */
class TrackedCorestore extends Corestore {
  private readonly tracked: MeshCores

  constructor (storage: string | null, opts: CorestoreOptions & { tracked: MeshCores }) {
    super(storage, opts)
    this.tracked = opts.tracked
  }

  override session (opts: CorestoreOptions = {}): Corestore {
    return new TrackedCorestore(null, { manifestVersion: this.manifestVersion, ...opts, root: this.root ?? this, tracked: this.tracked })
  }

  override get (opts: Parameters<Corestore['get']>[0]): ReturnType<Corestore['get']> {
    const core = super.get(opts)
    this.tracked.record(core)
    return core
  }
}

function noop (): void {}
