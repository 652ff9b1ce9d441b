// The daemon's presence on one relay's DHT: one hyperswarm with the daemon's stable key, a firewall
// that admits only members, discovery by the relay roster (direct dial) and the mesh topic.
import { EventEmitter } from 'node:events'
import HyperDHT from 'hyperdht'
import type { KeyPair, NoiseSocket } from 'hyperdht'
import Hyperswarm from 'hyperswarm'
import type { PeerInfo } from 'hyperswarm'
import type Corestore from 'corestore'
import { BulkLinks } from './bulk-link.js'
import { FileLinks } from './file-links.js'
import { Replication } from './replication.js'
import { RelayClient } from './relay-client.js'
import type { Mesh } from '../mesh/mesh.js'
import { parseHostPort } from '../../protocol/invite.js'
import { toHex, fromHex } from '../../protocol/crypto.js'
import type { RosterEntry, RosterUpdate } from '../../protocol/relay-wire.js'
import { ANY_UDP_PORT } from '../../protocol/limits.js'
import { background } from '../background.js'

const BACKOFFS = [250, 1000, 3000, 10_000]
const ROSTER_REFRESH_MS = 200

export interface NetworkOptions {
  addresses: string[]
  relayKey: Buffer
  keyPair: KeyPair
  store: Corestore
  /** replicate over direct TCP links where both daemons can (default true) */
  tcpLinks?: boolean
}

export function isLoopback (host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host)
}

export class Network extends EventEmitter {
  readonly id: string
  readonly addresses: string[]
  readonly relay: RelayClient
  readonly swarm: Hyperswarm
  readonly bulk: BulkLinks
  /** what each connection replicates: only the cores of meshes both ends belong to */
  readonly replication: Replication
  /** direct file transfers, on the stream each connection replicates on */
  readonly files: FileLinks
  /** swarm connections refused by the firewall; TCP links refused (not a member with a connection) */
  readonly refused = { count: 0, tcpLinks: 0 }
  private readonly meshes = new Map<string, Mesh>()
  /** meshKey -> swarm keys the relay vouches for (it paired them), with online flags */
  private readonly rosters = new Map<string, RosterEntry[]>()
  /** swarm keys admitted at the last reconcile, to notice newly admitted ones */
  private admitted = new Set<string>()
  private rosterRefresh: NodeJS.Timeout | null = null
  /** connection -> keys of the meshes whose wakeup protocol runs on it */
  private readonly attached = new WeakMap<NoiseSocket, Set<string>>()
  /** connection -> the stream its replication runs on (itself, or a direct TCP link) */
  private readonly replicating = new WeakMap<NoiseSocket, unknown>()

  constructor (opts: NetworkOptions) {
    super()
    this.id = Network.idFor(opts.addresses, opts.relayKey)
    this.addresses = opts.addresses
    const bootstrap = opts.addresses.map((a) => parseHostPort(a)).filter((a) => a !== null)
    const loopback = bootstrap.every((a) => isLoopback(a.host))
    const dht = new HyperDHT({ bootstrap, port: ANY_UDP_PORT, ...(loopback ? { host: '127.0.0.1' } : {}) })
    this.swarm = new Hyperswarm({
      dht,
      keyPair: opts.keyPair,
      backoffs: BACKOFFS,
      jitter: 100,
      firewall: (remotePublicKey) => !this.allowed(toHex(remotePublicKey)),
      relayThrough: (force) => force ? opts.relayKey : null
    })
    this.replication = new Replication({
      store: opts.store,
      meshes: () => this.meshes.values(),
      memberOf: (mesh, key) => this.memberOf(mesh, key),
      onerror: (err) => this.emit('log', `replication: ${err.message}`)
    })
    this.replication.on('refused', (key: string, dk: string) => {
      this.emit('log', `refused core ${dk.slice(0, 8)} to ${key.slice(0, 8)} (not a member of every mesh that holds it)`)
      this.emit('refused-core')
    })
    this.bulk = new BulkLinks({
      host: opts.tcpLinks === false ? null : loopback ? '127.0.0.1' : '0.0.0.0',
      keyPair: opts.keyPair,
      replicate: (stream, key) => { this.replication.replicate(stream, key) },
      allowed: (key) => this.allowed(key)
    })
    this.bulk.on('link', (key: string) => this.emit('log', `replicating with ${key.slice(0, 8)} over a direct TCP link`))
    this.bulk.on('refused', (key: string) => {
      this.refused.tcpLinks++
      this.emit('log', `refused a TCP link from ${key.slice(0, 8)} (not a member with a swarm connection)`)
      this.emit('refused')
    })
    this.files = new FileLinks({ mesh: (key) => this.meshes.get(key), memberOf: (mesh, key) => this.memberOf(mesh, key) })
    this.files.on('malformed', (key: string, why: string) => this.emit('log', `closed the files channel of ${key.slice(0, 8)}: ${why}`))
    this.swarm.on('connection', (conn: NoiseSocket) => this.onconnection(conn))
    this.swarm.on('ban', (info: PeerInfo) => { this.onrefused(info) })
    this.relay = new RelayClient(dht, opts.keyPair, opts.relayKey, opts.addresses.join(', '))
    this.relay.on('open', () => { this.announceAll() })
    this.relay.on('push', (event: string, data: unknown) => {
      if (event === 'roster') this.onroster(data as RosterUpdate)
    })
  }

  static idFor (addresses: string[], relayKey: Buffer): string {
    return toHex(relayKey) + '@' + [...addresses].sort().join(',')
  }

  /** Connects to the relay. The swarm listens only once a mesh is added, so it never refuses a member it could not know yet. */
  async ready (): Promise<void> {
    await this.bulk.ready()
    this.relay.start()
  }

  get publicKey (): string {
    return toHex(this.swarm.keyPair.publicKey)
  }

  /** A member of any mesh on this network, by the view or the relay's word, and not removed. */
  allowed (swarmKey: string): boolean {
    if (this.isolated) return false
    for (const mesh of this.meshes.values()) if (this.memberOf(mesh, swarmKey)) return true
    return false
  }

  memberOf (mesh: Mesh, swarmKey: string): boolean {
    if (mesh.isMember(swarmKey)) return true
    if (mesh.isRemoved(swarmKey)) return false
    return this.rosters.get(mesh.keyHex)?.some((e) => e.swarmKey === swarmKey) === true
  }

  async addMesh (mesh: Mesh): Promise<void> {
    this.meshes.set(mesh.keyHex, mesh)
    await this.swarm.listen()
    mesh.on('members', () => this.reconcile())
    mesh.cores.on('core', (dk: string) => { this.replication.recorded(dk) })
    for (const conn of this.swarm.connections) this.attach(conn)
    this.reconcile()
    this.announce(mesh)
    const discovery = this.swarm.join(mesh.topic, { server: true, client: true })
    discovery.flushed().then(() => discovery.refresh()).catch(background((line) => this.emit('log', line), 'refreshing discovery'))
  }

  async removeMesh (mesh: Mesh): Promise<void> {
    this.meshes.delete(mesh.keyHex)
    this.rosters.delete(mesh.keyHex)
    await this.swarm.leave(mesh.topic).catch(noop)
    this.reconcile()
  }

  get meshCount (): number {
    return this.meshes.size
  }

  /** Swarm keys of members of this mesh we hold a live connection to. */
  connectedPeers (mesh: Mesh): string[] {
    const out: string[] = []
    for (const conn of this.swarm.connections) {
      const key = toHex(conn.remotePublicKey)
      if (mesh.isMember(key) || this.rosters.get(mesh.keyHex)?.some((e) => e.swarmKey === key) === true) out.push(key)
    }
    return [...new Set(out)]
  }

  /**
   * How this daemon reaches a member now: a swarm connection of its own (direct, holepunched or
   * not) or one the relay relays (its raw stream then goes to a relay address), with replication
   * on a TCP link on top where both could make one; null when not connected.
   */
  connectionOf (swarmKey: string): 'direct' | 'tcp-link' | 'relayed' | null {
    for (const conn of this.swarm.connections) {
      if (toHex(conn.remotePublicKey) !== swarmKey) continue
      if (this.bulk.linked(swarmKey)) return 'tcp-link'
      const raw = conn.rawStream as { remoteHost?: string, remotePort?: number } | null | undefined
      const remote = raw === undefined || raw === null ? null : `${raw.remoteHost ?? ''}:${raw.remotePort ?? 0}`
      return remote !== null && this.addresses.includes(remote) ? 'relayed' : 'direct'
    }
    return null
  }

  /** tests only (test.isolate): refuse and drop every member, as a network partition would */
  private isolated = false

  isolate (on: boolean): void {
    this.isolated = on
    this.reconcile()
  }

  roster (mesh: Mesh): RosterEntry[] {
    return this.rosters.get(mesh.keyHex) ?? []
  }

  private announce (mesh: Mesh): void {
    if (!this.relay.connected) return
    this.relay.request<{ members: RosterEntry[] }>('roster.announce', { meshKey: mesh.keyHex })
      .then((res) => this.onroster({ meshKey: mesh.keyHex, members: res.members }))
      .catch((err) => this.emit('relay-error', err))
  }

  private announceAll (): void {
    for (const mesh of this.meshes.values()) this.announce(mesh)
  }

  private onroster (update: RosterUpdate): void {
    if (!this.meshes.has(update.meshKey) || !Array.isArray(update.members)) return
    this.rosters.set(update.meshKey, update.members)
    this.emit('log', `roster ${update.meshKey.slice(0, 8)}: ${update.members.map((m) => m.swarmKey.slice(0, 8) + (m.online ? '+' : '-')).join(' ')}`)
    this.reconcile()
    this.emit('roster', update.meshKey)
  }

  /** Brings the swarm in line with membership: un-ban and dial members, drop everyone else. */
  private reconcile (): void {
    const self = this.publicKey
    const wanted = new Set<string>()
    for (const mesh of this.meshes.values()) {
      for (const m of mesh.members) wanted.add(m.swarmKey)
      for (const e of this.rosters.get(mesh.keyHex) ?? []) if (!mesh.isRemoved(e.swarmKey)) wanted.add(e.swarmKey)
    }
    wanted.delete(self)
    const admitted = new Set<string>()
    for (const key of wanted) {
      if (!this.allowed(key)) continue
      admitted.add(key)
      const info = this.swarm.peers.get(key)
      if (info !== undefined && info.banned) info.ban(false)
      // a newly admitted member may sit in a long retry backoff from refused attempts: start afresh
      if (!this.admitted.has(key) && info !== undefined && !info.banned) this.swarm.leavePeer(fromHex(key))
      this.swarm.joinPeer(fromHex(key))
    }
    this.admitted = admitted
    this.replication.reconcile()
    for (const conn of this.swarm.connections) {
      const key = toHex(conn.remotePublicKey)
      if (!this.allowed(key)) {
        conn.destroy()
        this.swarm.leavePeer(conn.remotePublicKey)
      } else {
        this.attach(conn)
      }
    }
    this.emit('peers')
  }

  /**
   * Hyperswarm bans a refused key for good. A key we refuse may be a member admitted a moment ago
   * that the relay has not told us about yet, so turn the ban into a plain refusal and ask the
   * relay for a fresh roster; a real stranger is simply refused again on its next attempt.
   */
  private onrefused (info: PeerInfo): void {
    this.refused.count++
    this.emit('log', `firewall refused ${toHex(info.publicKey).slice(0, 8)} (not a member)`)
    this.emit('refused')
    setImmediate(() => { if (!this.swarm.destroyed) info.ban(false) })
    if (this.rosterRefresh !== null || !this.relay.connected) return
    this.rosterRefresh = setTimeout(() => {
      this.rosterRefresh = null
      for (const mesh of this.meshes.values()) {
        this.relay.request<{ members: RosterEntry[] }>('roster.list', { meshKey: mesh.keyHex })
          .then((res) => this.onroster({ meshKey: mesh.keyHex, members: res.members }))
          .catch(noop)
      }
    }, ROSTER_REFRESH_MS)
    this.rosterRefresh.unref()
  }

  private onconnection (conn: NoiseSocket): void {
    conn.on('error', noop)
    const key = toHex(conn.remotePublicKey)
    if (!this.allowed(key)) {
      this.refused.count++
      this.emit('log', `refused connection from ${key.slice(0, 8)} (not a member)`)
      conn.destroy()
      this.emit('refused')
      return
    }
    this.emit('log', `connected ${key.slice(0, 8)}`)
    conn.on('close', () => { this.emit('log', `disconnected ${key.slice(0, 8)}`); this.emit('peers') })
    this.attach(conn)
    this.emit('peers')
  }

  /** Replicates the store once per connection and wakes each mesh the remote belongs to. */
  private attach (conn: NoiseSocket): void {
    let meshes = this.attached.get(conn)
    if (meshes === undefined) {
      const attached = new Set<string>()
      meshes = attached
      this.attached.set(conn, attached)
      this.bulk.replicate(conn, (stream) => {
        this.replicating.set(conn, stream)
        this.files.attach(stream, toHex(conn.remotePublicKey))
        for (const mesh of this.meshes.values()) if (attached.has(mesh.keyHex)) mesh.base.wakeupProtocol.addStream(stream)
      })
    }
    const key = toHex(conn.remotePublicKey)
    for (const mesh of this.meshes.values()) {
      if (meshes.has(mesh.keyHex) || !this.memberOf(mesh, key)) continue
      meshes.add(mesh.keyHex)
      const stream = this.replicating.get(conn)
      if (stream !== undefined) mesh.base.wakeupProtocol.addStream(stream)
      this.emit('attach', conn, mesh, key)
    }
  }

  async close (): Promise<void> {
    if (this.rosterRefresh !== null) clearTimeout(this.rosterRefresh)
    await this.relay.close()
    this.replication.close()
    this.files.close()
    await this.bulk.close()
    await this.swarm.destroy()
  }
}

function noop (): void {}
