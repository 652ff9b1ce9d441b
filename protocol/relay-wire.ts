// The control protocol between a daemon and the relay: JSON frames on one protomux channel.
import { z } from 'zod'
import b4a from 'b4a'
import { hexKey, hexSignature, timestamp } from './schema.js'
import { sign, verify, toHex } from './crypto.js'
import { LIMITS } from './limits.js'

export const RELAY_PROTOCOL = 'claudemesh/relay/v1'
/** Owner requests older or newer than this are refused (replay window; also the tolerated clock skew). */
export const OWNER_REQUEST_WINDOW_MS = 24 * 3600 * 1000

export const Request = z.object({
  id: z.number().int().nonnegative(),
  method: z.string().max(64),
  params: z.unknown()
})
export type Request = z.infer<typeof Request>

export const Response = z.object({
  id: z.number().int().nonnegative(),
  ok: z.boolean(),
  result: z.unknown().optional(),
  error: z.object({ code: z.string(), message: z.string() }).optional()
})
export type Response = z.infer<typeof Response>

export const Push = z.object({ event: z.string(), data: z.unknown() })
export type Push = z.infer<typeof Push>

/** Owner-signed envelope: the payload is signed as sent, so no re-serialisation can break it. */
export const Signed = z.object({ ownerKey: hexKey, payload: z.string().max(LIMITS.relayFrame), signature: hexSignature })
export type Signed = z.infer<typeof Signed>

export function signOwnerRequest (method: string, payload: object, ownerKeyPair: { publicKey: Buffer, secretKey: Buffer }): Signed {
  const text = JSON.stringify(payload)
  return {
    ownerKey: toHex(ownerKeyPair.publicKey),
    payload: text,
    signature: toHex(sign('ownerRequest', [b4a.from(method), b4a.from(text)], ownerKeyPair.secretKey))
  }
}

export function verifyOwnerRequest (method: string, signed: Signed): boolean {
  return verify('ownerRequest', [b4a.from(method), b4a.from(signed.payload)], b4a.from(signed.signature, 'hex'), b4a.from(signed.ownerKey, 'hex'))
}

export const MeshRegister = z.object({ meshKey: hexKey, meshName: z.string().max(LIMITS.meshName), swarmKey: hexKey, writerKey: hexKey, at: timestamp })
export const InviteRegister = z.object({
  meshKey: hexKey,
  inviteId: hexKey,
  invitePublicKey: hexKey,
  role: z.enum(['member', 'admin']),
  uses: z.number().int().min(1).max(LIMITS.inviteUses),
  expires: timestamp,
  additionalData: z.string().regex(/^[0-9a-f]*$/).max(8192),
  additionalSignature: hexSignature,
  at: timestamp
})
export const InviteRevoke = z.object({ meshKey: hexKey, inviteId: hexKey, at: timestamp })
export const InviteList = z.object({ meshKey: hexKey, at: timestamp })
export const MemberRemove = z.object({ meshKey: hexKey, swarmKey: hexKey, at: timestamp })
export const InviteStatus = z.object({ inviteId: hexKey })
export const AdmissionGet = z.object({ inviteId: hexKey })
export const RosterAnnounce = z.object({ meshKey: hexKey })

export type InviteState = 'valid' | 'expired' | 'used' | 'revoked' | 'unknown'

export interface InviteInfo {
  id: string
  /** the invite's public key: what the owner's certificate and the mesh's log name it by */
  publicKey: string
  role: string
  uses: number
  used: number
  expires: number
  revoked: boolean
  state: InviteState
  createdAt: number
}

export interface RosterEntry { swarmKey: string, writerKey: string | null, online: boolean }

export interface RosterUpdate { meshKey: string, members: RosterEntry[] }
