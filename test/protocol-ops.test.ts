// Unit tests for protocol/: autobase ops (readOp, verifyJoin, member removal), owner-signed relay
// requests, and the shared validation helpers.
import test from 'brittle'
import type { Assert } from 'brittle'
import b4a from 'b4a'
import { z } from 'zod'
import BlindPairing from 'blind-pairing'
import { catchMeshError } from './helpers/errors.js'
import { createReceipt } from 'blind-pairing-core'
import { MeshError } from '../protocol/errors.js'
import { keyPair, toHex } from '../protocol/crypto.js'
import { LIMITS } from '../protocol/limits.js'
import { signInviteCert, encodeMemberKeys, sealInviteSecret, openInviteSecret, type InviteCert } from '../protocol/invite.js'
import {
  readOp, verifyJoin, signMemberRemove, verifyMemberRemove, signMeshUpgrade, verifyMeshUpgrade,
  signInviteRevoke, verifyInviteRevoke, signDriveClaim, verifyDriveClaim,
  type JoinOp, type JoinContext, type InitOp
} from '../protocol/ops.js'
import { signAdmission, type Admission } from '../protocol/admission.js'
import {
  signOwnerRequest, verifyOwnerRequest, Signed, InviteRegister, Request
} from '../protocol/relay-wire.js'
import { parse, nameSchema, hexKey, hexSignature, timestamp } from '../protocol/schema.js'

// ---------------------------------------------------------------------------------------------
// helpers

function seedOf (n: number): Buffer {
  return b4a.alloc(32, n)
}

interface KP { publicKey: Buffer, secretKey: Buffer }

interface JoinFixture {
  owner: KP
  meshKey: Buffer
  seed: Buffer
  invite: Buffer
  cert: InviteCert
  writer: KP
  swarm: KP
  signing: KP
  op: JoinOp
  ctx: JoinContext
}

/** A real invite (blind-pairing), an owner cert for it, and a join op with a receipt bound to the writer key. */
function joinFixture (opts: { uses?: number, role?: 'member' | 'admin', n?: number } = {}): JoinFixture {
  const n = opts.n ?? 0
  const owner = keyPair(seedOf(1 + n))
  const meshKey = seedOf(2 + n)
  const seed = seedOf(3 + n)
  const expires = 1_900_000_000_000
  const invitePublicKey = keyPair(seed).publicKey
  const cert = signInviteCert(meshKey, { invitePublicKey: toHex(invitePublicKey), role: opts.role ?? 'member', uses: opts.uses ?? 1, expires }, owner.secretKey)
  const data = sealInviteSecret(seed, { v: 1, meshName: 'team-alpha', encryptionKey: toHex(seedOf(50)), ownerKey: toHex(owner.publicKey), cert })
  const created = BlindPairing.createInvite(meshKey, { seed, expires, data })

  const writer = keyPair(seedOf(10 + n))
  const swarm = keyPair(seedOf(11 + n))
  const signing = keyPair(seedOf(12 + n))
  const { receipt } = createReceipt(created.invite, encodeMemberKeys({ writerKey: writer.publicKey, swarmKey: swarm.publicKey, signingKey: signing.publicKey }))

  const op: JoinOp = { type: 'join', v: 1, at: 1_700_000_000_000, label: 'alice-laptop', cert, receipt: toHex(receipt) }
  const ctx: JoinContext = { meshKey, ownerKey: owner.publicKey, from: writer.publicKey, usesSoFar: 0, alreadyMember: false }
  return { owner, meshKey, seed, invite: created.invite, cert, writer, swarm, signing, op, ctx }
}

function refused (t: Assert, verdict: ReturnType<typeof verifyJoin>, reason: RegExp, label: string): void {
  t.absent(verdict.ok, `${label}: refused`)
  if (!verdict.ok) {
    t.ok(reason.test(verdict.reason), `${label}: reason "${verdict.reason}" matches ${String(reason)}`)
  }
}

function badInput (t: Assert, fn: () => unknown, label: string, field: string, rule: RegExp): void {
  const caught = catchMeshError(t, fn, label, 'BAD_INPUT')
  if (caught === null) return
  t.is(caught.code, 'BAD_INPUT', `${label}: BAD_INPUT`)
  t.ok(caught.message.startsWith(`${field}: `), `${label}: names the field (${caught.message})`)
  t.ok(rule.test(caught.message.slice(field.length + 2)), `${label}: names the rule ${String(rule)}`)
}

// ---------------------------------------------------------------------------------------------
// verifyJoin

test('verifyJoin: a valid join is accepted and gives the member record', (t) => {
  const f = joinFixture()
  t.ok(readOp(f.op) !== null, 'a real join op passes readOp (receipt within the size limit)')
  const verdict = verifyJoin(f.op, f.ctx)
  t.ok(verdict.ok, 'accepted')
  if (verdict.ok) {
    t.alike(verdict.member, {
      writerKey: toHex(f.writer.publicKey),
      swarmKey: toHex(f.swarm.publicKey),
      signingKey: toHex(f.signing.publicKey),
      role: 'member',
      label: 'alice-laptop',
      joinedAt: 1_700_000_000_000,
      invite: f.cert.invitePublicKey
    }, 'member record carries the keys bound in the receipt, role from the cert, label and time from the op')
  }

  const admin = joinFixture({ role: 'admin', n: 100 })
  const adminVerdict = verifyJoin(admin.op, admin.ctx)
  t.ok(adminVerdict.ok && adminVerdict.member.role === 'admin', 'role comes from the owner cert')

  // the sealed data in the invite carries the very cert the joiner appends
  const secret = openInviteSecret(f.seed, BlindPairing.createInvite(f.meshKey, { seed: f.seed, data: sealInviteSecret(f.seed, { v: 1, meshName: 'm', encryptionKey: 'k', ownerKey: toHex(f.owner.publicKey), cert: f.cert }) }).additional?.data ?? b4a.alloc(0))
  t.ok(verifyJoin({ ...f.op, cert: secret.cert }, f.ctx).ok, 'a cert read back from the sealed invite data verifies')
})

test('verifyJoin: multi-use invites admit up to `uses` members', (t) => {
  const f = joinFixture({ uses: 3 })
  t.ok(verifyJoin(f.op, { ...f.ctx, usesSoFar: 0 }).ok, 'first use')
  t.ok(verifyJoin(f.op, { ...f.ctx, usesSoFar: 2 }).ok, 'third use')
  refused(t, verifyJoin(f.op, { ...f.ctx, usesSoFar: 3 }), /already used/, 'fourth use')
  refused(t, verifyJoin(f.op, { ...f.ctx, usesSoFar: 50 }), /already used/, 'far past the limit')
})

test('verifyJoin: refusals with a reason', (t) => {
  const f = joinFixture()
  const other = joinFixture({ n: 200 })

  // cert signed by someone who is not the owner
  const mallory = keyPair(seedOf(66))
  const forgedCert = signInviteCert(f.meshKey, { invitePublicKey: f.cert.invitePublicKey, role: 'admin', uses: 1000, expires: 0 }, mallory.secretKey)
  refused(t, verifyJoin({ ...f.op, cert: forgedCert }, f.ctx), /not signed by the owner/, 'cert signed by a non-owner')

  // owner is someone else in this mesh's view
  refused(t, verifyJoin(f.op, { ...f.ctx, ownerKey: mallory.publicKey }), /not signed by the owner/, 'cert checked against another owner key')

  // cert edited after signing
  refused(t, verifyJoin({ ...f.op, cert: { ...f.cert, role: 'admin' } }, f.ctx), /not signed by the owner/, 'role raised after signing')
  refused(t, verifyJoin({ ...f.op, cert: { ...f.cert, uses: 1000 } }, f.ctx), /not signed by the owner/, 'uses raised after signing')

  // a valid cert of this owner, but for another mesh
  refused(t, verifyJoin(f.op, { ...f.ctx, meshKey: seedOf(77) }), /not signed by the owner/, 'cert for another mesh')

  // receipt bound to another writer key: the op is carried by a different writer
  refused(t, verifyJoin(f.op, { ...f.ctx, from: keyPair(seedOf(88)).publicKey }), /another writer/, 'receipt bound to another writer key')

  // receipt made from another invite, cert of this one
  refused(t, verifyJoin({ ...f.op, receipt: other.op.receipt }, { ...f.ctx, from: other.writer.publicKey }), /not signed by the invite/, 'receipt from another invite')

  // receipt with user data that is not three keys
  const { receipt: shortData } = createReceipt(f.invite, f.writer.publicKey)
  refused(t, verifyJoin({ ...f.op, receipt: toHex(shortData) }, f.ctx), /not signed by the invite/, 'receipt carrying only a writer key')

  // receipt bytes damaged
  const bytes = b4a.from(f.op.receipt ?? '', 'hex')
  bytes[bytes.byteLength - 1] ^= 0x01
  refused(t, verifyJoin({ ...f.op, receipt: toHex(bytes) }, f.ctx), /not signed by the invite/, 'receipt with a flipped bit')
  for (const junk of ['00', 'abc', 'ff'.repeat(300)]) {
    refused(t, verifyJoin({ ...f.op, receipt: junk }, f.ctx), /not signed by the invite/, `garbage receipt ${junk.slice(0, 8)}`)
  }

  // uses exhausted
  refused(t, verifyJoin(f.op, { ...f.ctx, usesSoFar: 1 }), /already used/, 'single-use invite used once before')

  // already a member
  refused(t, verifyJoin(f.op, { ...f.ctx, alreadyMember: true }), /already a member/, 'writer already a member')
})

test('verifyJoin: a single-use cert cannot be stretched by moving digits', (t) => {
  // The joiner holds the seed, so can make receipts for as many writer keys as it likes; only the
  // uses count in the owner-signed cert limits how many get in.
  const f = joinFixture({ uses: 1 })
  const expires = f.cert.expires // 1900000000000
  const digits = `${f.cert.uses}${expires}` // '11900000000000'
  const stretched: InviteCert = { ...f.cert, uses: Number(digits.slice(0, 2)), expires: Number(digits.slice(2)) }
  t.is(stretched.uses, 11, 'the stretched cert claims 11 uses')
  refused(t, verifyJoin({ ...f.op, cert: stretched }, { ...f.ctx, usesSoFar: 5 }), /not signed by the owner/, 'uses 11 / expires shifted')
})

// ---------------------------------------------------------------------------------------------
// readOp

test('readOp: accepts well-formed ops', (t) => {
  const f = joinFixture()
  const init: InitOp = { type: 'init', v: 1, at: 0, meshName: 'team-alpha', ownerKey: toHex(f.owner.publicKey), swarmKey: toHex(f.swarm.publicKey), label: 'owner' }
  t.alike(readOp(init), init, 'init')
  t.alike(readOp(f.op), f.op, 'join')
  const remove = signMemberRemove(f.meshKey, toHex(f.writer.publicKey), 5, f.owner.secretKey)
  t.alike(readOp(remove), remove, 'member.remove')
  t.alike(readOp({ ...init, extra: 'ignored' }), init, 'unknown extra fields are dropped')
  t.ok(readOp({ ...f.op, label: 'x'.repeat(LIMITS.displayName) }) !== null, `label of exactly ${LIMITS.displayName} characters`)
  t.ok(readOp({ ...f.op, cert: { ...f.cert, uses: LIMITS.inviteUses } }) !== null, `uses of exactly ${LIMITS.inviteUses}`)
})

test('readOp: rejects malformed ops', (t) => {
  const f = joinFixture()
  const init: InitOp = { type: 'init', v: 1, at: 0, meshName: 'team-alpha', ownerKey: toHex(f.owner.publicKey), swarmKey: toHex(f.swarm.publicKey), label: 'owner' }
  const remove = signMemberRemove(f.meshKey, toHex(f.writer.publicKey), 5, f.owner.secretKey)
  const without = <T extends object>(o: T, k: keyof T): Record<string, unknown> => {
    const copy: Record<string, unknown> = { ...(o as Record<string, unknown>) }
    delete copy[k as string]
    return copy
  }

  const bad: Array<[string, unknown]> = [
    ['null', null],
    ['undefined', undefined],
    ['a string', 'join'],
    ['a number', 7],
    ['an array', [f.op]],
    ['an empty object', {}],
    ['unknown type', { ...f.op, type: 'promote' }],
    ['no type', without(f.op, 'type')],
    ['version 2', { ...f.op, v: 2 }],
    ['no version', without(f.op, 'v')],
    // missing fields
    ['join without cert', without(f.op, 'cert')],
    ['join without receipt', without(f.op, 'receipt')],
    ['join without label', without(f.op, 'label')],
    ['join without at', without(f.op, 'at')],
    ['cert without signature', { ...f.op, cert: without(f.cert, 'signature') }],
    ['init without ownerKey', without(init, 'ownerKey')],
    ['remove without signature', without(remove, 'signature')],
    // wrong types
    ['at as string', { ...f.op, at: '1700000000000' }],
    ['at negative', { ...f.op, at: -1 }],
    ['at fractional', { ...f.op, at: 1.5 }],
    ['label as number', { ...f.op, label: 42 }],
    ['cert as string', { ...f.op, cert: JSON.stringify(f.cert) }],
    ['uses as string', { ...f.op, cert: { ...f.cert, uses: '1' } }],
    ['receipt as bytes', { ...f.op, receipt: [1, 2, 3] }],
    // rules
    ['oversize label', { ...f.op, label: 'x'.repeat(LIMITS.displayName + 1) }],
    ['empty label', { ...f.op, label: '' }],
    ['oversize receipt', { ...f.op, receipt: 'ab'.repeat(513) }],
    ['receipt not hex', { ...f.op, receipt: 'not-hex' }],
    ['uses zero', { ...f.op, cert: { ...f.cert, uses: 0 } }],
    ['uses over the limit', { ...f.op, cert: { ...f.cert, uses: LIMITS.inviteUses + 1 } }],
    ['unknown role', { ...f.op, cert: { ...f.cert, role: 'owner' } }],
    ['uppercase invite key', { ...f.op, cert: { ...f.cert, invitePublicKey: f.cert.invitePublicKey.toUpperCase() } }],
    ['short signature', { ...f.op, cert: { ...f.cert, signature: f.cert.signature.slice(2) } }],
    ['init with bad mesh name', { ...init, meshName: 'team alpha' }],
    ['init with too long mesh name', { ...init, meshName: 'a'.repeat(LIMITS.meshName + 1) }],
    ['init with short swarm key', { ...init, swarmKey: 'ab' }],
    ['remove with non-hex writer key', { ...remove, writerKey: 'z'.repeat(64) }],
    // the limits the local write path has hold for a remote writer too
    ['a label with a newline', { ...f.op, label: 'bob\nowner' }],
    ['a state value of 8 MiB', { type: 'state.set', v: 1, at: 1, key: 'k', value: 'x'.repeat(8 * 1024 * 1024), by: { session: null, sessionId: null, member: 'm' } }],
    ['a state value one byte over 64 KiB as JSON', { type: 'state.set', v: 1, at: 1, key: 'k', value: 'x'.repeat(LIMITS.stateValue - 1), by: { session: null, sessionId: null, member: 'm' } }],
    ['an author whose member label has a newline', { type: 'state.set', v: 1, at: 1, key: 'k', value: 1, by: { session: null, sessionId: null, member: 'm\n- fake' } }],
    ['an author whose session is not a session name', { type: 'memory.forget', v: 1, at: 1, id: 'a'.repeat(32), by: { session: 'a b', sessionId: null, member: 'm' } }],
    ['a memory tag with a newline', { type: 'memory.add', v: 1, at: 1, id: 'a'.repeat(32), content: 'c', tags: ['a\nb'], by: { session: null, sessionId: null, member: 'm' } }],
    ['a v2 join without its admission', { ...without(f.op, 'receipt'), v: 2 }]
  ]
  for (const [what, value] of bad) {
    t.is(readOp(value), null, `${what} is ignored`)
  }
  const largest = { type: 'state.set', v: 1, at: 1, key: 'k', value: 'x'.repeat(LIMITS.stateValue - 2), by: { session: null, sessionId: null, member: 'm' } }
  t.ok(readOp(largest) !== null, 'a state value of exactly 64 KiB as JSON is accepted')
})

// ---------------------------------------------------------------------------------------------
// admissions: the relay's word replaces receipts made with the seed

interface Admitted { f: JoinFixture, relay: KP, op: JoinOp, ctx: JoinContext }

/** A join as a strict mesh takes it: the relay signed which keys paired the invite, and when. */
function admitted (opts: { uses?: number, at?: number, relay?: KP, writer?: Buffer } = {}): Admitted {
  const f = joinFixture({ uses: opts.uses })
  const relay = keyPair(seedOf(90))
  const admission = signAdmission({
    meshKey: toHex(f.meshKey),
    invitePublicKey: f.cert.invitePublicKey,
    writerKey: toHex(opts.writer ?? f.writer.publicKey),
    swarmKey: toHex(f.swarm.publicKey),
    signingKey: toHex(f.signing.publicKey),
    at: opts.at ?? 1_700_000_000_000
  }, (opts.relay ?? relay).secretKey)
  const op: JoinOp = { type: 'join', v: 2, at: 1_700_000_000_001, label: 'bob', cert: f.cert, admission }
  return { f, relay, op, ctx: { ...f.ctx, relayKey: relay.publicKey, revoked: false, swarmKeyInUse: () => false } }
}

test('verifyJoin in a mesh that names its relay: only the relay\'s admissions admit', (t) => {
  const ok = admitted()
  t.ok(readOp(ok.op) !== null, 'a v2 join with an admission is well-formed')
  const verdict = verifyJoin(ok.op, ok.ctx)
  t.ok(verdict.ok, 'admitted')
  if (verdict.ok) t.alike({ writer: verdict.member.writerKey, swarm: verdict.member.swarmKey, role: verdict.member.role }, { writer: toHex(ok.f.writer.publicKey), swarm: toHex(ok.f.swarm.publicKey), role: 'member' }, 'with the keys the relay paired')

  // the attack: a holder of a multi-use link makes receipts offline for keys of its choosing
  refused(t, verifyJoin(ok.f.op, ok.ctx), /only joins the relay signed/, 'a v1 join with a receipt made from the seed')
  refused(t, verifyJoin(admitted({ relay: keyPair(seedOf(91)) }).op, ok.ctx), /not signed by the mesh's relay/, 'an admission signed by another key')
  refused(t, verifyJoin(admitted({ writer: keyPair(seedOf(92)).publicKey }).op, ok.ctx), /another writer/, 'an admission for another writer')
  const other = joinFixture({ n: 300 })
  refused(t, verifyJoin({ ...ok.op, cert: other.cert }, { ...ok.ctx, ownerKey: other.owner.publicKey, meshKey: other.meshKey }), /another mesh|another invite/, 'an admission with another invite\'s cert')
  refused(t, verifyJoin(admitted({ at: ok.f.cert.expires + 1 }).op, ok.ctx), /had expired/, 'paired after the invite expired')
  refused(t, verifyJoin(ok.op, { ...ok.ctx, revoked: true }), /revoked/, 'an invite the owner revoked in the log')
  refused(t, verifyJoin(ok.op, { ...ok.ctx, swarmKeyInUse: (k) => k === toHex(ok.f.swarm.publicKey) }), /swarm key already used/, 'a swarm key a member already has')
  refused(t, verifyJoin(ok.op, { ...ok.ctx, usesSoFar: 1 }), /already used/, 'uses are still counted')
  const tampered = { ...ok.op, admission: { ...(ok.op.admission as Admission), swarmKey: toHex(keyPair(seedOf(93)).publicKey) } }
  refused(t, verifyJoin(tampered, ok.ctx), /not signed by the mesh's relay/, 'an admission whose swarm key was changed')
})

test('owner-signed mesh.upgrade and invite.revoke, and drive claims signed by the drive\'s key', (t) => {
  const owner = keyPair(seedOf(1))
  const meshKey = seedOf(2)
  const relayKey = toHex(keyPair(seedOf(3)).publicKey)
  const upgrade = signMeshUpgrade(meshKey, relayKey, 10, owner.secretKey)
  t.ok(readOp(upgrade) !== null && verifyMeshUpgrade(meshKey, upgrade, owner.publicKey), 'mesh.upgrade verifies with the owner key')
  t.absent(verifyMeshUpgrade(meshKey, { ...upgrade, relayKey: toHex(keyPair(seedOf(4)).publicKey) }, owner.publicKey), 'not with another relay key')
  t.absent(verifyMeshUpgrade(seedOf(5), upgrade, owner.publicKey), 'nor in another mesh')
  const revoke = signInviteRevoke(meshKey, relayKey, 11, owner.secretKey)
  t.ok(readOp(revoke) !== null && verifyInviteRevoke(meshKey, revoke, owner.publicKey), 'invite.revoke verifies with the owner key')
  t.absent(verifyInviteRevoke(meshKey, revoke, keyPair(seedOf(6)).publicKey), 'not with another key')
  t.absent(verifyInviteRevoke(meshKey, { ...revoke, at: 12 }, owner.publicKey), 'nor at another time')

  const drive = keyPair(seedOf(7))
  const writer = toHex(keyPair(seedOf(8)).publicKey)
  const claim = signDriveClaim(meshKey, writer, 13, drive)
  t.ok(readOp(claim) !== null && verifyDriveClaim(meshKey, writer, claim), 'a drive claim verifies for its writer')
  t.absent(verifyDriveClaim(meshKey, toHex(keyPair(seedOf(9)).publicKey), claim), 'copied into another writer\'s log it does not')
  t.absent(verifyDriveClaim(meshKey, writer, { ...claim, signer: toHex(keyPair(seedOf(10)).publicKey) }), 'nor for a drive whose key did not sign it')
})

// ---------------------------------------------------------------------------------------------
// member removal

test('member remove: owner-signed, bound to mesh, writer and time', (t) => {
  const owner = keyPair(seedOf(1))
  const meshKey = seedOf(2)
  const writerKey = toHex(keyPair(seedOf(3)).publicKey)
  const op = signMemberRemove(meshKey, writerKey, 1_700_000_000_000, owner.secretKey)
  t.is(op.type, 'member.remove')
  t.is(op.v, 1)
  t.is(op.writerKey, writerKey)
  t.ok(verifyMemberRemove(meshKey, op, owner.publicKey), 'valid with the owner key')
  t.absent(verifyMemberRemove(meshKey, op, keyPair(seedOf(4)).publicKey), 'fails with another key')

  const byOther = signMemberRemove(meshKey, writerKey, 1_700_000_000_000, keyPair(seedOf(4)).secretKey)
  t.absent(verifyMemberRemove(meshKey, byOther, owner.publicKey), 'signed by a non-owner fails')

  t.absent(verifyMemberRemove(meshKey, { ...op, writerKey: toHex(keyPair(seedOf(5)).publicKey) }, owner.publicKey), 'tampered writer key fails')
  t.absent(verifyMemberRemove(meshKey, { ...op, at: op.at + 1 }, owner.publicKey), 'tampered time fails')
  t.absent(verifyMemberRemove(seedOf(6), op, owner.publicKey), 'replayed into another mesh fails')
  t.absent(verifyMemberRemove(meshKey, { ...op, signature: '0'.repeat(128) }, owner.publicKey), 'zero signature fails')
  t.absent(verifyMemberRemove(meshKey, { ...op, signature: op.signature.slice(0, 100) }, owner.publicKey), 'short signature fails without throwing')
})

// ---------------------------------------------------------------------------------------------
// owner-signed relay requests

test('owner request: sign / verify', (t) => {
  const owner = keyPair(seedOf(1))
  const payload = { meshKey: toHex(seedOf(2)), inviteId: toHex(seedOf(3)), at: 1_700_000_000_000 }
  const signed = signOwnerRequest('invite.revoke', payload, owner)

  t.is(signed.ownerKey, toHex(owner.publicKey), 'carries the owner key')
  t.alike(JSON.parse(signed.payload), payload, 'payload is the JSON text that was signed')
  t.ok(Signed.safeParse(signed).success, 'matches the Signed wire schema')
  t.ok(verifyOwnerRequest('invite.revoke', signed), 'valid')

  t.absent(verifyOwnerRequest('invite.register', signed), 'other method name fails')
  t.absent(verifyOwnerRequest('member.remove', signed), 'another method name fails')
  t.absent(verifyOwnerRequest('invite.revok', signed), 'method with a character dropped fails')

  const tampered = signed.payload.replace('1700000000000', '1700000000001')
  t.ok(tampered !== signed.payload, 'the tamper changed the text')
  t.absent(verifyOwnerRequest('invite.revoke', { ...signed, payload: tampered }), 'tampered payload fails')
  t.absent(verifyOwnerRequest('invite.revoke', { ...signed, payload: signed.payload + ' ' }), 'trailing space fails')
  t.absent(verifyOwnerRequest('invite.revoke', { ...signed, payload: JSON.stringify(payload, null, 2) }), 're-serialised payload fails (signed as sent)')

  const mallory = keyPair(seedOf(9))
  t.absent(verifyOwnerRequest('invite.revoke', { ...signed, ownerKey: toHex(mallory.publicKey) }), 'swapped owner key fails')
  const byMallory = signOwnerRequest('invite.revoke', payload, mallory)
  t.absent(verifyOwnerRequest('invite.revoke', { ...byMallory, ownerKey: signed.ownerKey }), 'signature of another key fails')
  t.absent(verifyOwnerRequest('invite.revoke', { ...signed, signature: signed.signature.slice(0, 64) }), 'short signature fails without throwing')
  t.absent(verifyOwnerRequest('invite.revoke', { ...signed, ownerKey: 'ab' }), 'short owner key fails without throwing')
})

test('relay wire schemas name the field that is wrong', (t) => {
  badInput(t, () => parse(Request, { id: -1, method: 'x', params: {} }, 'request'), 'negative id', 'request.id', /0|negative|>=/i)
  badInput(t, () => parse(Request, { id: 1, method: 'm'.repeat(65), params: {} }, 'request'), 'long method', 'request.method', /64/)
  const reg = {
    meshKey: toHex(seedOf(1)),
    inviteId: toHex(seedOf(2)),
    invitePublicKey: toHex(seedOf(3)),
    role: 'member',
    uses: 1,
    expires: 1,
    additionalData: 'ab',
    additionalSignature: 'ab'.repeat(64),
    at: 1
  }
  t.alike(parse(InviteRegister, reg, 'params'), reg, 'a valid registration parses')
  badInput(t, () => parse(InviteRegister, { ...reg, uses: LIMITS.inviteUses + 1 }, 'params'), 'too many uses', 'params.uses', /1000/)
  badInput(t, () => parse(InviteRegister, { ...reg, inviteId: 'nope' }, 'params'), 'bad invite id', 'params.inviteId', /64-character lowercase hex key/)
  badInput(t, () => parse(InviteRegister, { ...reg, additionalSignature: 'ab' }, 'params'), 'bad signature', 'params.additionalSignature', /128-character hex signature/)
})

// ---------------------------------------------------------------------------------------------
// schema helpers

test('parse: BAD_INPUT names the field path and the rule', async (t) => {
  const schema = z.object({
    mesh: z.object({ name: nameSchema(LIMITS.meshName), key: hexKey }),
    groups: z.array(z.string().max(3)),
    at: timestamp,
    sig: hexSignature.optional()
  })
  const good = { mesh: { name: 'team', key: toHex(seedOf(1)) }, groups: ['a', 'bc'], at: 5 }
  t.alike(parse(schema, good, 'params'), good, 'valid input is returned')

  badInput(t, () => parse(schema, { ...good, mesh: { ...good.mesh, name: '' } }, 'params'), 'empty name', 'params.mesh.name', /^must not be empty$/)
  badInput(t, () => parse(schema, { ...good, mesh: { ...good.mesh, key: 'ABC' } }, 'params'), 'bad key', 'params.mesh.key', /^must be a 64-character lowercase hex key$/)
  badInput(t, () => parse(schema, { ...good, groups: ['a', 'toolong'] }, 'params'), 'array element', 'params.groups.1', /3/)
  badInput(t, () => parse(schema, { ...good, at: 'now' }, 'params'), 'wrong type', 'params.at', /number/)
  badInput(t, () => parse(schema, { ...good, sig: 'x' }, 'params'), 'bad signature', 'params.sig', /^must be a 128-character hex signature$/)
  badInput(t, () => parse(schema, { groups: [], at: 1 }, 'params'), 'missing object', 'params.mesh', /object/)
  badInput(t, () => parse(nameSchema(8), 'a b', '--name'), 'top-level value', '--name', /letters, digits/)
  badInput(t, () => parse(schema, null, 'params'), 'null input', 'params', /object/)

  await t.exception(() => parse(hexKey, 'x', 'meshKey'), { code: 'BAD_INPUT', message: /^meshKey: / }, 't.exception with an object matcher')
  await t.exception(() => parse(timestamp, -1, 'at'), MeshError, 't.exception with a constructor matcher')
})

test('nameSchema: rules for names people type', (t) => {
  const s = nameSchema(LIMITS.meshName)
  for (const ok of ['a', 'Z', '9lives', 'team-alpha', 'team_alpha', 'team.alpha', 'A-b_c.d-9', 'x'.repeat(LIMITS.meshName)]) {
    t.ok(s.safeParse(ok).success, `${JSON.stringify(ok.length > 20 ? `${ok.slice(0, 8)}... (${ok.length})` : ok)} is a valid name`)
  }
  const rules: Array<[string, RegExp]> = [
    ['', /^must not be empty$/],
    ['x'.repeat(LIMITS.meshName + 1), /^must be at most 64 characters$/],
    ['-team', /must start with a letter or digit/],
    ['.hidden', /must start with a letter or digit/],
    ['_x', /must start with a letter or digit/],
    ['team alpha', /may only contain letters, digits/],
    ['team/alpha', /may only contain letters, digits/],
    ['../etc', /may only contain letters, digits/],
    ['tëam', /may only contain letters, digits/],
    ['team\n', /may only contain letters, digits/],
    ['a:b', /may only contain letters, digits/]
  ]
  for (const [value, rule] of rules) {
    badInput(t, () => parse(s, value, 'meshName'), `name ${JSON.stringify(value.length > 20 ? `${value.slice(0, 4)}... (${value.length})` : value)}`, 'meshName', rule)
  }
  badInput(t, () => parse(s, 42, 'meshName'), 'a number', 'meshName', /string/)
  badInput(t, () => parse(nameSchema(3), 'abcd', 'group'), 'custom max', 'group', /^must be at most 3 characters$/)
})
