// IPC methods of the daemon: validate, call one function of the domain, shape the answer.
import type { EventEmitter } from 'node:events'
import type { Daemon } from './daemon.js'
import { VERSION } from './daemon.js'
import type { Mesh } from '../mesh/mesh.js'
import { createMesh, createInvite, listInvites, revokeInvite, joinMesh, kickMember, leaveMesh, parseRelaySpec } from './membership.js'
import { parseHostPort } from '../../protocol/invite.js'
import { MeshError } from '../../protocol/errors.js'
import type { MeshStatus, MeshSummary, MeshOverview, Connection } from './contract.js'

export function registerHandlers (daemon: Daemon): void {
  const ipc = daemon.ipc

  ipc.handle('status', async () => ({
    pid: process.pid,
    version: VERSION,
    home: daemon.paths.root,
    socket: daemon.paths.socket,
    swarmKey: daemon.swarmKey,
    ownerKey: daemon.signing.publicKey.toString('hex'),
    label: daemon.label,
    uptimeMs: Date.now() - daemon.startedAt,
    embeddedRelay: daemon.embeddedRelay === null ? null : { addresses: daemon.embeddedRelay.addresses, publicKey: daemon.embeddedRelay.publicKey.toString('hex') },
    meshes: [...daemon.meshes.values()].map((m) => meshStatus(daemon, m))
  }))

  ipc.handle('create', async (p) => {
    const relay = p.relay === undefined || p.relay === null ? null : parseRelaySpec(p.relay)
    let listen: { host: string, port: number } | null = null
    if (p.relayListen !== undefined && p.relayListen !== null) {
      if (relay !== null) throw MeshError.BAD_INPUT('relayListen', 'only applies to the embedded relay: do not combine it with --relay')
      listen = parseHostPort(p.relayListen)
      if (listen === null) throw MeshError.BAD_INPUT('relayListen', 'must be host:port, for example 0.0.0.0:49737')
      if (daemon.embeddedRelay !== null) throw MeshError.BAD_INPUT('relayListen', 'the embedded relay is already running; its address is fixed until the daemon restarts')
    }
    const mesh = await createMesh(daemon, p.name, relay, listen)
    return meshSummary(daemon, mesh)
  })

  ipc.handle('invite.create', async (p) => {
    return await createInvite(daemon, daemon.resolveMesh(p.mesh), p)
  })

  ipc.handle('invite.list', async (p) => {
    return await listInvites(daemon, daemon.resolveMesh(p.mesh))
  })

  ipc.handle('invite.revoke', async (p) => {
    return await revokeInvite(daemon, daemon.resolveMesh(p.mesh), p.id)
  })

  ipc.handle('join', async (p) => {
    const mesh = await joinMesh(daemon, p.link, p.timeoutMs)
    return meshSummary(daemon, mesh)
  })

  ipc.handle('list', async () => [...daemon.meshes.values()].map((m) => meshSummary(daemon, m)))

  ipc.handle('leave', async (p) => {
    const mesh = daemon.resolveMesh(p.mesh)
    await leaveMesh(daemon, mesh, p.force)
    return { left: mesh.name }
  })

  ipc.handle('kick', async (p) => {
    const mesh = daemon.resolveMesh(p.mesh)
    const { member, relay } = await kickMember(daemon, mesh, p.member)
    return { mesh: mesh.name, removed: member, relayUpdated: relay }
  })

  ipc.handle('relay.ping', async (p) => {
    const mesh = daemon.resolveMesh(p.mesh)
    const started = Date.now()
    const res = await daemon.networkOf(mesh).relay.request<{ now: number }>('ping', {}, 2000)
    const rtt = Date.now() - started
    return { mesh: mesh.name, rttMs: rtt, skewMs: res.now - (started + rtt / 2) }
  })

  ipc.handle('mesh.overview', async (p) => {
    const meshes = p.mesh === undefined || p.mesh === null ? [...daemon.meshes.values()] : [daemon.resolveMesh(p.mesh)]
    return await Promise.all(meshes.map(async (m) => await overview(daemon, m)))
  })

  ipc.handle('dashboard.url', async () => {
    if (daemon.dashboard === null) throw MeshError.BAD_INPUT('dashboard', `is turned off in ${daemon.paths.settings} ("dashboard": {"enabled": false})`)
    return { url: daemon.dashboard.url, port: daemon.dashboard.port }
  })

  ipc.handle('messages.log', async (p) => {
    if (p.mesh !== undefined && p.mesh !== null) daemon.resolveMesh(p.mesh)
    return { settings: daemon.messageLog.settings, messages: daemon.messageLog.list(p) }
  })

  ipc.handle('messages.configure', async (p) => {
    const settings = await daemon.messageLog.configure({
      ...(p.enabled !== undefined ? { enabled: p.enabled } : {}),
      ...(p.retentionDays !== undefined ? { retentionDays: p.retentionDays } : {})
    })
    daemon.settings.messageLog = settings
    daemon.saveSettings()
    daemon.log(`message log ${settings.enabled ? `on, kept ${settings.retentionDays} days` : 'off (what it kept is deleted)'}`)
    return settings
  })

  ipc.handle('wait', async (p) => {
    const mesh = await meshJoined(daemon, p.mesh, p.timeoutMs)
    const network = daemon.networkOf(mesh)
    const holds = (): boolean =>
      (p.state === undefined || mesh.stateCount === p.state) &&
      (p.memory === undefined || mesh.memory.size === p.memory) &&
      (p.files === undefined || mesh.files.count === p.files) &&
      (p.accesses === undefined || (mesh.files.accessCounts.get(p.accesses.id) ?? 0) >= p.accesses.count) &&
      (p.members === undefined || mesh.members.length === p.members) &&
      (p.connected === undefined || network.connectedPeers(mesh).length === p.connected) &&
      (p.refused === undefined || network.refused.count >= p.refused) &&
      (p.refusedLinks === undefined || network.refused.tcpLinks >= p.refusedLinks) &&
      (p.relay === undefined || network.relay.connected === p.relay) &&
      (p.sessions === undefined || daemon.sessionsOf(mesh).sessions().length === p.sessions) &&
      (p.malformed === undefined || daemon.sessionsOf(mesh).counters.malformedFrames >= p.malformed) &&
      (p.refusedSessions === undefined || daemon.sessionsOf(mesh).roster.refused >= p.refusedSessions) &&
      (p.refusedMessages === undefined || daemon.sessionsOf(mesh).counters.refusedMessages >= p.refusedMessages) &&
      (p.refusedCores === undefined || network.replication.refused >= p.refusedCores) &&
      (p.logged === undefined || daemon.messageLog.size >= p.logged) &&
      (p.claims === undefined || liveClaims === p.claims) &&
      (p.indexers === undefined || mesh.indexerWriters.length === p.indexers) &&
      (p.delivered === undefined || daemon.sessionsOf(mesh).status(p.delivered)?.recipients.every((r) => r.status === 'delivered' || r.status === 'read') === true) &&
      (p.status === undefined || daemon.sessionsOf(mesh).status(p.status.id)?.recipients.every((r) => r.status === p.status?.is) === true) &&
      (p.peer === undefined || daemon.sessionsOf(mesh).sessions().some((s) => s.name === p.peer?.name &&
        (p.peer.status === undefined || s.status === p.peer.status) &&
        (p.peer.summary === undefined || s.summary === p.peer.summary) &&
        (p.peer.group === undefined || s.groups.some((g) => g.name === p.peer?.group)) &&
        (p.peer.receives === undefined || s.receives === p.peer.receives)))
    let liveClaims = 0
    const countClaims = async (): Promise<void> => {
      if (p.claims === undefined) return
      const now = daemon.clock.now()
      liveClaims = (await mesh.listClaims()).filter((c) => c.expiresAt > now).length
    }
    await countClaims()
    if (!holds()) {
      // every event after which one of the conditions may have changed
      const sources: Array<[EventEmitter, string[]]> = [
        [mesh, ['members', 'state', 'memory']],
        [mesh.files, ['files']],
        [network, ['peers', 'refused', 'roster', 'refused-core']],
        [network.relay, ['open', 'close']],
        [daemon.sessionsOf(mesh), ['roster', 'malformed', 'status', 'refused']],
        [daemon.messageLog, ['logged']],
        [mesh, ['claims']]
      ]
      await new Promise<void>((resolve, reject) => {
        const check = (): void => { countClaims().then(() => { if (holds()) { cleanup(); resolve() } }, () => {}) }
        const timer = setTimeout(() => { cleanup(); reject(MeshError.TIMEOUT(`waiting for ${JSON.stringify(p)}`)) }, p.timeoutMs)
        const cleanup = (): void => {
          clearTimeout(timer)
          for (const [emitter, events] of sources) for (const e of events) emitter.off(e, check)
        }
        for (const [emitter, events] of sources) for (const e of events) emitter.on(e, check)
      })
    }
    return meshSummary(daemon, mesh)
  })

  ipc.handle('clock.advance', async (p) => {
    if (!daemon.clock.adjustable) throw MeshError.BAD_INPUT('method', 'clock.advance is only for tests (start the daemon with CLAUDEMESH_TEST_CLOCK=1)')
    const now = daemon.clock.advance(p.ms)
    for (const mesh of daemon.meshes.values()) await mesh.files.onupdate()
    for (const sessions of daemon.allSessions()) sessions.tick() // presence, the offline queue and attachment keys expire on the moved clock
    return { now }
  })

  ipc.handle('test.isolate', async (p) => {
    if (!daemon.clock.adjustable) throw MeshError.BAD_INPUT('method', 'test.isolate is only for tests (start the daemon with CLAUDEMESH_TEST_CLOCK=1)')
    for (const network of daemon.networks.values()) network.isolate(p.on)
    return { isolated: p.on }
  })

  ipc.handle('stop', async (_params, conn) => {
    setImmediate(() => { daemon.emit('stop-requested', conn) })
    return { stopping: true as const, pid: process.pid }
  })
}

/** The named mesh, waiting (up to `ms`) for it to be joined when it is not yet: `launch` makes one after the daemon starts. */
async function meshJoined (daemon: Daemon, name: string | null | undefined, ms: number): Promise<Mesh> {
  if (name === undefined || name === null || name === '' || daemon.meshes.has(name)) return daemon.resolveMesh(name)
  return await new Promise<Mesh>((resolve, reject) => {
    const joined = (): void => { if (daemon.meshes.has(name)) { cleanup(); resolve(daemon.resolveMesh(name)) } }
    const timer = setTimeout(() => { cleanup(); try { daemon.resolveMesh(name) } catch (err) { reject(err) } }, ms)
    const cleanup = (): void => { clearTimeout(timer); daemon.off('meshes', joined) }
    daemon.on('meshes', joined)
  })
}

function meshStatus (daemon: Daemon, mesh: Mesh): MeshStatus {
  const network = daemon.networkOf(mesh)
  return {
    name: mesh.name,
    key: mesh.keyHex,
    owner: mesh.isOwner,
    writable: mesh.writable,
    relay: { addresses: mesh.config.relay.addresses, publicKey: mesh.config.relay.publicKey, embedded: mesh.config.relay.embedded, connected: network.relay.connected },
    peers: network.connectedPeers(mesh),
    sessions: daemon.sessionsOf(mesh).sessions().length,
    malformedFrames: daemon.sessionsOf(mesh).counters.malformedFrames,
    /** session announcements refused (another member's session, no proof, over the per-member cap) and messages refused (a sender that is not the member's) */
    refusedSessions: daemon.sessionsOf(mesh).roster.refused,
    refusedMessages: daemon.sessionsOf(mesh).counters.refusedMessages,
    /** cores a peer asked for that it may not have (any mesh on this network) */
    refusedCores: network.replication.refused,
    strict: mesh.strict,
    /** this member's own writer in the mesh's log: its key and how many blocks it holds */
    writer: { key: mesh.localWriter, length: mesh.base.local.length },
    members: mesh.members.length,
    refusedConnections: network.refused.count,
    tcpLinks: { port: network.bulk.port, active: network.bulk.tcpLinks, refused: network.refused.tcpLinks },
    /** files channels closed for a malformed frame (direct transfers; any mesh on this network) */
    malformedFileFrames: network.files.malformed,
    history: mesh.history
  }
}

export function meshSummary (daemon: Daemon, mesh: Mesh): MeshSummary {
  const network = daemon.networkOf(mesh)
  const connected = new Set(network.connectedPeers(mesh))
  const rosterOnline = new Set(network.roster(mesh).filter((e) => e.online).map((e) => e.swarmKey))
  const members = mesh.members.map((m) => ({
    label: m.label,
    role: m.role,
    writerKey: m.writerKey,
    swarmKey: m.swarmKey,
    joinedAt: m.joinedAt,
    self: m.swarmKey === daemon.swarmKey,
    connected: connected.has(m.swarmKey),
    online: m.swarmKey === daemon.swarmKey || connected.has(m.swarmKey) || rosterOnline.has(m.swarmKey)
  }))
  return {
    name: mesh.name,
    key: mesh.keyHex,
    owner: mesh.isOwner,
    relay: { addresses: mesh.config.relay.addresses, embedded: mesh.config.relay.embedded, connected: network.relay.connected },
    members,
    online: members.filter((m) => m.online).length
  }
}

/** What the dashboard's Peers page shows of a mesh: members and how this daemon reaches each, and every session. */
async function overview (daemon: Daemon, mesh: Mesh): Promise<MeshOverview> {
  const network = daemon.networkOf(mesh)
  const sessions = daemon.sessionsOf(mesh)
  const now = daemon.clock.now()
  const members = meshSummary(daemon, mesh).members.map((m) => {
    const connection: Connection = m.self ? 'self' : network.connectionOf(m.swarmKey) ?? 'offline'
    return { ...m, connection }
  })
  const local = new Set(sessions.local.keys())
  const claims = await daemon.claims.live(mesh)
  return {
    name: mesh.name,
    key: mesh.keyHex,
    owner: mesh.isOwner,
    self: daemon.swarmKey,
    members,
    sessions: sessions.sessions().map((s) => ({ ...s, claims: claims.filter((c) => c.session.id === s.id), local: local.has(s.id), lastSeen: local.has(s.id) ? now : sessions.roster.get(s.id)?.seen ?? now }))
      .sort((a, b) => a.name.localeCompare(b.name))
  }
}
