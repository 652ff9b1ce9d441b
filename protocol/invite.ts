// The invite link `claudemesh://join/<z32>` and the owner certificate an invite carries.
import c from 'compact-encoding'
import type { State } from 'compact-encoding'
import z32 from 'z32'
import b4a from 'b4a'
import { MeshError } from './errors.js'
import { hash, sign, verify, seal, unseal } from './crypto.js'

export const LINK_PREFIX = 'claudemesh://join/'
export const LINK_VERSION = 1
const CHECKSUM_BYTES = 4

export interface InviteLink {
  version: number
  relayKey: Buffer
  relayAddresses: string[]
  meshName: string
  ownerKey: Buffer
  /** blind-pairing invite bytes: seed, discovery key, expiry */
  pairing: Buffer
  signature: Buffer
}

const body = {
  preencode (state: State, m: InviteLink) {
    c.uint.preencode(state, m.version)
    c.fixed32.preencode(state, m.relayKey)
    c.array(c.string).preencode(state, m.relayAddresses)
    c.string.preencode(state, m.meshName)
    c.fixed32.preencode(state, m.ownerKey)
    c.buffer.preencode(state, m.pairing)
    c.buffer.preencode(state, m.signature)
  },
  encode (state: State, m: InviteLink) {
    c.uint.encode(state, m.version)
    c.fixed32.encode(state, m.relayKey)
    c.array(c.string).encode(state, m.relayAddresses)
    c.string.encode(state, m.meshName)
    c.fixed32.encode(state, m.ownerKey)
    c.buffer.encode(state, m.pairing)
    c.buffer.encode(state, m.signature)
  },
  decode (state: State): InviteLink {
    return {
      version: c.uint.decode(state),
      relayKey: c.fixed32.decode(state),
      relayAddresses: c.array(c.string).decode(state),
      meshName: c.string.decode(state),
      ownerKey: c.fixed32.decode(state),
      pairing: c.buffer.decode(state) ?? b4a.alloc(0),
      signature: c.buffer.decode(state) ?? b4a.alloc(0)
    }
  }
}

function linkSignedParts (link: Omit<InviteLink, 'signature'>): Buffer[] {
  return [
    b4a.from(String(link.version)),
    link.relayKey,
    b4a.from(JSON.stringify(link.relayAddresses)),
    b4a.from(link.meshName),
    link.ownerKey,
    link.pairing
  ]
}

export function signInviteLink (link: Omit<InviteLink, 'signature'>, ownerSecretKey: Buffer): InviteLink {
  return { ...link, signature: sign('linkSignature', linkSignedParts(link), ownerSecretKey) }
}

export function encodeInviteLink (link: InviteLink): string {
  const encoded = c.encode(body, link)
  const checksum = hash('linkChecksum', [encoded]).subarray(0, CHECKSUM_BYTES)
  return LINK_PREFIX + z32.encode(b4a.concat([encoded, checksum]))
}

/** Decodes and checks a link. Throws a MeshError whose sentence a user understands. */
export function decodeInviteLink (text: string): InviteLink {
  if (typeof text !== 'string' || text.trim() === '') throw MeshError.INVITE_MALFORMED('it is empty')
  let payload = text.trim()
  if (payload.startsWith(LINK_PREFIX)) payload = payload.slice(LINK_PREFIX.length)
  else if (payload.includes('://')) throw MeshError.INVITE_MALFORMED('it does not start with claudemesh://join/')
  if (payload === '') throw MeshError.INVITE_MALFORMED('it is cut short')
  if (!/^[ybndrfg8ejkmcpqxot1uwisza345h769]+$/.test(payload)) throw MeshError.INVITE_MALFORMED('it contains characters that are not part of a claudemesh link')

  let raw: Buffer
  try {
    raw = z32.decode(payload)
  } catch {
    throw MeshError.INVITE_MALFORMED('it cannot be decoded')
  }
  if (raw.byteLength <= CHECKSUM_BYTES + 1) throw MeshError.INVITE_MALFORMED('it is cut short')
  // the last character carries padding bits: a link must be exactly the encoding of its bytes
  if (z32.encode(raw) !== payload) throw MeshError.INVITE_MALFORMED('it is cut short or a character was changed')
  const encoded = raw.subarray(0, raw.byteLength - CHECKSUM_BYTES)
  const checksum = raw.subarray(raw.byteLength - CHECKSUM_BYTES)
  if (!b4a.equals(hash('linkChecksum', [encoded]).subarray(0, CHECKSUM_BYTES), checksum)) {
    throw MeshError.INVITE_MALFORMED('it is cut short or a character was changed')
  }
  let version: number
  try {
    version = c.decode(c.uint, encoded)
  } catch {
    throw MeshError.INVITE_MALFORMED('its fields cannot be read')
  }
  if (version !== LINK_VERSION) throw MeshError.INVITE_VERSION(version)

  let link: InviteLink
  try {
    link = c.decode(body, encoded)
  } catch {
    throw MeshError.INVITE_MALFORMED('its fields cannot be read')
  }
  if (link.relayAddresses.length === 0 || link.relayAddresses.some((a) => parseHostPort(a) === null)) {
    throw MeshError.INVITE_MALFORMED('its relay address is not host:port')
  }
  if (link.pairing.byteLength === 0 || link.signature.byteLength !== 64) throw MeshError.INVITE_MALFORMED('its invite part is missing')
  if (!verify('linkSignature', linkSignedParts(link), link.signature, link.ownerKey)) throw MeshError.INVITE_FORGED()
  return link
}

export function parseHostPort (value: string): { host: string, port: number } | null {
  const m = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(value)
  if (m === null) return null
  const port = Number(m[2])
  if (!Number.isInteger(port) || port < 1 || port > 65535) return null
  return { host: m[1], port }
}

/** What the owner certifies about one invite; signed with the owner's signing key. */
export interface InviteCert {
  invitePublicKey: string
  role: 'member' | 'admin'
  uses: number
  expires: number
  signature: string
}

function certParts (meshKey: Buffer, cert: Omit<InviteCert, 'signature'>): Buffer[] {
  // The hash concatenates its parts, so variable-length fields go in one self-delimiting JSON array:
  // separate "1" + "1900000000000" parts would also verify as uses 11 with a shifted expiry.
  return [meshKey, b4a.from(cert.invitePublicKey, 'hex'), b4a.from(JSON.stringify([cert.role, cert.uses, cert.expires]))]
}

export function signInviteCert (meshKey: Buffer, cert: Omit<InviteCert, 'signature'>, ownerSecretKey: Buffer): InviteCert {
  return { ...cert, signature: b4a.toString(sign('inviteCert', certParts(meshKey, cert), ownerSecretKey), 'hex') }
}

export function verifyInviteCert (meshKey: Buffer, cert: InviteCert, ownerKey: Buffer): boolean {
  return verify('inviteCert', certParts(meshKey, cert), b4a.from(cert.signature, 'hex'), ownerKey)
}

/** Sealed inside the invite's pairing data: readable only with the seed from the link. */
export interface InviteSecret {
  v: 1
  meshName: string
  encryptionKey: string
  ownerKey: string
  cert: InviteCert
}

export function sealInviteSecret (seed: Buffer, secret: InviteSecret): Buffer {
  return seal(seed, b4a.from(JSON.stringify(secret)))
}

export function openInviteSecret (seed: Buffer, box: Buffer): InviteSecret {
  const plain = unseal(seed, box)
  if (plain === null) throw MeshError.INVITE_FORGED()
  try {
    const secret = JSON.parse(b4a.toString(plain, 'utf-8')) as InviteSecret
    if (secret.v !== 1 || typeof secret.encryptionKey !== 'string' || typeof secret.ownerKey !== 'string' || typeof secret.cert !== 'object') throw new Error('shape')
    return secret
  } catch {
    throw MeshError.INVITE_MALFORMED('the sealed invite data cannot be read')
  }
}

/** What a joining member binds into the pairing receipt: its writer, swarm and signing keys. */
export interface MemberKeys { writerKey: Buffer, swarmKey: Buffer, signingKey: Buffer }

export function encodeMemberKeys (keys: MemberKeys): Buffer {
  return b4a.concat([keys.writerKey, keys.swarmKey, keys.signingKey])
}

export function decodeMemberKeys (buf: Buffer | null): MemberKeys | null {
  if (buf === null || buf.byteLength !== 96) return null
  return { writerKey: buf.subarray(0, 32), swarmKey: buf.subarray(32, 64), signingKey: buf.subarray(64, 96) }
}
