// apply() admits a writer only through a verified `join`: forged joins are ignored on every peer.
// Real autobases on real corestores in temp folders, replicating over in-memory streams.
import test from 'brittle'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import Corestore from 'corestore'
import BlindPairing from 'blind-pairing'
import { createReceipt } from 'blind-pairing-core'
import { Mesh, type MeshConfig } from '../peer/mesh/mesh.js'
import { keyPair, randomBytes, toHex, type KeyPair } from '../protocol/crypto.js'
import { signInviteCert, encodeMemberKeys } from '../protocol/invite.js'
import type { JoinOp } from '../protocol/ops.js'

interface T { teardown (fn: () => unknown, opts?: { order?: number }): void }

interface Peer { mesh: Mesh, store: Corestore, signing: KeyPair, swarm: KeyPair }

async function peer (t: T, label: string, config: Partial<MeshConfig> & { encryptionKey: string }): Promise<Peer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `cm-apply-${label}-`))
  const store = new Corestore(dir)
  const signing = keyPair()
  const swarm = keyPair()
  const mesh = new Mesh(store, {
    name: 'team', namespace: 'mesh', key: null, relay: { publicKey: toHex(randomBytes(32)), addresses: ['127.0.0.1:1'], embedded: false }, owner: false, createdAt: 0, ...config
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

function mint (owner: Peer, opts: { uses?: number, signer?: KeyPair } = {}): Invite {
  const seed = randomBytes(32)
  const expires = Date.now() + 60_000
  const created = BlindPairing.createInvite(owner.mesh.key, { seed, expires, data: randomBytes(16) })
  const cert = signInviteCert(owner.mesh.key, { invitePublicKey: toHex(keyPair(seed).publicKey), role: 'member', uses: opts.uses ?? 1, expires }, (opts.signer ?? owner.signing).secretKey)
  return { invite: created.invite, cert }
}

function joinOp (p: Peer, invite: Invite, writerKey: Buffer = p.mesh.base.local.key): JoinOp {
  const userData = encodeMemberKeys({ writerKey, swarmKey: p.swarm.publicKey, signingKey: p.signing.publicKey })
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

test('forged joins (bad cert, receipt for another writer, replayed invite) are ignored by apply() on every peer', { timeout: 60_000 }, async (t) => {
  const encryptionKey = toHex(randomBytes(32))
  const owner = await peer(t, 'owner', { encryptionKey, owner: true })
  await owner.mesh.init()
  const key = owner.mesh.keyHex

  // the first member joins with a two-use invite, the second with a single-use one
  const member = await peer(t, 'member', { encryptionKey, key })
  link(t, owner, member)
  const twoUse = mint(owner, { uses: 2 })
  await member.mesh.join(joinOp(member, twoUse), AbortSignal.timeout(20_000))
  t.is(member.mesh.writable, true, 'a verified join makes the member a writer')
  const second = await peer(t, 'second', { encryptionKey, key })
  link(t, owner, second)
  const singleUse = mint(owner)
  await second.mesh.join(joinOp(second, singleUse), AbortSignal.timeout(20_000))
  await owner.mesh.until(() => owner.mesh.members.length === 3)
  await member.mesh.until(() => member.mesh.members.length === 3)

  // attackers who leaked the mesh key and encryption key (and, for the replay, the used invite seed)
  const badCert = await peer(t, 'badcert', { encryptionKey, key })
  const stolen = await peer(t, 'stolen', { encryptionKey, key })
  const replay = await peer(t, 'replay', { encryptionKey, key })
  const attacks: Array<[Peer, JoinOp, string]> = [
    [badCert, joinOp(badCert, mint(owner, { signer: keyPair() })), 'certificate signed by a non-owner key'],
    [stolen, joinOp(member, twoUse), 'the member\'s cert and receipt, bound to its writer key (the invite has a use left)'],
    [replay, joinOp(replay, singleUse), 'a fresh receipt for a single-use invite already used']
  ]
  for (const [attacker, op] of attacks) {
    link(t, owner, attacker)
    link(t, member, attacker)
    await attacker.mesh.until(() => attacker.mesh.owner !== null) // so the forged op follows init, like a real one
    await attacker.mesh.base.append(op, { optimistic: true })
    await attacker.mesh.base.append({ type: 'init', v: 1, at: 1, meshName: 'pwned', ownerKey: toHex(attacker.signing.publicKey), swarmKey: toHex(attacker.swarm.publicKey), label: 'x' }, { optimistic: true })
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
