// The daemon: one per user and machine. Owns the corestore, the swarms (one per relay network,
// all with the daemon's stable key), every joined mesh, the embedded relay if any, and the IPC socket.
import fs from 'node:fs'
import path from 'node:path'
import os from 'node:os'
import { EventEmitter } from 'node:events'
import Corestore from 'corestore'
import { Mesh, type MeshConfig } from '../mesh/mesh.js'
import { Network } from './network.js'
import { IpcServer, type IpcConnection } from './ipc.js'
import type { Bound } from './caller.js'
import { homePaths, ensureHome, writeFileAtomic, readJson, meshDir, type HomePaths } from './home.js'
import { registerHandlers } from './handlers.js'
import { registerSessionHandlers } from './session-handlers.js'
import { MeshSessions, type LocalSession } from './sessions.js'
import { Claims } from './claims.js'
import { registerClaimHandlers, answerGuard } from './claim-handlers.js'
import { GuardPort } from './guard-port.js'
import { AttachmentKeys } from './attachment-keys.js'
import { DaemonClock } from './clock.js'
import { registerFileHandlers } from './file-handlers.js'
import { LIMITS } from '../../protocol/limits.js'
import { syncRemovals } from './membership.js'
import { MeshError } from '../../protocol/errors.js'
import { fromHex, toHex, type KeyPair } from '../../protocol/crypto.js'
import type { Relay } from '../../relay/relay.js'
import { MessageLog, type MessageLogSettings, type LoggedMessage } from './message-log.js'
import type { MessageFrame, SessionInfo } from '../../protocol/session-wire.js'
import type { Dashboard } from '../dashboard/dashboard.js'
import type { NoiseSocket } from 'hyperdht'

export interface DaemonSettings {
  embeddedRelay?: { host: string, port: number }
  label?: string
  /** largest file this daemon shares, in bytes (default 1 GiB) */
  maxFileBytes?: number
  /** the dashboard on 127.0.0.1: on by default, on a free port unless one is set */
  dashboard?: { enabled?: boolean, port?: number }
  /** the dashboard's log of messages (off by default) */
  messageLog?: Partial<MessageLogSettings>
  /** what the PreToolUse hook answers for a file another session claimed: ask (default) or deny */
  claims?: { guard?: 'ask' | 'deny' }
}

export interface DaemonOptions {
  home?: string
  /** label members see for this daemon (default user@host) */
  label?: string
  /** overrides settings.json maxFileBytes (CLAUDEMESH_MAX_FILE_BYTES) */
  maxFileBytes?: number
  /** lets tests move the clock over IPC (CLAUDEMESH_TEST_CLOCK=1) */
  adjustableClock?: boolean
  /** replicate over direct TCP links where possible (default true; CLAUDEMESH_TCP_LINKS=0 turns it off) */
  tcpLinks?: boolean
  /** fetch large files straight from a member that holds them (default true; CLAUDEMESH_DIRECT_FILES=0: they replicate) */
  directFiles?: boolean
  /** the dashboard's port, over settings.json (CLAUDEMESH_DASHBOARD_PORT; 0: a free one) */
  dashboardPort?: number
}

export { VERSION } from '../cli/version.js'

/** how long a stopping daemon waits for a peer to take its last ops */
const HAND_OFF_MS = 2000

export class Daemon extends EventEmitter {
  readonly paths: HomePaths
  readonly store: Corestore
  readonly ipc = new IpcServer()
  readonly networks = new Map<string, Network>()
  readonly meshes = new Map<string, Mesh>()
  /** mesh key -> its sessions */
  private readonly sessions = new Map<string, MeshSessions>()
  /** claim releases of ended sessions still being appended */
  private readonly releasing = new Set<Promise<unknown>>()
  /** IPC connection -> the session it registered (see caller.ts) */
  readonly sessionBindings = new WeakMap<IpcConnection, Bound>()
  readonly startedAt = Date.now()
  signing!: KeyPair
  swarmKeyPair!: KeyPair
  label: string
  settings: DaemonSettings
  embeddedRelay: Relay | null = null
  closing: Promise<void> | null = null
  readonly clock: DaemonClock
  readonly maxFileBytes: number
  private readonly tcpLinks: boolean
  private readonly directFiles: boolean
  private readonly dashboardPort: number | undefined
  readonly messageLog: MessageLog
  readonly claims: Claims
  dashboard: Dashboard | null = null
  /** the PreToolUse hook's port on 127.0.0.1 (null if it could not listen: the hook then runs Node) */
  guard: GuardPort | null = null

  constructor (opts: DaemonOptions = {}) {
    super()
    this.paths = homePaths(opts.home)
    ensureHome(this.paths)
    this.settings = readJson<DaemonSettings>(this.paths.settings, {})
    this.label = checkLabel(opts.label ?? this.settings.label ?? defaultLabel(), opts.label !== undefined ? 'CLAUDEMESH_LABEL' : 'settings.json label')
    this.maxFileBytes = checkMaxFileBytes(opts.maxFileBytes ?? this.settings.maxFileBytes ?? LIMITS.file, opts.maxFileBytes !== undefined ? 'CLAUDEMESH_MAX_FILE_BYTES' : 'settings.json maxFileBytes')
    this.clock = new DaemonClock(opts.adjustableClock === true)
    this.tcpLinks = opts.tcpLinks !== false
    this.directFiles = opts.directFiles !== false
    this.dashboardPort = opts.dashboardPort
    this.claims = new Claims(() => this.clock.now())
    this.messageLog = new MessageLog(path.join(this.paths.root, 'message-log.jsonl'), this.settings.messageLog, () => this.clock.now())
    this.store = new Corestore(this.paths.store)
  }

  async ready (): Promise<void> {
    await this.store.ready()
    this.signing = await this.store.createKeyPair('claudemesh/signing')
    this.swarmKeyPair = await this.store.createKeyPair('hyperswarm')
    const configs = readJson<MeshConfig[]>(this.paths.meshes, [])
    for (const config of configs) {
      try {
        await this.openMesh(config)
      } catch (err) {
        this.log(`could not open mesh ${config.name}: ${(err as Error).message}`)
      }
    }
    registerHandlers(this)
    registerSessionHandlers(this)
    registerFileHandlers(this)
    registerClaimHandlers(this)
    await this.ipc.listen(this.paths.socket)
    await this.startGuard()
    fs.writeFileSync(this.paths.pid, String(process.pid) + '\n', { mode: 0o600 })
    if (this.settings.dashboard?.enabled !== false) await this.startDashboard()
  }

  /** The guard port: without it the hook falls back to `claudemesh hook PreToolUse` (slower, same answer). */
  private async startGuard (): Promise<void> {
    const guard = new GuardPort(this.paths.guard, (input, pid) => answerGuard(this, input, pid), (line) => this.log(line))
    try {
      await guard.ready()
      this.guard = guard
    } catch (err) {
      this.log(`the guard port could not listen on 127.0.0.1: ${(err as Error).message}`)
    }
  }

  /** The dashboard: a daemon whose port is taken still runs, without it (and says so in its log). */
  private async startDashboard (): Promise<void> {
    const { startDashboard } = await import('../dashboard/dashboard.js')
    const port = this.dashboardPort ?? this.settings.dashboard?.port ?? 0
    try {
      this.dashboard = await startDashboard(this, port)
      this.log(`dashboard on ${this.dashboard.origin}`)
    } catch (err) {
      this.log(`the dashboard could not listen on 127.0.0.1:${port}: ${(err as Error).message}`)
    }
  }

  get swarmKey (): string {
    return toHex(this.swarmKeyPair.publicKey)
  }

  log (line: string): void {
    this.emit('log', line)
  }

  /** The network for a relay, created and started on first use. */
  async network (addresses: string[], relayKey: Buffer): Promise<Network> {
    const id = Network.idFor(addresses, relayKey)
    let network = this.networks.get(id)
    if (network !== undefined) return network
    network = new Network({ addresses, relayKey, keyPair: this.swarmKeyPair, store: this.store, tcpLinks: this.tcpLinks })
    network.on('relay-error', (err: Error) => this.log(`relay: ${err.message}`))
    network.on('log', (line: string) => this.log(line))
    network.on('attach', (conn: NoiseSocket, mesh: Mesh, remoteKey: string) => { this.sessions.get(mesh.keyHex)?.attach(conn, remoteKey) })
    network.relay.on('open', () => {
      for (const mesh of this.meshes.values()) {
        if (this.networks.get(Network.idFor(mesh.config.relay.addresses, fromHex(mesh.config.relay.publicKey))) !== network) continue
        syncRemovals(this, mesh).catch((err: Error) => this.log(`relay: could not sync removals of ${mesh.name}: ${err.message}`))
      }
    })
    this.networks.set(id, network)
    await network.ready()
    return network
  }

  async dropNetworkIfUnused (network: Network): Promise<void> {
    if (network.meshCount > 0 || this.networks.get(network.id) !== network) return
    this.networks.delete(network.id)
    await network.close()
  }

  networkOf (mesh: Mesh): Network {
    const network = this.networks.get(Network.idFor(mesh.config.relay.addresses, fromHex(mesh.config.relay.publicKey)))
    if (network === undefined) throw new MeshError('INTERNAL', `mesh ${mesh.name} has no network`)
    return network
  }

  /**
   * Opens a mesh from its config and joins it to its relay's network. `beforeAttach` runs first
   * (a new mesh registers with its relay there); if it throws, nothing is left open.
   */
  async openMesh (config: MeshConfig, beforeAttach?: (mesh: Mesh, network: Network) => Promise<void>): Promise<Mesh> {
    if (config.relay.embedded) await this.startEmbeddedRelay()
    const mesh = new Mesh(this.store, config, { signing: this.signing, swarmKey: this.swarmKeyPair.publicKey, label: this.label }, {
      memorySnapshot: path.join(meshDir(this.paths, config.namespace), 'memory-index.json'),
      attachmentsSeen: path.join(meshDir(this.paths, config.namespace), 'attachments-seen.json'),
      log: (line) => this.log(`${config.name}: ${line}`),
      clock: this.clock,
      maxFileBytes: this.maxFileBytes
    })
    await mesh.ready()
    const network = await this.network(config.relay.addresses, fromHex(config.relay.publicKey))
    try {
      if (beforeAttach !== undefined) await beforeAttach(mesh, network)
    } catch (err) {
      await mesh.close().catch(noop)
      await this.dropNetworkIfUnused(network).catch(noop)
      throw err
    }
    this.meshes.set(config.name, mesh)
    const keys = new AttachmentKeys(path.join(this.paths.root, 'attachments'), mesh.keyHex, () => this.clock.now())
    const sessions = new MeshSessions(mesh, path.join(this.paths.root, 'messages'), { swarmKey: this.swarmKey }, keys, () => this.clock.now())
    sessions.on('malformed', (key: string) => this.log(`closed the session channel of ${key.slice(0, 8)}: malformed frame`))
    sessions.on('refused', (key: string) => this.log(`refused a session or message from ${key.slice(0, 8)}: it is not that member's`))
    sessions.on('sent', (e: SentEvent) => this.messageLog.add(logEntry(sessions, 'sent', e.frame, e.from, e.to, e.replyTo)))
    sessions.on('ended', (s: LocalSession) => {
      const released = this.claims.releaseSession(mesh, s.info.id, { session: s.info.name, sessionId: s.info.id, member: this.label })
        .catch((err: Error) => this.log(`${mesh.name}: could not release the claims of session ${s.info.name}: ${err.message}`))
      this.releasing.add(released)
      released.finally(() => this.releasing.delete(released)).catch(noop)
    })
    sessions.on('received', (e: ReceivedEvent) => this.messageLog.add(logEntry(sessions, 'received', e.frame, e.session, [e.session.name], null)))
    this.sessions.set(mesh.keyHex, sessions)
    await network.addMesh(mesh)
    if (this.directFiles) mesh.files.direct = network.files.fetcher(mesh)
    this.emit('meshes')
    return mesh
  }

  sessionsOf (mesh: Mesh): MeshSessions {
    const sessions = this.sessions.get(mesh.keyHex)
    if (sessions === undefined) throw new MeshError('INTERNAL', `mesh ${mesh.name} has no session registry`)
    return sessions
  }

  allSessions (): MeshSessions[] {
    return [...this.sessions.values()]
  }

  /** The session of this daemon whose Claude Code is one of these processes (a hook's ancestors). */
  sessionByPids (pids: number[]): { session: LocalSession, sessions: MeshSessions } | null {
    for (const pid of pids) {
      for (const sessions of this.sessions.values()) {
        for (const session of sessions.local.values()) if (session.claudePid === pid) return { session, sessions }
      }
    }
    return null
  }

  /** Called when a session registers (the idle exit timer, once there is one, starts over). */
  sessionStarted (): void {}

  async closeMesh (mesh: Mesh): Promise<void> {
    this.meshes.delete(mesh.name)
    await this.sessions.get(mesh.keyHex)?.close()
    this.sessions.delete(mesh.keyHex)
    const network = this.networkOf(mesh)
    await network.removeMesh(mesh)
    await mesh.close()
    await this.dropNetworkIfUnused(network)
    this.emit('meshes')
  }

  saveMeshes (): void {
    const configs = [...this.meshes.values()].map((m) => m.config)
    writeFileAtomic(this.paths.meshes, JSON.stringify(configs, null, 2) + '\n')
  }

  saveSettings (): void {
    writeFileAtomic(this.paths.settings, JSON.stringify(this.settings, null, 2) + '\n')
  }

  /** Resolves a mesh by name; with no name, the only joined mesh. */
  resolveMesh (name?: string | null): Mesh {
    const names = [...this.meshes.keys()]
    if (name === undefined || name === null || name === '') {
      if (this.meshes.size === 1) return [...this.meshes.values()][0]
      if (this.meshes.size === 0) throw MeshError.NO_MESH()
      throw MeshError.BAD_INPUT('mesh', `several meshes are joined (${names.join(', ')}): name one with --mesh`)
    }
    const mesh = this.meshes.get(name)
    if (mesh === undefined) throw MeshError.MESH_UNKNOWN(name, names)
    return mesh
  }

  /** The relay embedded in this daemon, for a local or LAN mesh. Its port is kept across restarts. */
  async startEmbeddedRelay (listen?: { host: string, port: number }): Promise<Relay> {
    if (this.embeddedRelay !== null) return this.embeddedRelay
    const { Relay } = await import('../../relay/relay.js')
    const wanted = listen ?? this.settings.embeddedRelay ?? { host: '127.0.0.1', port: 0 }
    const publicHost = wanted.host === '0.0.0.0' ? lanAddress() : wanted.host
    const relay = new Relay({ dataDir: this.paths.relay, host: wanted.host, port: wanted.port, publicHost, httpPort: null })
    await relay.ready()
    this.embeddedRelay = relay
    this.settings.embeddedRelay = { host: wanted.host, port: relay.port }
    this.saveSettings()
    return relay
  }

  async close (): Promise<void> {
    if (this.closing !== null) return this.closing
    this.closing = (async () => {
      const t0 = Date.now()
      // a stop on purpose ends the sessions; a daemon that died without this is started again by them
      for (const conn of this.ipc.connections) conn.send({ event: 'stopping', data: {} })
      await this.dashboard?.close().catch(noop)
      await this.guard?.close().catch(noop)
      await this.ipc.close().catch(noop)
      await this.messageLog.close().catch(noop)
      this.claims.close()
      for (const sessions of this.sessions.values()) await sessions.close().catch(noop)
      // the sessions' claims are released and handed to a peer before the network goes
      await Promise.all([...this.releasing])
      await Promise.all([...this.meshes.values()].map(async (mesh) => {
        if (await mesh.handOff(HAND_OFF_MS).catch(() => 'late') === 'late') this.log(`${mesh.name}: no peer took this member's last ops before the stop; they travel when it is back`)
      }))
      for (const mesh of this.meshes.values()) await mesh.close().catch(noop)
      for (const network of this.networks.values()) await network.close().catch(noop)
      if (this.embeddedRelay !== null) await this.embeddedRelay.close().catch(noop)
      await this.store.close().catch(noop)
      this.log(`closed in ${Date.now() - t0} ms`)
      try { fs.unlinkSync(this.paths.socket) } catch {}
      try { fs.unlinkSync(this.paths.pid) } catch {}
    })()
    return this.closing
  }
}

interface SentEvent { frame: MessageFrame, from: SessionInfo, to: string[], replyTo: string | null }
interface ReceivedEvent { frame: MessageFrame, session: SessionInfo }

function logEntry (sessions: MeshSessions, direction: 'sent' | 'received', frame: MessageFrame, session: SessionInfo, to: string[], replyTo: string | null): LoggedMessage {
  const d = sessions.delivered(frame)
  return {
    id: frame.id,
    mesh: sessions.mesh.name,
    direction,
    session: { id: session.id, name: session.name },
    from: { id: d.from.id, name: d.from.name, member: d.from.label },
    to,
    priority: frame.priority,
    group: frame.group,
    content: frame.content,
    files: d.files,
    replyTo: frame.replyTo ?? replyTo,
    thread: frame.thread ?? frame.id,
    at: frame.at
  }
}

/** The label other members see; it goes into every op this daemon writes, so it must be valid. */
function checkLabel (label: string, field: string): string {
  if (label.length < 1 || label.length > 64 || /[\u0000-\u001f\u007f]/.test(label)) {
    throw MeshError.BAD_INPUT(field, 'must be 1 to 64 characters with no control characters')
  }
  return label
}

function checkMaxFileBytes (value: number, field: string): number {
  if (!Number.isSafeInteger(value) || value < 1) throw MeshError.BAD_INPUT(field, 'must be a whole number of bytes, at least 1')
  return value
}

/** The first non-internal IPv4 address: what teammates on the LAN dial when the relay listens on 0.0.0.0. */
function lanAddress (): string {
  for (const addresses of Object.values(os.networkInterfaces())) {
    for (const a of addresses ?? []) if (a.family === 'IPv4' && !a.internal) return a.address
  }
  return '127.0.0.1'
}

function defaultLabel (): string {
  let user = 'user'
  try { user = os.userInfo().username } catch {}
  return `${user}@${os.hostname()}`.replace(/[^A-Za-z0-9@._-]/g, '-').slice(0, 64)
}

function noop (): void {}
