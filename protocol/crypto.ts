// Keys, signatures and domain-separated hashes. Every hash or signature says what it is for.
import hc from 'hypercore-crypto'
import sodium from 'sodium-universal'
import b4a from 'b4a'

export interface KeyPair { publicKey: Buffer, secretKey: Buffer }

const [
  NS_MESH_TOPIC,
  NS_INVITE_CERT,
  NS_INVITE_SECRET,
  NS_OWNER_REQUEST,
  NS_MEMBER_REMOVE,
  NS_LINK_CHECKSUM,
  NS_LINK_SIGNATURE,
  NS_RELAY_TOPIC,
  NS_DRIVE_KEY,
  NS_ADMISSION,
  NS_DRIVE_CLAIM,
  NS_SESSION_CLAIM,
  NS_MESH_UPGRADE,
  NS_INVITE_REVOKE
] = hc.namespace('claudemesh/v1', 14)

export const NAMESPACES = {
  meshTopic: NS_MESH_TOPIC,
  inviteCert: NS_INVITE_CERT,
  inviteSecret: NS_INVITE_SECRET,
  ownerRequest: NS_OWNER_REQUEST,
  memberRemove: NS_MEMBER_REMOVE,
  linkChecksum: NS_LINK_CHECKSUM,
  linkSignature: NS_LINK_SIGNATURE,
  relayTopic: NS_RELAY_TOPIC,
  driveKey: NS_DRIVE_KEY,
  admission: NS_ADMISSION,
  driveClaim: NS_DRIVE_CLAIM,
  sessionClaim: NS_SESSION_CLAIM,
  meshUpgrade: NS_MESH_UPGRADE,
  inviteRevoke: NS_INVITE_REVOKE
} as const

export type Namespace = keyof typeof NAMESPACES

export function keyPair (seed?: Buffer): KeyPair {
  return hc.keyPair(seed)
}

export function randomBytes (n: number): Buffer {
  return hc.randomBytes(n)
}

/** Each part is length-prefixed, so no two different part lists hash alike. */
export function hash (ns: Namespace, parts: Buffer[]): Buffer {
  const framed: Buffer[] = [NAMESPACES[ns]]
  for (const part of parts) {
    const len = b4a.alloc(4)
    len.writeUInt32BE(part.byteLength)
    framed.push(len, part)
  }
  return hc.hash(framed)
}

export function sign (ns: Namespace, parts: Buffer[], secretKey: Buffer): Buffer {
  return hc.sign(hash(ns, parts), secretKey)
}

export function verify (ns: Namespace, parts: Buffer[], signature: Buffer, publicKey: Buffer): boolean {
  if (signature.byteLength !== 64 || publicKey.byteLength !== 32) return false
  try {
    return hc.verify(hash(ns, parts), signature, publicKey)
  } catch {
    return false
  }
}

export function discoveryKey (key: Buffer): Buffer {
  return hc.discoveryKey(key)
}

/** The swarm topic daemons of one mesh meet on; distinct from the autobase discovery key the relay pairs on. */
export function meshTopic (meshKey: Buffer): Buffer {
  return hash('meshTopic', [meshKey])
}

/** The block encryption key of members' file drives: derived from the mesh key, so only members hold it. */
export function driveEncryptionKey (meshEncryptionKey: Buffer): Buffer {
  return hash('driveKey', [meshEncryptionKey])
}

/** The topic a relay announces its control key on, in its own private DHT. */
export function relayTopic (): Buffer {
  return hash('relayTopic', [])
}

function secretKeyFromSeed (seed: Buffer): Buffer {
  return hash('inviteSecret', [seed])
}

/** Seals data so that only holders of the invite seed can open it. The key is single-use per seed. */
export function seal (seed: Buffer, message: Buffer): Buffer {
  const nonce = randomBytes(sodium.crypto_secretbox_NONCEBYTES)
  const out = b4a.alloc(message.byteLength + sodium.crypto_secretbox_MACBYTES)
  sodium.crypto_secretbox_easy(out, message, nonce, secretKeyFromSeed(seed))
  return b4a.concat([nonce, out])
}

export function unseal (seed: Buffer, box: Buffer): Buffer | null {
  const nb = sodium.crypto_secretbox_NONCEBYTES
  if (box.byteLength < nb + sodium.crypto_secretbox_MACBYTES) return null
  const nonce = box.subarray(0, nb)
  const cipher = box.subarray(nb)
  const out = b4a.alloc(cipher.byteLength - sodium.crypto_secretbox_MACBYTES)
  return sodium.crypto_secretbox_open_easy(out, cipher, nonce, secretKeyFromSeed(seed)) ? out : null
}

export function toHex (buf: Uint8Array): string {
  return b4a.toString(buf, 'hex')
}

export function fromHex (hex: string): Buffer {
  return b4a.from(hex, 'hex')
}

export function isHexKey (value: unknown, bytes = 32): value is string {
  return typeof value === 'string' && value.length === bytes * 2 && /^[0-9a-f]+$/.test(value)
}
