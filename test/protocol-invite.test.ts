// Unit tests for protocol/: errors, crypto, invite links, invite certificates, sealed invite secrets.
import test from 'brittle'
import type { Assert } from 'brittle'
import c from 'compact-encoding'
import type { Encoding, State } from 'compact-encoding'
import z32 from 'z32'
import b4a from 'b4a'
import BlindPairing from 'blind-pairing'
import { catchMeshError } from './helpers/errors.js'
import { MeshError, isCoded, type ErrorCode } from '../protocol/errors.js'
import {
  keyPair, randomBytes, hash, sign, verify, meshTopic, discoveryKey,
  seal, unseal, toHex, fromHex, isHexKey
} from '../protocol/crypto.js'
import {
  LINK_PREFIX, LINK_VERSION, encodeInviteLink, decodeInviteLink, signInviteLink, parseHostPort,
  signInviteCert, verifyInviteCert, sealInviteSecret, openInviteSecret, encodeMemberKeys, decodeMemberKeys,
  type InviteLink, type InviteCert, type InviteSecret
} from '../protocol/invite.js'

// ---------------------------------------------------------------------------------------------
// helpers

const Z32_ALPHABET = 'ybndrfg8ejkmcpqxot1uwisza345h769'

function seedOf (n: number): Buffer {
  return b4a.alloc(32, n)
}

/** A sentence a person can read: starts with a capital, ends with a full stop, no leaked placeholders. */
function isSentence (s: string): boolean {
  return /^[A-Z]/.test(s) && s.trimEnd().endsWith('.') && s.length >= 30 && !/undefined|\[object|NaN/.test(s)
}

/** Runs fn, expects a MeshError with `code` and a readable sentence (optionally matching `says`). */
function expectMeshError (t: Assert, fn: () => unknown, code: ErrorCode, label: string, says?: RegExp): MeshError | null {
  const caught = catchMeshError(t, fn, label, code)
  if (caught === null) return null
  t.is(caught.code, code, `${label}: ${code}`)
  t.ok(isSentence(caught.message), `${label}: readable sentence (${caught.message})`)
  if (says !== undefined) t.ok(says.test(caught.message), `${label}: message says ${String(says)}`)
  return caught
}

interface LinkFixture {
  owner: { publicKey: Buffer, secretKey: Buffer }
  relay: { publicKey: Buffer, secretKey: Buffer }
  fields: Omit<InviteLink, 'signature'>
  link: InviteLink
  text: string
}

function linkFixture (over: Partial<Omit<InviteLink, 'signature'>> = {}): LinkFixture {
  const owner = keyPair(seedOf(1))
  const relay = keyPair(seedOf(2))
  const meshKey = seedOf(3)
  const { invite } = BlindPairing.createInvite(meshKey, { seed: seedOf(4), expires: 1_900_000_000_000 })
  const fields: Omit<InviteLink, 'signature'> = {
    version: LINK_VERSION,
    relayKey: relay.publicKey,
    relayAddresses: ['127.0.0.1:49737', 'relay.example.com:443'],
    meshName: 'team-alpha',
    ownerKey: owner.publicKey,
    pairing: invite,
    ...over
  }
  const link = signInviteLink(fields, owner.secretKey)
  return { owner, relay, fields, link, text: encodeInviteLink(link) }
}

/** The link body, written field by field the way protocol/invite.ts lays it out (independent copy). */
const rawBody: Encoding<InviteLink> = {
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
  decode (): InviteLink {
    throw new Error('not used')
  }
}

/** Frames any body bytes as a link: body + 4-byte checksum, z32, prefix. */
function frame (encoded: Buffer): string {
  const checksum = hash('linkChecksum', [encoded]).subarray(0, 4)
  return LINK_PREFIX + z32.encode(b4a.concat([encoded, checksum]))
}

function linkFields (link: InviteLink): Record<string, unknown> {
  return {
    version: link.version,
    relayKey: toHex(link.relayKey),
    relayAddresses: link.relayAddresses,
    meshName: link.meshName,
    ownerKey: toHex(link.ownerKey),
    pairing: toHex(link.pairing),
    signature: toHex(link.signature)
  }
}

// ---------------------------------------------------------------------------------------------
// errors

test('MeshError: stable code, readable name, JSON form', (t) => {
  const err = MeshError.INVITE_EXPIRED()
  t.ok(err instanceof Error, 'is an Error')
  t.ok(err instanceof MeshError, 'is a MeshError')
  t.is(err.code, 'INVITE_EXPIRED')
  t.is(err.name, 'MeshError')
  t.ok(isSentence(err.message), 'message is a sentence')
  t.alike(err.toJSON(), { code: 'INVITE_EXPIRED', message: err.message })
  t.alike(JSON.parse(JSON.stringify(err)), { code: 'INVITE_EXPIRED', message: err.message }, 'JSON.stringify uses toJSON')

  const bad = MeshError.BAD_INPUT('params.name', 'must not be empty')
  t.is(bad.code, 'BAD_INPUT')
  t.is(bad.message, 'params.name: must not be empty', 'BAD_INPUT names field and rule')

  t.ok(/version 7\b/.test(MeshError.INVITE_VERSION(7).message), 'INVITE_VERSION says which version')
  t.ok(MeshError.MESH_UNKNOWN('x', ['a', 'b']).message.includes('a, b'), 'MESH_UNKNOWN lists known meshes')
  t.ok(MeshError.MESH_UNKNOWN('x', []).message.includes('claudemesh create'), 'MESH_UNKNOWN with none says how to start')
  t.ok(MeshError.RELAY_UNREACHABLE('10.0.0.1:49737').message.includes('10.0.0.1:49737'), 'RELAY_UNREACHABLE names the address')
})

test('MeshError.from keeps codes and wraps the rest as INTERNAL', (t) => {
  const original = MeshError.NOT_OWNER('kick members')
  t.is(MeshError.from(original), original, 'a MeshError passes through unchanged')

  const coded = MeshError.from({ code: 'TIMEOUT', message: 'Timed out: pairing.' })
  t.ok(coded instanceof MeshError)
  t.is(coded.code, 'TIMEOUT')
  t.is(coded.message, 'Timed out: pairing.')

  const plain = MeshError.from(new Error('boom'))
  t.is(plain.code, 'INTERNAL')
  t.is(plain.message, 'boom')

  const str = MeshError.from('just a string')
  t.is(str.code, 'INTERNAL')
  t.is(str.message, 'just a string')

  t.ok(isCoded({ code: 'X', message: 'y' }))
  t.absent(isCoded({ code: 1, message: 'y' }), 'numeric code is not a coded error')
  t.absent(isCoded(null))
  t.absent(isCoded('INVITE_USED'))
})

// ---------------------------------------------------------------------------------------------
// crypto

test('crypto: keys, hex helpers, deterministic key pairs', (t) => {
  const a = keyPair(seedOf(9))
  const b = keyPair(seedOf(9))
  t.is(a.publicKey.byteLength, 32)
  t.is(a.secretKey.byteLength, 64)
  t.ok(b4a.equals(a.publicKey, b.publicKey), 'same seed, same key pair')
  t.absent(b4a.equals(keyPair().publicKey, keyPair().publicKey), 'no seed, fresh key pair')
  t.is(randomBytes(16).byteLength, 16)

  const hex = toHex(a.publicKey)
  t.ok(isHexKey(hex), '32-byte key as hex is a hex key')
  t.ok(b4a.equals(fromHex(hex), a.publicKey), 'hex round trip')
  t.absent(isHexKey(hex.toUpperCase()), 'uppercase hex is not accepted')
  t.absent(isHexKey(hex.slice(2)), 'short hex is not a key')
  t.absent(isHexKey(hex + '00'), 'long hex is not a key')
  t.absent(isHexKey(42), 'a number is not a key')
  t.ok(isHexKey(toHex(b4a.alloc(64)), 64), 'explicit byte length')
})

test('crypto: hashes and signatures are domain separated', (t) => {
  const kp = keyPair(seedOf(5))
  const parts = [b4a.from('hello'), b4a.from('world')]
  t.is(hash('inviteCert', parts).byteLength, 32)
  t.ok(b4a.equals(hash('inviteCert', parts), hash('inviteCert', parts)), 'hash is deterministic')
  t.absent(b4a.equals(hash('inviteCert', parts), hash('memberRemove', parts)), 'different domains, different hashes')

  const sig = sign('ownerRequest', parts, kp.secretKey)
  t.is(sig.byteLength, 64)
  t.ok(verify('ownerRequest', parts, sig, kp.publicKey), 'verifies in its own domain')
  t.absent(verify('memberRemove', parts, sig, kp.publicKey), 'does not verify in another domain')
  t.absent(verify('ownerRequest', [b4a.from('hello'), b4a.from('there')], sig, kp.publicKey), 'does not verify other data')
  t.absent(verify('ownerRequest', parts, sig, keyPair(seedOf(6)).publicKey), 'does not verify under another key')
  t.absent(verify('ownerRequest', parts, sig.subarray(0, 63), kp.publicKey), 'short signature is false, not a throw')
  t.absent(verify('ownerRequest', parts, sig, kp.publicKey.subarray(0, 31)), 'short key is false, not a throw')
  t.absent(verify('ownerRequest', parts, b4a.alloc(64), b4a.alloc(32)), 'zero key and signature is false')
})

test('crypto: mesh topic is stable and differs from the autobase discovery key', (t) => {
  const meshKey = seedOf(7)
  t.is(meshTopic(meshKey).byteLength, 32)
  t.ok(b4a.equals(meshTopic(meshKey), meshTopic(b4a.from(meshKey))), 'same mesh, same topic')
  t.absent(b4a.equals(meshTopic(meshKey), meshTopic(seedOf(8))), 'other mesh, other topic')
  t.absent(b4a.equals(meshTopic(meshKey), discoveryKey(meshKey)), 'topic is not the discovery key the relay pairs on')
})

test('crypto: seal / unseal', (t) => {
  const seed = seedOf(10)
  const message = b4a.from('the mesh encryption key and the owner cert')
  const box = seal(seed, message)
  const opened = unseal(seed, box)
  t.ok(opened !== null && b4a.equals(opened, message), 'round trip')
  t.absent(b4a.toString(box).includes('encryption key'), 'the box does not carry the plaintext')
  t.absent(b4a.equals(seal(seed, message), box), 'each seal uses a fresh nonce')

  const empty = unseal(seed, seal(seed, b4a.alloc(0)))
  t.ok(empty !== null && empty.byteLength === 0, 'empty message round trip')

  t.is(unseal(seedOf(11), box), null, 'wrong seed cannot open')

  // Flip one bit in the nonce, in the ciphertext and in the MAC: every one must fail.
  for (const [where, at] of [['nonce', 0], ['ciphertext', box.byteLength - 1], ['mac', 24 + 3]] as const) {
    const tampered = b4a.from(box)
    tampered[at] ^= 0x01
    t.is(unseal(seed, tampered), null, `tampered ${where} cannot open`)
  }
  t.is(unseal(seed, box.subarray(0, box.byteLength - 1)), null, 'truncated box cannot open')
  t.is(unseal(seed, box.subarray(0, 30)), null, 'box shorter than nonce + mac is refused')
  t.is(unseal(seed, b4a.alloc(0)), null, 'empty box is refused')
})

// ---------------------------------------------------------------------------------------------
// invite link: round trip

test('invite link: round trip gives back the same fields', (t) => {
  const { link, text, fields } = linkFixture()
  t.ok(text.startsWith('claudemesh://join/'), 'starts with claudemesh://join/')
  t.ok(/^[ybndrfg8ejkmcpqxot1uwisza345h769]+$/.test(text.slice(LINK_PREFIX.length)), 'the rest is z32')

  const decoded = decodeInviteLink(text)
  t.alike(linkFields(decoded), linkFields(link), 'decoded link equals the signed link')
  t.is(decoded.version, 1)
  t.is(decoded.meshName, 'team-alpha')
  t.alike(decoded.relayAddresses, fields.relayAddresses)
  t.ok(b4a.equals(decoded.ownerKey, fields.ownerKey))
  t.ok(b4a.equals(decoded.relayKey, fields.relayKey))
  t.ok(b4a.equals(decoded.pairing, fields.pairing))

  const bare = decodeInviteLink(text.slice(LINK_PREFIX.length))
  t.alike(linkFields(bare), linkFields(link), 'the bare z32 part also decodes')

  const padded = decodeInviteLink(`  \n${text}\n `)
  t.alike(linkFields(padded), linkFields(link), 'surrounding whitespace from a paste is ignored')

  t.is(encodeInviteLink(decoded), text, 'encoding is deterministic')

  // the pairing part is a real blind-pairing invite that still decodes after the trip
  const inv = BlindPairing.decodeInvite(decoded.pairing)
  t.ok(b4a.equals(inv.seed, seedOf(4)), 'pairing part keeps the invite seed')
  t.is(inv.expires, 1_900_000_000_000, 'pairing part keeps the expiry')
})

test('invite link: unusual but valid fields survive the trip', (t) => {
  const cases: Array<Partial<Omit<InviteLink, 'signature'>>> = [
    { relayAddresses: ['[::1]:49737'] },
    { relayAddresses: ['10.0.0.2:1', 'h:65535'] },
    { meshName: 'x' },
    { meshName: 'ünïcødé mesh ✓' },
    { meshName: 'a'.repeat(64) }
  ]
  for (const over of cases) {
    const { link, text } = linkFixture(over)
    t.alike(linkFields(decodeInviteLink(text)), linkFields(link), `round trip with ${JSON.stringify(over)}`)
  }
})

test('invite link: the test encoder matches encodeInviteLink byte for byte', (t) => {
  const { link, text } = linkFixture()
  t.is(frame(c.encode(rawBody, link)), text, 'independent framing gives the same link')
})

// ---------------------------------------------------------------------------------------------
// invite link: bad links

test('invite link: empty input', (t) => {
  expectMeshError(t, () => decodeInviteLink(''), 'INVITE_MALFORMED', 'empty string', /empty/)
  expectMeshError(t, () => decodeInviteLink('   \n\t'), 'INVITE_MALFORMED', 'only whitespace', /empty/)
  expectMeshError(t, () => decodeInviteLink(null as unknown as string), 'INVITE_MALFORMED', 'null', /empty/)
  expectMeshError(t, () => decodeInviteLink(42 as unknown as string), 'INVITE_MALFORMED', 'a number', /empty/)
})

test('invite link: wrong scheme', (t) => {
  const { text } = linkFixture()
  const body = text.slice(LINK_PREFIX.length)
  expectMeshError(t, () => decodeInviteLink('http://example.com/join/' + body), 'INVITE_MALFORMED', 'http link', /claudemesh:\/\/join\//)
  expectMeshError(t, () => decodeInviteLink('https://' + body), 'INVITE_MALFORMED', 'https link', /claudemesh:\/\/join\//)
  expectMeshError(t, () => decodeInviteLink('claudemesh://invite/' + body), 'INVITE_MALFORMED', 'other claudemesh path', /claudemesh:\/\/join\//)
})

test('invite link: characters outside z32', (t) => {
  const { text } = linkFixture()
  const body = text.slice(LINK_PREFIX.length)
  const mid = Math.floor(body.length / 2)
  // 0, l, v and 2 are not in the z32 alphabet; nor are uppercase letters, spaces, or punctuation
  for (const bad of ['0', 'l', 'v', '2', 'A', ' ', '-', '/', '=', 'é']) {
    const broken = LINK_PREFIX + body.slice(0, mid) + bad + body.slice(mid + 1)
    expectMeshError(t, () => decodeInviteLink(broken), 'INVITE_MALFORMED', `character ${JSON.stringify(bad)}`, /characters/)
  }
  expectMeshError(t, () => decodeInviteLink(text.toUpperCase()), 'INVITE_MALFORMED', 'uppercased link')
})

test('invite link: truncated at any point is malformed', (t) => {
  const { text } = linkFixture()
  const body = text.slice(LINK_PREFIX.length)
  const cuts = [0, 1, 2, 5, 8, 9, 10, 20, 57, Math.floor(body.length / 2), body.length - 9, body.length - 8, body.length - 7, body.length - 2, body.length - 1]
  for (const keep of cuts) {
    expectMeshError(t, () => decodeInviteLink(LINK_PREFIX + body.slice(0, keep)), 'INVITE_MALFORMED', `cut to ${keep}/${body.length} chars`, /cut short/)
  }
  // also when the prefix itself is cut
  expectMeshError(t, () => decodeInviteLink('claudemesh://jo'), 'INVITE_MALFORMED', 'cut inside the prefix')
})

test('invite link: a single changed character is caught by the checksum', (t) => {
  const { text } = linkFixture()
  const body = text.slice(LINK_PREFIX.length)
  let checked = 0
  for (let i = 0; i < body.length; i++) {
    // flip the top bit of this character's 5-bit group: always a data bit, even in the last character
    const idx = Z32_ALPHABET.indexOf(body[i])
    const swapped = Z32_ALPHABET[idx ^ 16]
    const broken = LINK_PREFIX + body.slice(0, i) + swapped + body.slice(i + 1)
    let err: unknown = null
    try {
      decodeInviteLink(broken)
    } catch (e) {
      err = e
    }
    if (!(err instanceof MeshError) || err.code !== 'INVITE_MALFORMED' || !/a character was changed/.test(err.message)) {
      t.fail(`changing character ${i} (${body[i]} -> ${swapped}) was not caught: ${String(err)}`)
    } else {
      checked++
    }
  }
  t.is(checked, body.length, `every one of ${body.length} positions caught as INVITE_MALFORMED`)
  // and the message a user sees for one of them
  const broken = LINK_PREFIX + body.slice(0, 10) + Z32_ALPHABET[Z32_ALPHABET.indexOf(body[10]) ^ 16] + body.slice(11)
  expectMeshError(t, () => decodeInviteLink(broken), 'INVITE_MALFORMED', 'one changed character', /copy all of it/)
})

test('invite link: a newer format version is reported as such', (t) => {
  const { link } = linkFixture()
  for (const version of [0, 2, 127, 300]) {
    const text = frame(c.encode(rawBody, { ...link, version }))
    const err = expectMeshError(t, () => decodeInviteLink(text), 'INVITE_VERSION', `version ${version}`, /Update claudemesh/)
    t.ok(err !== null && new RegExp(`version ${version}\\b`).test(err.message), `message names version ${version}`)
  }
})

test('invite link: forged links are refused', (t) => {
  const { fields, link, owner } = linkFixture()
  const mallory = keyPair(seedOf(66))

  // signed by someone who is not the ownerKey written in the link
  const wrongSigner = signInviteLink(fields, mallory.secretKey)
  expectMeshError(t, () => decodeInviteLink(encodeInviteLink(wrongSigner)), 'INVITE_FORGED', 'signed by another key', /not issued by the mesh owner/)

  // a field swapped after signing, checksum recomputed by the encoder
  const swaps: Array<[string, Partial<InviteLink>]> = [
    ['relay key', { relayKey: mallory.publicKey }],
    ['relay address', { relayAddresses: ['203.0.113.9:49737'] }],
    ['extra relay address', { relayAddresses: [...fields.relayAddresses, '203.0.113.9:49737'] }],
    ['mesh name', { meshName: 'team-beta' }],
    ['pairing', { pairing: BlindPairing.createInvite(seedOf(3), { seed: seedOf(99) }).invite }],
    ['owner key', { ownerKey: mallory.publicKey }]
  ]
  for (const [what, over] of swaps) {
    const tampered = encodeInviteLink({ ...link, ...over })
    expectMeshError(t, () => decodeInviteLink(tampered), 'INVITE_FORGED', `${what} swapped after signing`)
  }

  const flipped = b4a.from(link.signature)
  flipped[5] ^= 0x80
  expectMeshError(t, () => decodeInviteLink(encodeInviteLink({ ...link, signature: flipped })), 'INVITE_FORGED', 'signature bit flipped')

  // raw framing (not via encodeInviteLink): relay key swapped, checksum recomputed by hand
  const raw = frame(c.encode(rawBody, { ...link, relayKey: keyPair(seedOf(67)).publicKey }))
  expectMeshError(t, () => decodeInviteLink(raw), 'INVITE_FORGED', 'relay key swapped, checksum recomputed by hand')

  // sanity: the untouched link is fine
  t.ok(b4a.equals(decodeInviteLink(encodeInviteLink(link)).ownerKey, owner.publicKey), 'untampered link still decodes')
})

test('invite link: bad relay address', (t) => {
  const bad = [[], ['nonsense'], ['127.0.0.1'], ['127.0.0.1:'], ['127.0.0.1:0'], ['127.0.0.1:65536'], ['127.0.0.1:123456'], [':49737'], ['host:port'], ['127.0.0.1:49737', 'broken']]
  for (const relayAddresses of bad) {
    const { text } = linkFixture({ relayAddresses })
    expectMeshError(t, () => decodeInviteLink(text), 'INVITE_MALFORMED', `relay addresses ${JSON.stringify(relayAddresses)}`, /relay address/)
  }
})

test('invite link: missing or damaged inner parts', (t) => {
  const { link, fields, owner } = linkFixture()

  const noPairing = signInviteLink({ ...fields, pairing: b4a.alloc(0) }, owner.secretKey)
  expectMeshError(t, () => decodeInviteLink(encodeInviteLink(noPairing)), 'INVITE_MALFORMED', 'empty pairing part', /invite part/)

  const shortSig = frame(c.encode(rawBody, { ...link, signature: link.signature.subarray(0, 63) }))
  expectMeshError(t, () => decodeInviteLink(shortSig), 'INVITE_MALFORMED', '63-byte signature', /invite part/)

  const noSig = frame(c.encode(rawBody, { ...link, signature: b4a.alloc(0) }))
  expectMeshError(t, () => decodeInviteLink(noSig), 'INVITE_MALFORMED', 'no signature', /invite part/)

  // right version and checksum, but the fields stop early
  const encoded = c.encode(rawBody, link)
  for (const keep of [1, 10, 33, 40, encoded.byteLength - 70]) {
    const text = frame(encoded.subarray(0, keep))
    expectMeshError(t, () => decodeInviteLink(text), 'INVITE_MALFORMED', `body cut to ${keep} bytes, checksum recomputed`)
  }
})

test('parseHostPort', (t) => {
  t.alike(parseHostPort('127.0.0.1:49737'), { host: '127.0.0.1', port: 49737 })
  t.alike(parseHostPort('relay.example.com:443'), { host: 'relay.example.com', port: 443 })
  t.alike(parseHostPort('[::1]:8080'), { host: '::1', port: 8080 })
  t.alike(parseHostPort('h:1'), { host: 'h', port: 1 })
  t.alike(parseHostPort('h:65535'), { host: 'h', port: 65535 })
  for (const bad of ['', 'h', 'h:', ':1', 'h:0', 'h:65536', 'h:-1', 'h:1.5', 'h:abc', 'h:123456']) {
    t.is(parseHostPort(bad), null, `${JSON.stringify(bad)} is not host:port`)
  }
})

// ---------------------------------------------------------------------------------------------
// invite certificate

function certFixture (): { meshKey: Buffer, owner: { publicKey: Buffer, secretKey: Buffer }, cert: InviteCert } {
  const owner = keyPair(seedOf(20))
  const meshKey = seedOf(21)
  const invite = keyPair(seedOf(22))
  const cert = signInviteCert(meshKey, { invitePublicKey: toHex(invite.publicKey), role: 'member', uses: 1, expires: 1_776_000_000_000 }, owner.secretKey)
  return { meshKey, owner, cert }
}

test('invite cert: verifies with the owner key only', (t) => {
  const { meshKey, owner, cert } = certFixture()
  t.ok(isHexKey(cert.signature, 64), 'signature is 64 bytes of hex')
  t.ok(verifyInviteCert(meshKey, cert, owner.publicKey), 'verifies with the owner key')
  t.absent(verifyInviteCert(meshKey, cert, keyPair(seedOf(23)).publicKey), 'fails with another key')
  t.absent(verifyInviteCert(seedOf(24), cert, owner.publicKey), 'fails for another mesh')

  const byOther = signInviteCert(meshKey, { ...cert }, keyPair(seedOf(23)).secretKey)
  t.absent(verifyInviteCert(meshKey, byOther, owner.publicKey), 'a cert signed by someone else fails')
})

test('invite cert: any changed field breaks the signature', (t) => {
  const { meshKey, owner, cert } = certFixture()
  const changes: Array<[string, Partial<InviteCert>]> = [
    ['role', { role: 'admin' }],
    ['uses', { uses: 2 }],
    ['uses (1000)', { uses: 1000 }],
    ['expires', { expires: cert.expires + 1 }],
    ['expires (never)', { expires: 0 }],
    ['invite key', { invitePublicKey: toHex(keyPair(seedOf(25)).publicKey) }],
    ['signature', { signature: '0'.repeat(128) }],
    ['signature cut', { signature: cert.signature.slice(0, 126) }],
    ['signature not hex', { signature: 'zz'.repeat(64) }]
  ]
  for (const [what, over] of changes) {
    t.absent(verifyInviteCert(meshKey, { ...cert, ...over }, owner.publicKey), `changed ${what} fails`)
  }
})

test('invite cert: digits cannot move between uses and expires', (t) => {
  // uses=1, expires=1776000000000 must not verify as uses=11, expires=776000000000 (or uses=117, ...):
  // that would turn a single-use invite into one that admits 11 or 117 writers.
  const { meshKey, owner, cert } = certFixture()
  const shifted: Array<Partial<InviteCert>> = [
    { uses: 11, expires: 776_000_000_000 },
    { uses: 117, expires: 76_000_000_000 }
  ]
  for (const over of shifted) {
    t.absent(verifyInviteCert(meshKey, { ...cert, ...over }, owner.publicKey), `uses ${String(over.uses)} / expires ${String(over.expires)} fails`)
  }
  // and the role cannot absorb digits either
  const admin = signInviteCert(meshKey, { ...cert, role: 'admin', uses: 12, expires: 3 }, owner.secretKey)
  t.absent(verifyInviteCert(meshKey, { ...admin, uses: 1, expires: 23 }, owner.publicKey), 'uses 12 / expires 3 is not uses 1 / expires 23')
})

// ---------------------------------------------------------------------------------------------
// sealed invite secret

function secretFixture (): InviteSecret {
  const { cert } = certFixture()
  return { v: 1, meshName: 'team-alpha', encryptionKey: toHex(seedOf(30)), ownerKey: toHex(keyPair(seedOf(20)).publicKey), cert }
}

test('invite secret: seal and open', (t) => {
  const seed = seedOf(31)
  const secret = secretFixture()
  const box = sealInviteSecret(seed, secret)
  t.alike(openInviteSecret(seed, box), secret, 'round trip')
  t.absent(b4a.toString(box).includes(secret.encryptionKey), 'the encryption key is not readable in the box')

  // carried as blind-pairing additional data, as the owner does it
  const created = BlindPairing.createInvite(seedOf(21), { seed, expires: 1_900_000_000_000, data: box })
  t.ok(created.additional !== null, 'invite carries the sealed data')
  t.alike(openInviteSecret(created.seed, created.additional?.data ?? b4a.alloc(0)), secret, 'opens from the invite with its seed')
})

test('invite secret: wrong seed or tampered box', async (t) => {
  const seed = seedOf(31)
  const box = sealInviteSecret(seed, secretFixture())
  expectMeshError(t, () => openInviteSecret(seedOf(32), box), 'INVITE_FORGED', 'wrong seed')

  for (const at of [0, 30, box.byteLength - 1]) {
    const tampered = b4a.from(box)
    tampered[at] ^= 0x04
    expectMeshError(t, () => openInviteSecret(seed, tampered), 'INVITE_FORGED', `byte ${at} flipped`)
  }
  expectMeshError(t, () => openInviteSecret(seed, box.subarray(0, 20)), 'INVITE_FORGED', 'box cut short')
  await t.exception(() => openInviteSecret(seed, b4a.alloc(0)), { code: 'INVITE_FORGED' }, 'empty box is refused')
})

test('invite secret: right seed but unreadable content', async (t) => {
  const seed = seedOf(33)
  const contents: Array<[string, string]> = [
    ['not JSON', 'hello'],
    ['JSON null', 'null'],
    ['a number', '42'],
    ['version 2', JSON.stringify({ ...secretFixture(), v: 2 })],
    ['no encryption key', JSON.stringify({ ...secretFixture(), encryptionKey: undefined })],
    ['no cert', JSON.stringify({ ...secretFixture(), cert: 'x' })]
  ]
  for (const [what, text] of contents) {
    expectMeshError(t, () => openInviteSecret(seed, seal(seed, b4a.from(text))), 'INVITE_MALFORMED', what, /sealed invite data/)
  }
  await t.exception(() => openInviteSecret(seed, seal(seed, b4a.from('[]'))), { code: 'INVITE_MALFORMED', message: /damaged/ }, 'an array is refused')
})

// ---------------------------------------------------------------------------------------------
// member keys

test('member keys: encode / decode', (t) => {
  const keys = { writerKey: seedOf(40), swarmKey: seedOf(41), signingKey: seedOf(42) }
  const buf = encodeMemberKeys(keys)
  t.is(buf.byteLength, 96)
  const back = decodeMemberKeys(buf)
  t.ok(back !== null, 'decodes')
  if (back !== null) {
    t.ok(b4a.equals(back.writerKey, keys.writerKey), 'writer key')
    t.ok(b4a.equals(back.swarmKey, keys.swarmKey), 'swarm key')
    t.ok(b4a.equals(back.signingKey, keys.signingKey), 'signing key')
  }
  t.is(decodeMemberKeys(null), null, 'null is refused')
  t.is(decodeMemberKeys(buf.subarray(0, 95)), null, '95 bytes is refused')
  t.is(decodeMemberKeys(b4a.concat([buf, b4a.alloc(1)])), null, '97 bytes is refused')
  t.is(decodeMemberKeys(b4a.alloc(0)), null, 'empty is refused')
})
