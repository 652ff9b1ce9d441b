// The relay: private DHT bootstrap, invite verification (blind-pairing member), presence roster,
// blind-relay fallback, health and metrics. It never receives the mesh encryption key or content.
import fs from 'node:fs'
import path from 'node:path'
import { EventEmitter } from 'node:events'
import HyperDHT from 'hyperdht'
import type { DHTServer, KeyPair, NoiseSocket } from 'hyperdht'
import Hyperswarm from 'hyperswarm'
import BlindPairing from 'blind-pairing'
import type { Member } from 'blind-pairing'
import { Server as BlindRelayServer } from 'blind-relay'
import { PrivateDht } from './dht.js'
import { MeshError } from '../protocol/errors.js'
import { Ledger } from './ledger.js'
import { ControlSession } from './control.js'
import { PairingVerifier } from './pairing.js'
import { HttpEndpoint } from './http.js'
import { keyPair, randomBytes, toHex, fromHex, relayTopic } from '../protocol/crypto.js'
import { DEFAULT_RELAY_PORT } from '../protocol/limits.js'
import type { RosterEntry } from '../protocol/relay-wire.js'

export interface RelayOptions {
  dataDir: string
  host?: string
  port?: number
  /** the address written into invite links; defaults to host, or 127.0.0.1 when host is 0.0.0.0 */
  publicHost?: string
  /** HTTP port for /health and /metrics; null disables it */
  httpPort?: number | null
  httpHost?: string
  dhtNodes?: number
  /** how often the blind-pairing member polls the DHT for requests */
  pairingPoll?: number
  /** owner signing keys (hex) allowed to register meshes; null or absent: anyone */
  owners?: string[] | null
  quotas?: Partial<RelayQuotas>
}

/** What one owner can make the relay hold. */
export interface RelayQuotas {
  /** meshes registered by one owner key (or one daemon) */
  meshesPerOwner: number
  /** invites of one mesh that are valid right now */
  liveInvitesPerMesh: number
  /** invites of one mesh the ledger keeps, valid or not (a week after expiry they are dropped) */
  invitesPerMesh: number
}

export const DEFAULT_QUOTAS: RelayQuotas = { meshesPerOwner: 32, liveInvitesPerMesh: 256, invitesPerMesh: 4096 }

const ANNOUNCE_INTERVAL_MS = 5 * 60 * 1000

export type RefusalReason = 'unknown' | 'expired' | 'used' | 'revoked' | 'not_member' | 'bad_signature' | 'malformed' | 'taken' | 'quota' | 'not_allowed'

export const REFUSAL_REASONS: RefusalReason[] = ['unknown', 'expired', 'used', 'revoked', 'not_member', 'bad_signature', 'malformed', 'taken', 'quota', 'not_allowed']

export class Relay extends EventEmitter {
  readonly dataDir: string
  readonly ledger: Ledger
  readonly counters = { registered: 0, redeemed: 0, refused: {} as Record<RefusalReason, number>, malformedFrames: 0 }
  readonly startedAt = Date.now()
  private readonly opts: Required<Omit<RelayOptions, 'httpPort' | 'owners' | 'quotas'>> & { httpPort: number | null }
  /** owner keys allowed to register meshes; null: anyone */
  readonly owners: Set<string> | null
  readonly quotas: RelayQuotas
  private readonly dht: PrivateDht
  private serverNode: HyperDHT | null = null
  private server: DHTServer | null = null
  private blindRelay: BlindRelayServer | null = null
  private pairingSwarm: Hyperswarm | null = null
  private pairing: BlindPairing | null = null
  private verifier: PairingVerifier | null = null
  private readonly members = new Map<string, Member>()
  private http: HttpEndpoint | null = null
  private announceTimer: NodeJS.Timeout | null = null
  private readonly sessions = new Set<ControlSession>()
  /** meshKey -> swarmKey -> sessions announcing it */
  private readonly online = new Map<string, Map<string, Set<ControlSession>>>()
  keyPair: KeyPair
  opened = false
  closed = false

  constructor (opts: RelayOptions) {
    super()
    const host = opts.host ?? '0.0.0.0'
    this.opts = {
      dataDir: opts.dataDir,
      host,
      port: opts.port ?? DEFAULT_RELAY_PORT,
      publicHost: opts.publicHost ?? (host === '0.0.0.0' ? '127.0.0.1' : host),
      httpPort: opts.httpPort === undefined ? 8080 : opts.httpPort,
      httpHost: opts.httpHost ?? host,
      dhtNodes: opts.dhtNodes ?? 5,
      pairingPoll: opts.pairingPoll ?? 1000
    }
    this.owners = opts.owners === undefined || opts.owners === null ? null : new Set(opts.owners)
    this.quotas = { ...DEFAULT_QUOTAS, ...opts.quotas }
    this.dataDir = opts.dataDir
    this.ledger = new Ledger(this.dataDir)
    this.dht = new PrivateDht({ host, port: this.opts.port, publicHost: this.opts.publicHost, nodes: this.opts.dhtNodes })
    this.keyPair = keyPair()
  }

  async ready (): Promise<void> {
    fs.mkdirSync(this.dataDir, { recursive: true, mode: 0o700 })
    this.ledger.load()
    this.keyPair = keyPair(this.loadSeed())
    this.counters.registered = Object.keys(this.ledger.data.invites).length
    this.counters.redeemed = Object.values(this.ledger.data.invites).reduce((n, i) => n + i.redemptions.length, 0)

    await this.dht.ready()

    this.serverNode = this.dht.createNode(0)
    const serverNode = this.serverNode
    this.blindRelay = new BlindRelayServer({ createStream: (o) => serverNode.createRawStream({ ...o, framed: true }) })
    this.server = serverNode.createServer({}, (socket) => this.onconnection(socket))
    await this.server.listen(this.keyPair)
    await this.announce()
    this.announceTimer = setInterval(() => { this.announce().catch(logBug) }, ANNOUNCE_INTERVAL_MS)
    this.announceTimer.unref()

    this.pairingSwarm = new Hyperswarm({ dht: this.dht.createNode(1) })
    this.pairingSwarm.on('connection', (conn) => { conn.on('error', noop) })
    this.pairing = new BlindPairing(this.pairingSwarm, { poll: this.opts.pairingPoll })
    this.verifier = new PairingVerifier(this)
    for (const mesh of Object.values(this.ledger.data.meshes)) this.watchMesh(mesh.discoveryKey)

    if (this.opts.httpPort !== null) {
      this.http = new HttpEndpoint(this, this.opts.httpHost, this.opts.httpPort)
      try {
        await this.http.listen()
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') throw MeshError.BAD_INPUT('http-port', `TCP port ${String(this.opts.httpPort)} on ${this.opts.httpHost} is already in use: pick another --http-port`)
        throw err
      }
    }
    this.opened = true
  }

  /** host:port peers bootstrap from; written into invite links. */
  get addresses (): string[] {
    return this.dht.bootstrap.map((a) => `${a.host}:${a.port}`)
  }

  get bootstrap (): Array<{ host: string, port: number }> {
    return this.dht.bootstrap
  }

  get port (): number {
    return this.dht.port
  }

  get httpPort (): number | null {
    return this.http?.port ?? null
  }

  /** How many relayed connections the blind relay has matched since start. */
  relayedPairings (): number {
    return this.blindRelay?.stats.pairings.matched ?? 0
  }

  get publicKey (): Buffer {
    return this.keyPair.publicKey
  }

  private loadSeed (): Buffer {
    const file = path.join(this.dataDir, 'relay.seed')
    try {
      const hex = fs.readFileSync(file, 'utf-8').trim()
      if (/^[0-9a-f]{64}$/.test(hex)) return fromHex(hex)
      throw new Error(`relay seed file ${file} is damaged; remove it to make a new relay identity (invite links will change)`)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    }
    const seed = randomBytes(32)
    fs.writeFileSync(file, toHex(seed) + '\n', { mode: 0o600 })
    return seed
  }

  /** Lets a daemon that knows only host:port find this relay's key (`create --relay host:port`). */
  private async announce (): Promise<void> {
    if (this.serverNode === null || this.closed) return
    await this.serverNode.announce(relayTopic(), this.keyPair).finished()
  }

  private onconnection (socket: NoiseSocket): void {
    socket.on('error', noop)
    const session = new ControlSession(this, socket)
    this.sessions.add(session)
    socket.on('close', () => {
      this.sessions.delete(session)
      this.dropSession(session)
    })
    if (this.blindRelay !== null) {
      const relaySession = this.blindRelay.accept(socket, { id: socket.remotePublicKey })
      relaySession.on('error', noop)
    }
  }

  /** Starts answering pairing requests for a mesh (after it is registered or on start-up). */
  watchMesh (discoveryKey: string): void {
    if (this.pairing === null || this.verifier === null || this.members.has(discoveryKey)) return
    const verifier = this.verifier
    const member = this.pairing.addMember({ discoveryKey: fromHex(discoveryKey), onadd: async (request) => await verifier.onrequest(request) })
    this.members.set(discoveryKey, member)
  }

  async flushedPairing (): Promise<void> {
    await Promise.all([...this.members.values()].map((m) => m.flushed()))
  }

  refuse (reason: RefusalReason): void {
    this.counters.refused[reason] = (this.counters.refused[reason] ?? 0) + 1
  }

  markOnline (meshKey: string, swarmKey: string, session: ControlSession): void {
    let mesh = this.online.get(meshKey)
    if (mesh === undefined) this.online.set(meshKey, mesh = new Map())
    let set = mesh.get(swarmKey)
    if (set === undefined) mesh.set(swarmKey, set = new Set())
    const wasOnline = set.size > 0
    set.add(session)
    if (!wasOnline) this.broadcastRoster(meshKey)
  }

  markOffline (meshKey: string, swarmKey: string): void {
    const mesh = this.online.get(meshKey)
    if (mesh === undefined || !mesh.has(swarmKey)) return
    mesh.delete(swarmKey)
    this.broadcastRoster(meshKey)
    for (const session of this.sessions) if (session.swarmKey === swarmKey) session.forget(meshKey)
  }

  private dropSession (session: ControlSession): void {
    for (const [meshKey, mesh] of this.online) {
      const set = mesh.get(session.swarmKey)
      if (set === undefined || !set.delete(session)) continue
      if (set.size === 0) {
        mesh.delete(session.swarmKey)
        this.broadcastRoster(meshKey)
      }
    }
  }

  roster (meshKey: string): RosterEntry[] {
    const mesh = this.ledger.mesh(meshKey)
    if (mesh === null) return []
    const online = this.online.get(meshKey)
    return Object.values(mesh.members).map((m) => ({ swarmKey: m.swarmKey, writerKey: m.writerKey, online: (online?.get(m.swarmKey)?.size ?? 0) > 0 }))
  }

  rosterSize (): number {
    let n = 0
    for (const mesh of this.online.values()) n += mesh.size
    return n
  }

  broadcastRoster (meshKey: string): void {
    const members = this.roster(meshKey)
    const online = this.online.get(meshKey)
    if (online === undefined) return
    for (const sessions of online.values()) {
      for (const session of sessions) session.push('roster', { meshKey, members })
    }
  }

  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    if (this.announceTimer !== null) clearInterval(this.announceTimer)
    for (const session of this.sessions) session.destroy()
    if (this.http !== null) await this.http.close()
    for (const member of this.members.values()) await member.close().catch(noop)
    this.members.clear()
    if (this.pairing !== null) await this.pairing.close().catch(noop)
    if (this.pairingSwarm !== null) await this.pairingSwarm.destroy()
    if (this.blindRelay !== null) await this.blindRelay.close().catch(noop)
    if (this.server !== null) await this.server.close().catch(noop)
    if (this.serverNode !== null) await this.serverNode.destroy()
    await this.dht.close()
    await this.ledger.idle()
  }
}

function noop (): void {}

/** relay/ may not import peer/: the same rule as peer/background.ts, on stderr */
function logBug (err: unknown): void {
  if (err instanceof TypeError || err instanceof RangeError || err instanceof ReferenceError || err instanceof SyntaxError) process.stderr.write(`claudemesh relay: BUG: ${err.stack ?? String(err)}\n`)
}
