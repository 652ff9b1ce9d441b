// Hypercore replication with a gate per core: a connection carries a core only if the peer at the
// other end is a member of every open mesh that holds that core (MeshCores). corestore's own
// replicate() would attach every core the store has open to every connection, and open any stored
// core a peer asks for by discovery key: a member removed from one mesh, still connected for
// another, would keep fetching the first mesh's new blocks.
//
// The gate attaches cores itself (those that want to download, as corestore does, plus those a
// peer asks for and may have), watches for cores opened later, and, when membership changes,
// takes cores off the connections of peers that may no longer have them.
import { EventEmitter } from 'node:events'
import type Corestore from 'corestore'
import type { StoreCore } from 'corestore'
import Hypercore from 'hypercore'
import b4a from 'b4a'
import type { Mesh } from '../mesh/mesh.js'

export interface GateOptions {
  store: Corestore
  /** the open meshes */
  meshes: () => Iterable<Mesh>
  /** whether this peer (swarm key) may have this mesh's data */
  memberOf: (mesh: Mesh, remoteKey: string) => boolean
  onerror?: (err: Error) => void
}

interface Replicating { muxer: unknown, remoteKey: string, attached: Set<StoreCore> }

export class Replication extends EventEmitter {
  private readonly opts: GateOptions
  private readonly streams = new Set<Replicating>()
  /** cores a peer asked for that a mesh here holds and the peer is not a member of */
  refused = 0
  /** cores a peer asked for that no mesh here holds (yet): a writer we have not heard of, say */
  unknown = 0
  private readonly oncore: (core: StoreCore) => void

  constructor (opts: GateOptions) {
    super()
    this.opts = opts
    this.oncore = (core) => { this.watchCore(core) }
    opts.store.watch(this.oncore)
    for (const core of opts.store.cores) this.watchCore(core)
  }

  /** Replicates the store's cores this peer may have over `stream` (a Noise stream to `remoteKey`). */
  replicate (stream: unknown, remoteKey: string): void {
    const entry: Replicating = { muxer: null, remoteKey, attached: new Set() }
    Hypercore.createProtocolStream(stream, {
      ondiscoverykey: async (discoveryKey: Buffer) => await this.requested(entry, discoveryKey).catch((err) => this.opts.onerror?.(err as Error))
    })
    entry.muxer = (stream as { noiseStream: { userData: unknown } }).noiseStream.userData
    this.streams.add(entry)
    ;(stream as { once (e: string, f: () => void): void }).once('close', () => { this.streams.delete(entry) })
    for (const core of this.opts.store.cores) this.offer(entry, core)
  }

  /** Membership changed: cores go on to peers that may now have them, and off those that may not. */
  reconcile (): void {
    for (const entry of this.streams) {
      for (const core of [...entry.attached]) {
        if (this.permits(entry.remoteKey, hex(core.discoveryKey))) continue
        entry.attached.delete(core)
        core.replicator.detachFrom(entry.muxer)
        for (const peer of [...core.replicator.peers]) if (peer.protomux === entry.muxer) peer.channel.close()
      }
      for (const core of this.opts.store.cores) this.offer(entry, core)
    }
  }

  /** A core a mesh just recorded as its own: offer it where it may go. */
  recorded (discoveryKey: string): void {
    const core = this.opts.store.cores.get(discoveryKey)
    if (core === null) return
    for (const entry of this.streams) this.offer(entry, core)
  }

  close (): void {
    this.opts.store.unwatch(this.oncore)
    this.streams.clear()
  }

  /** corestore attaches a core to connections once it wants to download: so do we, through the gate. */
  private watchCore (core: StoreCore): void {
    const before = core.replicator.ondownloading
    core.replicator.ondownloading = () => {
      before?.()
      for (const entry of this.streams) this.offer(entry, core)
    }
  }

  /** Attaches a core that wants to download, once it is open (replication of a core that is not open yet fails in hypercore). */
  private offer (entry: Replicating, core: StoreCore): void {
    if (!core.opened) {
      core.ready().then(() => { if (this.streams.has(entry)) this.offer(entry, core) }, () => {})
      return
    }
    if (!core.replicator.downloading || core.replicator.attached(entry.muxer)) return
    if (!this.permits(entry.remoteKey, hex(core.discoveryKey))) return
    this.attach(entry, core)
  }

  private attach (entry: Replicating, core: StoreCore): void {
    core.replicator.attachTo(entry.muxer)
    entry.attached.add(core)
  }

  /** A core this peer opened and we have not attached: open it from storage if a mesh of both holds it. */
  private async requested (entry: Replicating, discoveryKey: Buffer): Promise<void> {
    const dk = hex(discoveryKey)
    const holders: Mesh[] = []
    for (const mesh of this.opts.meshes()) if (mesh.cores.has(dk) || await mesh.holdsCore(dk)) holders.push(mesh)
    if (holders.length === 0) {
      this.unknown++
      return
    }
    if (!holders.every((m) => this.opts.memberOf(m, entry.remoteKey))) {
      this.refused++
      this.emit('refused', entry.remoteKey, dk)
      return
    }
    for (const mesh of holders) mesh.cores.add(dk)
    if (!this.streams.has(entry)) return
    const open = this.opts.store.cores.get(dk)
    if (open !== null) {
      if (!open.opened) await open.ready()
      if (this.streams.has(entry) && !open.replicator.attached(entry.muxer)) this.attach(entry, open)
      return
    }
    await this.opts.store._attachMaybe(entry.muxer, discoveryKey)
    const opened = this.opts.store.cores.get(dk)
    if (opened !== null && opened.replicator.attached(entry.muxer)) entry.attached.add(opened)
  }

  private permits (remoteKey: string, discoveryKey: string): boolean {
    let held = false
    for (const mesh of this.opts.meshes()) {
      if (!mesh.cores.has(discoveryKey)) continue
      held = true
      if (!this.opts.memberOf(mesh, remoteKey)) return false
    }
    return held
  }
}

function hex (buf: Buffer): string {
  return b4a.toString(buf, 'hex')
}
