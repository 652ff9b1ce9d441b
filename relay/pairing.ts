// Verifies blind-pairing requests against the ledger: known, not revoked, uses left, not expired.
// A repeated request from the same candidate gets the same answer; an unknown one gets silence
// (blind-pairing cannot answer a request it cannot open).
import type { MemberRequest } from 'blind-pairing'
import { decodeMemberKeys } from '../protocol/invite.js'
import { toHex, fromHex } from '../protocol/crypto.js'
import type { Relay } from './relay.js'

const STATUS_REJECTED = 1
const STATUS_USED = 2
const STATUS_EXPIRED = 3

export class PairingVerifier {
  private readonly relay: Relay

  constructor (relay: Relay) {
    this.relay = relay
  }

  /** blind-pairing awaits what this returns, then sends the answer the request holds by then */
  async onrequest (request: MemberRequest): Promise<void> {
    await this.verify(request).catch(() => { this.relay.refuse('malformed') })
  }

  private async verify (request: MemberRequest): Promise<void> {
    const ledger = this.relay.ledger
    const invite = ledger.invite(toHex(request.inviteId))
    if (invite === null) {
      this.relay.refuse('unknown')
      return
    }
    let userData: Buffer
    try {
      userData = request.open(fromHex(invite.publicKey))
    } catch {
      this.relay.refuse('bad_signature')
      return
    }
    const keys = decodeMemberKeys(userData)
    if (keys === null) {
      this.relay.refuse('malformed')
      request.deny({ status: STATUS_REJECTED })
      return
    }
    const writerKey = toHex(keys.writerKey)
    const swarmKey = toHex(keys.swarmKey)
    const mesh = ledger.mesh(invite.meshKey)
    const confirm = (): void => {
      request.confirm({ key: fromHex(invite.meshKey), additional: { data: fromHex(invite.additionalData), signature: fromHex(invite.additionalSignature) } })
    }

    if (invite.revoked || mesh === null) {
      this.relay.refuse('revoked')
      return request.deny({ status: STATUS_REJECTED })
    }
    if (invite.redemptions.some((r) => r.writerKey === writerKey && r.swarmKey === swarmKey)) {
      await ledger.idle() // the first copy of this request may still be on its way to disk
      return confirm()
    }
    // a swarm key is one daemon: another member's (or the owner's) is not this candidate's to claim
    const holder = mesh.members[swarmKey]
    if (holder !== undefined && holder.writerKey !== writerKey) {
      this.relay.refuse('taken')
      return request.deny({ status: STATUS_REJECTED })
    }
    if (invite.redemptions.length >= invite.uses) {
      this.relay.refuse('used')
      return request.deny({ status: STATUS_USED })
    }
    if (invite.expires <= Date.now()) {
      this.relay.refuse('expired')
      return request.deny({ status: STATUS_EXPIRED })
    }
    const at = Date.now()
    invite.redemptions.push({ writerKey, swarmKey, at, signingKey: toHex(keys.signingKey) })
    mesh.members[swarmKey] = { swarmKey, writerKey, signingKey: toHex(keys.signingKey), role: invite.role, joinedAt: at, invite: invite.id }
    delete mesh.removed[swarmKey]
    await ledger.save()
    this.relay.counters.redeemed++
    // the roster changes for the others when the new member announces itself, not now: dialling it
    // before its daemon has opened the mesh would only get them refused by its firewall
    confirm()
  }
}
