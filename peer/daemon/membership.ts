// Creating meshes, minting and redeeming invites, removing members, leaving.
import fs from 'node:fs'
import HyperDHT from 'hyperdht'
import Hyperswarm from 'hyperswarm'
import Autobase from 'autobase'
import BlindPairing from 'blind-pairing'
import type { PairedResult } from 'blind-pairing'
import type { Daemon } from './daemon.js'
import { meshDir } from './home.js'
import type { Mesh, MeshConfig } from '../mesh/mesh.js'
import { isLoopback, type Network } from './network.js'
import { MeshError } from '../../protocol/errors.js'
import {
  decodeInviteLink, encodeInviteLink, signInviteLink, signInviteCert, verifyInviteCert,
  sealInviteSecret, openInviteSecret, encodeMemberKeys, parseHostPort, LINK_VERSION
} from '../../protocol/invite.js'
import { keyPair, randomBytes, toHex, fromHex, relayTopic } from '../../protocol/crypto.js'
import { signOwnerRequest, type InviteInfo, type InviteState } from '../../protocol/relay-wire.js'
import { verifyAdmission, type Admission } from '../../protocol/admission.js'
import { ANY_UDP_PORT } from '../../protocol/limits.js'
import type { MemberRecord } from '../../protocol/ops.js'

const RELAY_CONNECT_MS = 10_000
const PAIRING_TIMEOUT_MS = 30_000
export const ADMIT_TIMEOUT_MS = 30_000

export interface RelaySpec { publicKey: Buffer | null, addresses: string[] }

/** Parses `host:port` or `<key>@host:port` (key in hex). */
export function parseRelaySpec (value: string): RelaySpec {
  const at = value.lastIndexOf('@')
  const key = at === -1 ? null : value.slice(0, at)
  const address = at === -1 ? value : value.slice(at + 1)
  if (parseHostPort(address) === null) throw MeshError.BAD_INPUT('relay', 'must be host:port or <relay-key>@host:port, for example relay.example.com:49737')
  if (key !== null && !/^[0-9a-f]{64}$/.test(key)) throw MeshError.BAD_INPUT('relay', 'the key before "@" must be the 64-character hex key the relay prints at start')
  return { publicKey: key === null ? null : fromHex(key), addresses: [address] }
}

/** Finds the key of the relay at host:port: it announces it on its own DHT. */
export async function discoverRelayKey (addresses: string[], timeoutMs = RELAY_CONNECT_MS): Promise<Buffer> {
  const bootstrap = addresses.map(parseHostPort).filter((a) => a !== null)
  const dht = new HyperDHT({ bootstrap, port: ANY_UDP_PORT, ...(bootstrap.every((a) => isLoopback(a.host)) ? { host: '127.0.0.1' } : {}) })
  const found = new Map<string, Buffer>()
  const timer = setTimeout(() => { query.destroy() }, timeoutMs)
  const query = dht.lookup(relayTopic())
  try {
    for await (const data of query) for (const peer of data.peers) found.set(toHex(peer.publicKey), peer.publicKey)
  } catch {
    // a destroyed or failed lookup: judged by what was found
  } finally {
    clearTimeout(timer)
    await dht.destroy()
  }
  if (found.size === 0) throw MeshError.RELAY_UNREACHABLE(addresses.join(', '))
  if (found.size > 1) throw MeshError.BAD_INPUT('relay', `several relays answer at ${addresses.join(', ')}: pass --relay <relay-key>@host:port with the key the relay printed`)
  return [...found.values()][0]
}

export async function createMesh (daemon: Daemon, name: string, relay: RelaySpec | null, relayListen: { host: string, port: number } | null): Promise<Mesh> {
  if (daemon.meshes.has(name)) throw MeshError.MESH_EXISTS(name)
  let relayConfig: MeshConfig['relay']
  if (relay === null) {
    const embedded = await daemon.startEmbeddedRelay(relayListen ?? undefined)
    relayConfig = { publicKey: toHex(embedded.publicKey), addresses: embedded.addresses, embedded: true }
  } else {
    const publicKey = relay.publicKey ?? await discoverRelayKey(relay.addresses)
    relayConfig = { publicKey: toHex(publicKey), addresses: relay.addresses, embedded: false }
  }
  const config: MeshConfig = {
    name,
    namespace: 'mesh-' + toHex(randomBytes(8)),
    key: null,
    encryptionKey: toHex(randomBytes(32)),
    relay: relayConfig,
    owner: true,
    createdAt: Date.now()
  }
  const mesh = await daemon.openMesh(config, async (mesh, network) => {
    await mesh.init()
    await network.relay.request('mesh.register', signOwnerRequest('mesh.register', {
      meshKey: mesh.keyHex, meshName: name, swarmKey: daemon.swarmKey, writerKey: toHex(mesh.base.local.key), at: Date.now()
    }, daemon.signing), RELAY_CONNECT_MS)
  })
  daemon.saveMeshes()
  return mesh
}

export interface CreatedInvite { id: string, link: string, expires: number, uses: number, role: string, mesh: string }

export async function createInvite (daemon: Daemon, mesh: Mesh, opts: { uses: number, expiresMs: number, role: 'member' | 'admin' }): Promise<CreatedInvite> {
  if (!mesh.isOwner) throw MeshError.NOT_OWNER('create invites')
  const seed = randomBytes(32)
  const invitePublicKey = keyPair(seed).publicKey
  const expires = Date.now() + opts.expiresMs
  const cert = signInviteCert(mesh.key, { invitePublicKey: toHex(invitePublicKey), role: opts.role, uses: opts.uses, expires }, daemon.signing.secretKey)
  const data = sealInviteSecret(seed, { v: 1, meshName: mesh.name, encryptionKey: mesh.config.encryptionKey, ownerKey: toHex(daemon.signing.publicKey), cert })
  const invite = BlindPairing.createInvite(mesh.key, { seed, expires, data })
  if (invite.additional === null) throw new MeshError('INTERNAL', 'blind-pairing made an invite without its data')
  const network = daemon.networkOf(mesh)
  await network.relay.request('invite.register', signOwnerRequest('invite.register', {
    meshKey: mesh.keyHex,
    inviteId: toHex(invite.id),
    invitePublicKey: toHex(invitePublicKey),
    role: opts.role,
    uses: opts.uses,
    expires,
    additionalData: toHex(invite.additional.data),
    additionalSignature: toHex(invite.additional.signature),
    at: Date.now()
  }, daemon.signing), RELAY_CONNECT_MS)
  const link = encodeInviteLink(signInviteLink({
    version: LINK_VERSION,
    relayKey: fromHex(mesh.config.relay.publicKey),
    relayAddresses: mesh.config.relay.addresses,
    meshName: mesh.name,
    ownerKey: daemon.signing.publicKey,
    pairing: invite.invite
  }, daemon.signing.secretKey))
  return { id: toHex(invite.id), link, expires, uses: opts.uses, role: opts.role, mesh: mesh.name }
}

export async function listInvites (daemon: Daemon, mesh: Mesh): Promise<InviteInfo[]> {
  if (!mesh.isOwner) throw MeshError.NOT_OWNER('list invites')
  return await daemon.networkOf(mesh).relay.request<InviteInfo[]>('invite.list', signOwnerRequest('invite.list', { meshKey: mesh.keyHex, at: Date.now() }, daemon.signing), RELAY_CONNECT_MS)
}

/** Revokes an invite in the log (every member's apply() then refuses joins with it) and at the relay. */
export async function revokeInvite (daemon: Daemon, mesh: Mesh, idOrPrefix: string): Promise<InviteInfo> {
  const invites = await listInvites(daemon, mesh)
  const matches = invites.filter((i) => i.id.startsWith(idOrPrefix.toLowerCase()))
  if (matches.length === 0) throw MeshError.BAD_INPUT('id', `no invite of mesh ${mesh.name} starts with "${idOrPrefix}" (see \`claudemesh invite list\`)`)
  if (matches.length > 1) throw MeshError.BAD_INPUT('id', `"${idOrPrefix}" matches ${matches.length} invites: give more characters`)
  await mesh.revokeInvite(matches[0].publicKey)
  return await daemon.networkOf(mesh).relay.request<InviteInfo>('invite.revoke', signOwnerRequest('invite.revoke', { meshKey: mesh.keyHex, inviteId: matches[0].id, at: Date.now() }, daemon.signing), RELAY_CONNECT_MS)
}

const STATE_ERRORS: Record<Exclude<InviteState, 'valid'>, () => MeshError> = {
  unknown: MeshError.INVITE_UNKNOWN,
  expired: MeshError.INVITE_EXPIRED,
  used: MeshError.INVITE_USED,
  revoked: MeshError.INVITE_REVOKED
}

/** Redeems an invite link: checks it with the relay, pairs, opens the mesh, self-admits. */
export async function joinMesh (daemon: Daemon, linkText: string, admitTimeoutMs = ADMIT_TIMEOUT_MS): Promise<Mesh> {
  const link = decodeInviteLink(linkText)
  const decoded = BlindPairing.decodeInvite(link.pairing)
  const inviteId = toHex(decoded.id)
  if (daemon.meshes.has(link.meshName)) throw MeshError.MESH_EXISTS(link.meshName)
  const network = await daemon.network(link.relayAddresses, link.relayKey)
  let mesh: Mesh | null = null
  try {
    const status = await network.relay.request<{ state: InviteState }>('invite.status', { inviteId }, RELAY_CONNECT_MS)
    if (status.state !== 'valid') throw STATE_ERRORS[status.state]()

    // the namespace follows the invite, so a retried join pairs with the same writer key
    const namespace = 'mesh-' + inviteId.slice(0, 16)
    const local = Autobase.getLocalCore(daemon.store.namespace(namespace))
    await local.ready()
    const writerKey = local.key
    await local.close()
    const userData = encodeMemberKeys({ writerKey, swarmKey: daemon.swarmKeyPair.publicKey, signingKey: daemon.signing.publicKey })

    const paired = await pair(link.relayAddresses, link.pairing, userData)
    const secret = openInviteSecret(decoded.seed, paired.data ?? Buffer.alloc(0))
    const ownerKey = fromHex(secret.ownerKey)
    if (!ownerKey.equals(link.ownerKey) || !verifyInviteCert(paired.key, secret.cert, ownerKey)) throw MeshError.INVITE_FORGED()
    // the relay's signed word that it paired these keys, given only to this daemon's own key
    const admission = await network.relay.request<Admission>('admission.get', { inviteId }, RELAY_CONNECT_MS)
    if (admission.writerKey !== toHex(writerKey) || admission.swarmKey !== daemon.swarmKey || !verifyAdmission(admission, link.relayKey)) {
      throw new MeshError('INTERNAL', 'the relay answered with an admission for other keys; try the join again')
    }

    mesh = await daemon.openMesh({
      name: link.meshName,
      namespace,
      key: toHex(paired.key),
      encryptionKey: secret.encryptionKey,
      relay: { publicKey: toHex(link.relayKey), addresses: link.relayAddresses, embedded: false },
      owner: false,
      createdAt: Date.now()
    })
    const signal = AbortSignal.timeout(admitTimeoutMs)
    try {
      await mesh.join({ type: 'join', v: 2, at: Date.now(), label: daemon.label, cert: secret.cert, admission }, signal)
    } catch (err) {
      if ((err as MeshError).code === 'TIMEOUT') throw new MeshError('TIMEOUT', 'The invite was accepted, but no member of the mesh came online to admit this daemon. Run the same `claudemesh join` again when the owner or another member is online.')
      throw err
    }
    daemon.saveMeshes()
    return mesh
  } catch (err) {
    if (mesh !== null) await daemon.closeMesh(mesh).catch(() => {})
    else await daemon.dropNetworkIfUnused(network).catch(() => {})
    throw err
  }
}

/** Pairs with the relay through a short-lived swarm of its own (no firewall in the way). */
async function pair (addresses: string[], invite: Buffer, userData: Buffer): Promise<PairedResult> {
  const bootstrap = addresses.map(parseHostPort).filter((a) => a !== null)
  const dht = new HyperDHT({ bootstrap, port: ANY_UDP_PORT, ...(bootstrap.every((a) => isLoopback(a.host)) ? { host: '127.0.0.1' } : {}) })
  const swarm = new Hyperswarm({ dht })
  swarm.on('connection', (conn) => { conn.on('error', () => {}) })
  const pairing = new BlindPairing(swarm, { poll: 1000 })
  try {
    return await new Promise<PairedResult>((resolve, reject) => {
      const timer = setTimeout(() => reject(MeshError.TIMEOUT('the relay did not answer the pairing request in 30 s; check that it is running')), PAIRING_TIMEOUT_MS)
      timer.unref()
      const candidate = pairing.addCandidate({ invite, userData, onadd: (result) => { clearTimeout(timer); resolve(result) } })
      candidate.request.on('rejected', (err: { code?: string }) => {
        clearTimeout(timer)
        if (err.code === 'INVITE_USED') reject(MeshError.INVITE_USED())
        else if (err.code === 'INVITE_EXPIRED') reject(MeshError.INVITE_EXPIRED())
        else if (err.code === 'PAIRING_REJECTED') reject(MeshError.INVITE_REVOKED())
        else reject(MeshError.INVITE_FORGED())
      })
    })
  } finally {
    await pairing.close().catch(() => {})
    await swarm.destroy()
  }
}

/**
 * Owner only: removes a member from the view (everyone's firewall drops it, nobody replicates to it
 * any more) and revokes the invite it joined with, in the log and at the relay.
 */
export async function kickMember (daemon: Daemon, mesh: Mesh, who: string): Promise<{ member: MemberRecord, relay: boolean }> {
  if (!mesh.isOwner) throw MeshError.NOT_OWNER('remove members')
  const member = findMember(mesh, who)
  await mesh.remove(member.writerKey)
  let relay = true
  try {
    await tellRelayRemoved(daemon, mesh, member.swarmKey)
    if (member.invite !== null) {
      const invite = (await listInvites(daemon, mesh)).find((i) => i.publicKey === member.invite)
      if (invite !== undefined && !invite.revoked) await daemon.networkOf(mesh).relay.request('invite.revoke', signOwnerRequest('invite.revoke', { meshKey: mesh.keyHex, inviteId: invite.id, at: Date.now() }, daemon.signing), RELAY_CONNECT_MS)
    }
  } catch {
    relay = false
  }
  return { member, relay }
}

function tellRelayRemoved (daemon: Daemon, mesh: Mesh, swarmKey: string): Promise<unknown> {
  return daemon.networkOf(mesh).relay.request('member.remove', signOwnerRequest('member.remove', { meshKey: mesh.keyHex, swarmKey, at: Date.now() }, daemon.signing), RELAY_CONNECT_MS)
}

/** Owner only: tells a relay that was down during a kick about every removal in the view (idempotent). */
export async function syncRemovals (daemon: Daemon, mesh: Mesh): Promise<void> {
  if (!mesh.isOwner) return
  for (const swarmKey of mesh.removed) await tellRelayRemoved(daemon, mesh, swarmKey)
}

export function findMember (mesh: Mesh, who: string): MemberRecord {
  const needle = who.toLowerCase()
  const exact = mesh.members.filter((m) => m.label === who || m.writerKey === needle || m.swarmKey === needle)
  const matches = exact.length > 0 ? exact : mesh.members.filter((m) => needle.length >= 4 && (m.writerKey.startsWith(needle) || m.swarmKey.startsWith(needle)))
  if (matches.length === 0) throw MeshError.MEMBER_UNKNOWN(who)
  if (matches.length > 1) throw MeshError.BAD_INPUT('member', `"${who}" matches ${matches.length} members (${matches.map((m) => `${m.label} ${m.writerKey.slice(0, 8)}`).join(', ')}): use a key prefix`)
  return matches[0]
}

export async function leaveMesh (daemon: Daemon, mesh: Mesh, force: boolean): Promise<void> {
  if (mesh.isOwner && !force) throw MeshError.BAD_INPUT('mesh', `you own ${mesh.name}: if you leave, nobody can invite or remove members any more. Pass --force to leave anyway`)
  await daemon.closeMesh(mesh)
  daemon.saveMeshes()
  // the memory index snapshot holds the memories in the clear: it goes with the mesh
  await fs.promises.rm(meshDir(daemon.paths, mesh.config.namespace), { recursive: true, force: true })
}

export type { Network }
