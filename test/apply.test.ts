// apply() admits a writer only through a verified `join`, and holds every op to the rules of the
// mesh's view: forged joins, self-made receipts, revoked invites and files pointing at someone
// else's drive are ignored on every peer. Real autobases on real corestores in temp folders,
// replicating over in-memory streams.
import test from 'brittle'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import Corestore from 'corestore'
import BlindPairing from 'blind-pairing'
import { createReceipt } from 'blind-pairing-core'
import { Mesh, type MeshConfig } from '../peer/mesh/mesh.js'
import { KEYS } from '../peer/mesh/view.js'
import { driveKeysFor } from '../peer/mesh/drive-keys.js'
import { keyPair, randomBytes, toHex, type KeyPair } from '../protocol/crypto.js'
import { signInviteCert, encodeMemberKeys } from '../protocol/invite.js'
import { signAdmission } from '../protocol/admission.js'
import type { JoinOp, FileAddOp } from '../protocol/ops.js'

interface T { teardown (fn: () => unknown, opts?: { order?: number }): void }

interface Peer { mesh: Mesh, store: Corestore, signing: KeyPair, swarm: KeyPair }

/** the relay every mesh here names; its key signs admissions */
const RELAY = keyPair()

async function peer (t: T, label: string, config: Partial<MeshConfig> & { encryptionKey: string }): Promise<Peer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `cm-apply-${label}-`))
  const store = new Corestore(dir)
  const signing = keyPair()
  const swarm = keyPair()
  const mesh = new Mesh(store, {
    name: 'team', namespace: 'mesh', key: null, relay: { publicKey: toHex(RELAY.publicKey), addresses: ['127.0.0.1:1'], embedded: false }, owner: false, createdAt: 0, ...config
  }, { signing, swarmKey: swarm.publicKey, label })
  t.teardown(async () => { await mesh.close(); await store.close(); fs.rmSync(dir, { recursive: true, force: true }) }, { order: 20 })
  await mesh.ready()
  return { mesh, store, signing, swarm }
}

function link (t: T, a: Peer, b: Peer): void {
  const s1 = a.mesh.base.replicate(true) as NodeJS.ReadWriteStream & { destroy (): void, on (e: string, f: () => void): void }
  const s2 = b.mesh.base.replicate(false) as NodeJS.ReadWriteStream & { destroy (): void, on (e: string, f: () => void): void }
  s1.on('error', () => {})
  s2.on('error', () => {})
  s1.pipe(s2).pipe(s1)
  t.teardown(() => { s1.destroy(); s2.destroy() }, { order: 10 })
}

interface Invite { invite: Buffer, cert: JoinOp['cert'] }

function mint (owner: Peer, opts: { uses?: number, signer?: KeyPair, expires?: number } = {}): Invite {
  const seed = randomBytes(32)
  const expires = opts.expires ?? Date.now() + 60_000
  const created = BlindPairing.createInvite(owner.mesh.key, { seed, expires, data: randomBytes(16) })
  const cert = signInviteCert(owner.mesh.key, { invitePublicKey: toHex(keyPair(seed).publicKey), role: 'member', uses: opts.uses ?? 1, expires }, (opts.signer ?? owner.signing).secretKey)
  return { invite: created.invite, cert }
}

/** A v2 join: the relay's admission of the keys it paired (opts change what it says, or who signs it). */
function joinOp (p: Peer, invite: Invite, opts: { writerKey?: Buffer, swarmKey?: Buffer, at?: number, relay?: KeyPair } = {}): JoinOp {
  const admission = signAdmission({
    meshKey: p.mesh.keyHex,
    invitePublicKey: invite.cert.invitePublicKey,
    writerKey: toHex(opts.writerKey ?? p.mesh.base.local.key),
    swarmKey: toHex(opts.swarmKey ?? p.swarm.publicKey),
    signingKey: toHex(p.signing.publicKey),
    at: opts.at ?? Date.now()
  }, (opts.relay ?? RELAY).secretKey)
  return { type: 'join', v: 2, at: Date.now(), label: 'x', cert: invite.cert, admission }
}

/** The old way: a receipt anyone holding the invite seed can make, offline, for any keys. */
function receiptJoin (p: Peer, invite: Invite): JoinOp {
  const userData = encodeMemberKeys({ writerKey: p.mesh.base.local.key, swarmKey: p.swarm.publicKey, signingKey: p.signing.publicKey })
  return { type: 'join', v: 1, at: Date.now(), label: 'x', cert: invite.cert, receipt: toHex(createReceipt(invite.invite, userData).receipt) }
}

/** Resolves once `at` holds every block of `from`'s writer core, so its ops have reached apply() there. */
async function delivered (at: Peer, from: Peer): Promise<void> {
  const core = at.store.get({ key: from.mesh.base.local.key }) as unknown as { ready (): Promise<void>, length: number, on (e: string, f: () => void): void, off (e: string, f: () => void): void, close (): Promise<void> }
  await core.ready()
  const target = from.mesh.base.local.length
  if (core.length < target) {
    await new Promise<void>((resolve) => {
      const check = (): void => { if (core.length >= target) { core.off('append', check); resolve() } }
      core.on('append', check)
      check()
    })
  }
  await core.close()
  await at.mesh.base.update()
}

/** Resolves once `p`'s view holds `key`, re-checked after every update of its base. */
async function viewHas (p: Peer, key: string): Promise<void> {
  const base = p.mesh.base as unknown as { view: { get (k: string): Promise<unknown> }, on (e: string, f: () => void): void, off (e: string, f: () => void): void }
  if ((await base.view.get(key)) !== null) return
  await new Promise<void>((resolve) => {
    const check = (): void => { base.view.get(key).then((v) => { if (v !== null) { base.off('update', check); resolve() } }, () => {}) }
    base.on('update', check)
    check()
  })
}

/** Appends `ops` as an attacker that is not a writer: after init, so every peer can verify them. */
async function attack (attacker: Peer, ...ops: object[]): Promise<void> {
  await attacker.mesh.until(() => attacker.mesh.owner !== null)
  for (const op of ops) await attacker.mesh.base.append(op, { optimistic: true })
}

test('forged joins (bad cert, self-made receipts, stolen or stretched admissions, revoked invites) are ignored by apply() on every peer', { timeout: 90_000 }, async (t) => {
  const encryptionKey = toHex(randomBytes(32))
  const owner = await peer(t, 'owner', { encryptionKey, owner: true })
  await owner.mesh.init()
  t.ok(owner.mesh.strict, 'a new mesh names its relay in its genesis op: its rules are strict')
  const key = owner.mesh.keyHex

  // the first member joins with a three-use invite, the second with a single-use one
  const member = await peer(t, 'member', { encryptionKey, key })
  link(t, owner, member)
  const multi = mint(owner, { uses: 3 })
  await member.mesh.join(joinOp(member, multi), AbortSignal.timeout(20_000))
  t.is(member.mesh.writable, true, 'a join the relay admitted makes the member a writer')
  const second = await peer(t, 'second', { encryptionKey, key })
  link(t, owner, second)
  const singleUse = mint(owner)
  await second.mesh.join(joinOp(second, singleUse), AbortSignal.timeout(20_000))
  await owner.mesh.until(() => owner.mesh.members.length === 3)
  await member.mesh.until(() => member.mesh.members.length === 3)

  // an invite the owner revokes in the log admits nobody afterwards, whatever the relay says
  const revoked = mint(owner, { uses: 5 })
  await owner.mesh.revokeInvite(revoked.cert.invitePublicKey)
  const expired = mint(owner, { uses: 5, expires: Date.now() + 1000 })

  // attackers who leaked the mesh key and encryption key (and hold an invite seed where it says so)
  const names = ['badcert', 'receipt', 'stolen', 'replay', 'foreign', 'swarm', 'revoked', 'late'] as const
  const a = Object.fromEntries(await Promise.all(names.map(async (n) => [n, await peer(t, n, { encryptionKey, key })]))) as Record<typeof names[number], Peer>
  const attacks: Array<[Peer, JoinOp, string]> = [
    [a.badcert, joinOp(a.badcert, mint(owner, { signer: keyPair() })), 'certificate signed by a non-owner key'],
    [a.receipt, receiptJoin(a.receipt, multi), 'a receipt made offline with a multi-use link that has a use left (no relay admission)'],
    [a.stolen, joinOp(member, multi), 'the member\'s admission, bound to its writer key (the invite has a use left)'],
    [a.replay, joinOp(a.replay, singleUse), 'an admission for a single-use invite already used'],
    [a.foreign, joinOp(a.foreign, multi, { relay: keyPair() }), 'an admission signed by a key that is not the mesh\'s relay'],
    [a.swarm, joinOp(a.swarm, multi, { swarmKey: owner.swarm.publicKey }), 'an admission for the owner\'s swarm key'],
    [a.revoked, joinOp(a.revoked, revoked), 'an invite revoked in the log'],
    [a.late, joinOp(a.late, expired, { at: expired.cert.expires + 1 }), 'an admission made after the invite expired']
  ]
  for (const [attacker, op] of attacks) {
    link(t, owner, attacker)
    link(t, member, attacker)
    await attack(attacker, op, { type: 'init', v: 1, at: 1, meshName: 'pwned', ownerKey: toHex(attacker.signing.publicKey), swarmKey: toHex(attacker.swarm.publicKey), label: 'x' })
  }
  for (const [attacker] of attacks) {
    await delivered(owner, attacker)
    await delivered(member, attacker)
  }

  // the honest control: a valid join that travels the same path is admitted everywhere
  const newcomer = await peer(t, 'newcomer', { encryptionKey, key })
  link(t, owner, newcomer)
  await newcomer.mesh.join(joinOp(newcomer, mint(owner)), AbortSignal.timeout(20_000))
  await owner.mesh.until(() => owner.mesh.members.length === 4)
  await member.mesh.until(() => member.mesh.members.length === 4)

  const expected = [owner, member, second, newcomer].map((p) => toHex(p.swarm.publicKey)).sort()
  for (const [name, p] of [['owner', owner], ['member', member]] as const) {
    t.alike(p.mesh.members.map((m) => m.swarmKey).sort(), expected, `${name}'s view lists only the verified members`)
    t.is(p.mesh.owner?.meshName, 'team', `${name}'s view keeps the real owner record`)
  }
  for (const [attacker, , what] of attacks) {
    t.is(attacker.mesh.writable, false, `${what}: the attacker never became a writer`)
  }
})

test('a file.add must point at the writer\'s own claimed drive; one naming another member\'s blobs is ignored', { timeout: 60_000 }, async (t) => {
  const encryptionKey = toHex(randomBytes(32))
  const owner = await peer(t, 'owner', { encryptionKey, owner: true })
  await owner.mesh.init()
  const member = await peer(t, 'member', { encryptionKey, key: owner.mesh.keyHex })
  link(t, owner, member)
  await member.mesh.join(joinOp(member, mint(owner)), AbortSignal.timeout(20_000))
  await owner.mesh.until(() => owner.mesh.members.length === 2 && owner.mesh.members.every((m) => m.drive !== undefined))

  const ownRecord = owner.mesh.members.find((m) => m.role === 'owner')
  const keys = driveKeysFor(toHex(owner.mesh.files.drives.signer.publicKey))
  t.alike({ drive: ownRecord?.drive, blobs: ownRecord?.blobs }, { drive: owner.mesh.files.drives.driveKey, blobs: owner.mesh.files.drives.blobsKey }, 'each member\'s drive claim names its real drive and blobs cores')
  t.alike(keys, { drive: owner.mesh.files.drives.driveKey, blobs: owner.mesh.files.drives.blobsKey }, 'and apply() derives both keys from the signer alone')

  const file = (over: Partial<FileAddOp>): FileAddOp => ({
    type: 'file.add', v: 1, at: 1, id: toHex(randomBytes(16)), name: 'a.txt', size: 1, mime: 'text/plain', tags: [], by: { session: null, sessionId: null, member: 'm' },
    kind: 'persistent', audience: null, expiresAt: null, drive: member.mesh.files.drives.driveKey, blobs: member.mesh.files.drives.blobsKey,
    path: '/files/x', version: 1, blob: { blockOffset: 0, blockLength: 1, byteOffset: 0, byteLength: 1 }, hash: 'a'.repeat(64), encrypted: false, ...over
  })
  const forged = file({ drive: owner.mesh.files.drives.driveKey, blobs: owner.mesh.files.drives.blobsKey, kind: 'attachment', audience: [], expiresAt: 2 })
  const mixed = file({ blobs: owner.mesh.files.drives.blobsKey })
  const honest = file({})
  await member.mesh.base.append([forged, mixed, honest])
  // the honest entry comes last in the member's own log: once the owner has it, it has seen the other two
  await viewHas(owner, KEYS.file(honest.id))
  t.is(await owner.mesh.files.entry(forged.id), null, 'an entry pointing at the owner\'s drive and blobs, added by the member, is not in the view')
  t.is(await owner.mesh.files.entry(mixed.id), null, 'nor one with the member\'s drive and the owner\'s blobs')
  t.ok(await owner.mesh.files.entry(honest.id), 'the member\'s entry for its own drive is')
  t.is((await owner.mesh.base.view.get(KEYS.drive(owner.mesh.files.drives.blobsKey)))?.value, owner.mesh.localWriter, 'the owner\'s blobs core stays claimed by the owner')
})

test('a mesh from before admissions keeps its old joins, and takes only admitted ones once its owner upgrades it', { timeout: 60_000 }, async (t) => {
  const encryptionKey = toHex(randomBytes(32))
  const owner = await peer(t, 'owner', { encryptionKey, owner: true })
  // the genesis op of an older claudemesh: no relay key in it
  await owner.mesh.base.append({ type: 'init', v: 1, at: Date.now(), meshName: 'team', ownerKey: toHex(owner.signing.publicKey), swarmKey: toHex(owner.swarm.publicKey), label: 'owner' })
  await owner.mesh.refresh()
  t.is(owner.mesh.strict, false, 'an old mesh is not strict')
  const old = await peer(t, 'old', { encryptionKey, key: owner.mesh.keyHex })
  link(t, owner, old)
  const multi = mint(owner, { uses: 3 })
  await old.mesh.join(receiptJoin(old, multi), AbortSignal.timeout(20_000))
  t.ok(old.mesh.writable, 'a v1 join with a receipt is admitted, as before')

  // reopening the owner's mesh upgrades it (what the daemon does at start)
  const { mesh, store } = owner
  const config = mesh.config
  await mesh.close()
  const reopened = new Mesh(store, config, { signing: owner.signing, swarmKey: owner.swarm.publicKey, label: 'owner' })
  t.teardown(() => reopened.close(), { order: 15 })
  await reopened.ready()
  await reopened.until(() => reopened.strict)
  t.is(reopened.owner?.relayKey, toHex(RELAY.publicKey), 'the owner\'s daemon appended mesh.upgrade naming its relay')
  const up = { ...owner, mesh: reopened }
  link(t, up, old)
  await old.mesh.until(() => old.mesh.strict)
  t.ok(old.mesh.members.some((m) => m.swarmKey === toHex(old.swarm.publicKey)), 'the member admitted before stays a member')

  const attacker = await peer(t, 'attacker', { encryptionKey, key: owner.mesh.keyHex })
  link(t, up, attacker)
  await attack(attacker, receiptJoin(attacker, multi))
  await delivered(up, attacker)
  t.is(attacker.mesh.writable, false, 'after the upgrade, a receipt made with the same multi-use link admits nobody')
  t.is(reopened.members.length, 2, 'the members are the owner and the one from before')
})
