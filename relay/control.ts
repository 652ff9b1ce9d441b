// One daemon's control connection to the relay: owner requests, invite status, the roster.
// The caller is identified by its Noise key (its daemon's swarm key); owner requests are signed.
import type { NoiseSocket } from 'hyperdht'
import type { z } from 'zod'
import { JsonChannel } from '../protocol/channel.js'
import { MeshError } from '../protocol/errors.js'
import { toHex, discoveryKey, fromHex } from '../protocol/crypto.js'
import { LIMITS } from '../protocol/limits.js'
import { parse } from '../protocol/schema.js'
import {
  RELAY_PROTOCOL, OWNER_REQUEST_WINDOW_MS, Request, Signed, verifyOwnerRequest,
  MeshRegister, InviteRegister, InviteRevoke, InviteList, MemberRemove, InviteStatus, AdmissionGet, RosterAnnounce,
  type InviteInfo, type InviteState
} from '../protocol/relay-wire.js'
import { signAdmission, type Admission } from '../protocol/admission.js'
import type { Relay } from './relay.js'
import type { LedgerInvite } from './ledger.js'

/** how long after its expiry an invite stays in the ledger (for `invite list`) */
const PRUNE_AFTER_MS = 7 * 24 * 3600 * 1000

export class ControlSession {
  readonly swarmKey: string
  private readonly relay: Relay
  private readonly socket: NoiseSocket
  private readonly channel: JsonChannel | null
  private readonly announced = new Set<string>()

  constructor (relay: Relay, socket: NoiseSocket) {
    this.relay = relay
    this.socket = socket
    this.swarmKey = toHex(socket.remotePublicKey)
    this.channel = JsonChannel.open(socket, {
      protocol: RELAY_PROTOCOL,
      maxFrame: LIMITS.relayFrame,
      onframe: (frame) => { this.onframe(frame) },
      onmalformed: () => { relay.counters.malformedFrames++; relay.refuse('malformed') }
    })
  }

  push (event: string, data: unknown): void {
    this.channel?.send({ event, data })
  }

  forget (meshKey: string): void {
    this.announced.delete(meshKey)
  }

  destroy (): void {
    this.socket.destroy()
  }

  private onframe (frame: unknown): void {
    const request = Request.safeParse(frame)
    if (!request.success) {
      this.relay.refuse('malformed')
      this.channel?.close()
      return
    }
    const { id, method, params } = request.data
    this.handle(method, params).then(
      (result) => this.channel?.send({ id, ok: true, result }),
      (err) => {
        const error = MeshError.from(err)
        this.channel?.send({ id, ok: false, error: error.toJSON() })
      }
    )
  }

  private async handle (method: string, params: unknown): Promise<unknown> {
    switch (method) {
      case 'mesh.register': return this.meshRegister(params)
      case 'invite.register': return this.inviteRegister(params)
      case 'invite.revoke': return this.inviteRevoke(params)
      case 'invite.list': return this.inviteList(params)
      case 'member.remove': return this.memberRemove(params)
      case 'invite.status': return this.inviteStatus(params)
      case 'admission.get': return this.admissionGet(params)
      case 'roster.announce': return this.rosterAnnounce(params)
      case 'roster.list': return this.rosterList(params)
      case 'ping': return { now: Date.now() }
      default: throw MeshError.BAD_INPUT('method', `unknown method "${method.slice(0, 64)}"`)
    }
  }

  /** Verifies an owner-signed request and returns its payload. */
  private owner<T> (method: string, params: unknown, schema: z.ZodType<T & { at: number }>): { payload: T & { at: number }, ownerKey: string } {
    const signed = parse(Signed, params, 'params')
    if (!verifyOwnerRequest(method, signed)) {
      this.relay.refuse('bad_signature')
      throw MeshError.NOT_OWNER(method.replace('.', ' ') + ' (the request signature does not verify)')
    }
    let raw: unknown
    try {
      raw = JSON.parse(signed.payload)
    } catch {
      throw MeshError.BAD_INPUT('params.payload', 'must be JSON')
    }
    const payload = parse(schema, raw, 'params.payload')
    if (Math.abs(Date.now() - payload.at) > OWNER_REQUEST_WINDOW_MS) {
      throw MeshError.BAD_INPUT('params.payload.at', 'must be within 24 hours of the relay clock (check this machine\'s clock)')
    }
    return { payload, ownerKey: signed.ownerKey }
  }

  private ownedMesh (meshKey: string, ownerKey: string, action: string) {
    const mesh = this.relay.ledger.mesh(meshKey)
    if (mesh === null) throw MeshError.MESH_UNKNOWN(meshKey.slice(0, 8), [])
    if (mesh.ownerKey !== ownerKey) {
      this.relay.refuse('bad_signature')
      throw MeshError.NOT_OWNER(action)
    }
    return mesh
  }

  private async meshRegister (params: unknown): Promise<unknown> {
    const { payload, ownerKey } = this.owner('mesh.register', params, MeshRegister)
    if (payload.swarmKey !== this.swarmKey) throw MeshError.BAD_INPUT('params.payload.swarmKey', 'must be the key of the connection that registers the mesh')
    const ledger = this.relay.ledger
    const existing = ledger.mesh(payload.meshKey)
    if (existing !== null) {
      if (existing.ownerKey !== ownerKey) throw MeshError.NOT_OWNER('register this mesh again')
      return { meshKey: existing.meshKey, created: false }
    }
    const owners = this.relay.owners
    if (owners !== null && !owners.has(ownerKey)) {
      this.relay.refuse('not_allowed')
      throw MeshError.RELAY_REFUSED(`this relay takes meshes only from the owners its operator listed (--owners); ask them to add your owner key ${ownerKey}`)
    }
    const quota = this.relay.quotas.meshesPerOwner
    const owned = Object.values(ledger.data.meshes).filter((m) => m.ownerKey === ownerKey || m.members[this.swarmKey]?.role === 'owner').length
    if (owned >= quota) {
      this.relay.refuse('quota')
      throw MeshError.QUOTA_EXCEEDED(`this relay holds at most ${quota} meshes per owner, and this owner (or daemon) has ${owned}`)
    }
    const dk = toHex(discoveryKey(fromHex(payload.meshKey)))
    ledger.data.meshes[payload.meshKey] = {
      meshKey: payload.meshKey,
      discoveryKey: dk,
      meshName: payload.meshName,
      ownerKey,
      createdAt: Date.now(),
      members: {
        [payload.swarmKey]: { swarmKey: payload.swarmKey, writerKey: payload.writerKey, signingKey: ownerKey, role: 'owner', joinedAt: payload.at, invite: null }
      },
      removed: {}
    }
    await ledger.save()
    this.relay.watchMesh(dk)
    return { meshKey: payload.meshKey, created: true }
  }

  private async inviteRegister (params: unknown): Promise<unknown> {
    const { payload, ownerKey } = this.owner('invite.register', params, InviteRegister)
    this.ownedMesh(payload.meshKey, ownerKey, 'create invites')
    const ledger = this.relay.ledger
    const existing = ledger.invite(payload.inviteId)
    if (existing !== null) return { id: existing.id, created: false }
    // invites that expired a week ago are only history: they go, and make room
    const now = Date.now()
    for (const i of Object.values(ledger.data.invites)) if (i.meshKey === payload.meshKey && i.expires < now - PRUNE_AFTER_MS) delete ledger.data.invites[i.id]
    const mine = Object.values(ledger.data.invites).filter((i) => i.meshKey === payload.meshKey)
    const live = mine.filter((i) => inviteState(i, now) === 'valid').length
    const { liveInvitesPerMesh, invitesPerMesh } = this.relay.quotas
    if (live >= liveInvitesPerMesh || mine.length >= invitesPerMesh) {
      this.relay.refuse('quota')
      throw MeshError.QUOTA_EXCEEDED(`this relay holds at most ${liveInvitesPerMesh} valid invites per mesh (this one has ${live}) and ${invitesPerMesh} in all (it has ${mine.length}): revoke some (claudemesh invite list, invite revoke) or let them expire`)
    }
    ledger.data.invites[payload.inviteId] = {
      id: payload.inviteId,
      meshKey: payload.meshKey,
      publicKey: payload.invitePublicKey,
      role: payload.role,
      uses: payload.uses,
      expires: payload.expires,
      additionalData: payload.additionalData,
      additionalSignature: payload.additionalSignature,
      createdAt: Date.now(),
      revoked: false,
      redemptions: []
    }
    await ledger.save()
    this.relay.counters.registered++
    return { id: payload.inviteId, created: true }
  }

  private async inviteRevoke (params: unknown): Promise<unknown> {
    const { payload, ownerKey } = this.owner('invite.revoke', params, InviteRevoke)
    this.ownedMesh(payload.meshKey, ownerKey, 'revoke invites')
    const invite = this.relay.ledger.invite(payload.inviteId)
    if (invite === null || invite.meshKey !== payload.meshKey) throw MeshError.BAD_INPUT('id', `no invite with id ${payload.inviteId.slice(0, 12)} in this mesh`)
    if (!invite.revoked) {
      invite.revoked = true
      await this.relay.ledger.save()
    }
    return inviteInfo(invite)
  }

  private inviteList (params: unknown): unknown {
    const { payload, ownerKey } = this.owner('invite.list', params, InviteList)
    this.ownedMesh(payload.meshKey, ownerKey, 'list invites')
    return Object.values(this.relay.ledger.data.invites).filter((i) => i.meshKey === payload.meshKey).map(inviteInfo)
  }

  private async memberRemove (params: unknown): Promise<unknown> {
    const { payload, ownerKey } = this.owner('member.remove', params, MemberRemove)
    const mesh = this.ownedMesh(payload.meshKey, ownerKey, 'remove members')
    const member = mesh.members[payload.swarmKey]
    if (member === undefined) return { removed: false }
    if (member.role === 'owner') throw MeshError.BAD_INPUT('member', 'the owner cannot be removed')
    delete mesh.members[payload.swarmKey]
    mesh.removed[payload.swarmKey] = Date.now()
    await this.relay.ledger.save()
    this.relay.markOffline(payload.meshKey, payload.swarmKey)
    this.relay.broadcastRoster(payload.meshKey)
    return { removed: true }
  }

  private inviteStatus (params: unknown): unknown {
    const { inviteId } = parse(InviteStatus, params, 'params')
    const invite = this.relay.ledger.invite(inviteId)
    if (invite === null) return { state: 'unknown' as InviteState }
    // the daemon that redeemed it may pair again (a join retried after a timeout): same answer as before
    const mine = !invite.revoked && invite.redemptions.some((r) => r.swarmKey === this.swarmKey)
    return { state: mine ? 'valid' : inviteState(invite), meshName: this.relay.ledger.mesh(invite.meshKey)?.meshName ?? null }
  }

  /**
   * The relay's signed word that it paired this daemon with the invite: asked for over this
   * connection, whose Noise key must be the swarm key the pairing named, so nobody gets an
   * admission for a key it does not hold. A revoked invite gives none.
   */
  private admissionGet (params: unknown): Admission {
    const { inviteId } = parse(AdmissionGet, params, 'params')
    const ledger = this.relay.ledger
    const invite = ledger.invite(inviteId)
    if (invite === null) throw MeshError.INVITE_UNKNOWN()
    if (invite.revoked) {
      this.relay.refuse('revoked')
      throw MeshError.INVITE_REVOKED()
    }
    const redemption = invite.redemptions.find((r) => r.swarmKey === this.swarmKey)
    const mesh = ledger.mesh(invite.meshKey)
    if (redemption === undefined || mesh === null) {
      this.relay.refuse('not_member')
      throw MeshError.NOT_A_MEMBER('this daemon did not pair this invite (the pairing named another swarm key)')
    }
    const signingKey = redemption.signingKey ?? mesh.members[this.swarmKey]?.signingKey
    if (signingKey === undefined) throw MeshError.NOT_A_MEMBER('this daemon was removed from the mesh since it paired')
    return signAdmission({ meshKey: invite.meshKey, invitePublicKey: invite.publicKey, writerKey: redemption.writerKey, swarmKey: redemption.swarmKey, signingKey, at: redemption.at }, this.relay.keyPair.secretKey)
  }

  private member (meshKey: string): void {
    if (!this.relay.ledger.isMember(meshKey, this.swarmKey)) {
      this.relay.refuse('not_member')
      throw MeshError.NOT_A_MEMBER('this daemon\'s key is not in the relay\'s member list for that mesh')
    }
  }

  private rosterAnnounce (params: unknown): unknown {
    const { meshKey } = parse(RosterAnnounce, params, 'params')
    this.member(meshKey)
    this.announced.add(meshKey)
    this.relay.markOnline(meshKey, this.swarmKey, this)
    return { members: this.relay.roster(meshKey) }
  }

  private rosterList (params: unknown): unknown {
    const { meshKey } = parse(RosterAnnounce, params, 'params')
    this.member(meshKey)
    return { members: this.relay.roster(meshKey) }
  }
}

export function inviteState (invite: LedgerInvite, now = Date.now()): InviteState {
  if (invite.revoked) return 'revoked'
  if (invite.redemptions.length >= invite.uses) return 'used'
  if (invite.expires <= now) return 'expired'
  return 'valid'
}

function inviteInfo (invite: LedgerInvite): InviteInfo {
  return {
    id: invite.id,
    publicKey: invite.publicKey,
    role: invite.role,
    uses: invite.uses,
    used: invite.redemptions.length,
    expires: invite.expires,
    revoked: invite.revoked,
    state: inviteState(invite),
    createdAt: invite.createdAt
  }
}
