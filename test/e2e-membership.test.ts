// A relay and three members, each with its own CLAUDEMESH_HOME, end to end through the CLI.
import test from 'brittle'
import { setTimeout as delay } from 'node:timers/promises'
import { Member, startRelay } from './helpers/cli.js'
import { decodeInviteLink, encodeInviteLink, signInviteLink, LINK_VERSION } from '../protocol/invite.js'
import { keyPair, randomBytes, fromHex } from '../protocol/crypto.js'
import BlindPairing from 'blind-pairing'

interface Summary { name: string, key: string, members: Array<{ label: string, writerKey: string, role: string, connected: boolean, self: boolean }>, online: number }

function writerKeys (mesh: Summary): string[] {
  return mesh.members.map((m) => m.writerKey).sort()
}

async function metrics (httpPort: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${httpPort}/metrics`)
  return await res.text()
}

function metric (text: string, name: string): number {
  const line = text.split('\n').find((l) => l.split(' ')[0] === name)
  return line === undefined ? NaN : Number(line.split(' ')[1])
}

test('a relay and three members: create, invite, join twice at once, all connected with the same member list', { timeout: 120_000 }, async (t) => {
  const relay = await startRelay(t)
  const alice = new Member(t, 'alice')
  const bob = new Member(t, 'bob')
  const carol = new Member(t, 'carol')

  const created = await alice.json<Summary>('create', 'team', '--relay', `${relay.key}@${relay.address}`)
  t.is(created.name, 'team')
  t.is(created.members.length, 1, 'the owner is the only member of a new mesh')

  const inviteB = await alice.json<{ id: string, link: string, uses: number, expires: number }>('invite')
  t.ok(inviteB.link.startsWith('claudemesh://join/'), 'invite prints a claudemesh link')
  t.is(inviteB.uses, 1, 'single use by default')
  t.ok(inviteB.expires > Date.now() + 6 * 24 * 3600 * 1000, 'expires in about 7 days by default')
  const inviteC = await alice.json<{ link: string }>('invite')

  // both at once: the relay pairs concurrent requests, each answered once its redemption is on disk
  const [joinedB, joinedC] = await Promise.all([bob.run('join', inviteB.link), carol.json<Summary>('join', inviteC.link)])
  t.is(joinedB.code, 0, 'bob joins: ' + joinedB.stderr)
  t.ok(joinedB.stdout.includes('Joined mesh team'), 'join prints the mesh name')
  t.ok(joinedB.stdout.includes('alice'), 'join prints who is in it')
  t.is(joinedC.name, 'team')

  for (const m of [alice, bob, carol]) await m.wait({ members: 3, connected: 2 })
  const views = await Promise.all([alice, bob, carol].map(async (m) => (await m.json<Summary[]>('list'))[0]))
  t.alike(writerKeys(views[1]), writerKeys(views[0]), 'bob sees the same members as alice')
  t.alike(writerKeys(views[2]), writerKeys(views[0]), 'carol sees the same members as alice')
  t.alike(views[0].members.map((m) => m.label).sort(), ['alice', 'bob', 'carol'])
  for (const view of views) {
    t.is(view.online, 3, 'everyone is online')
    t.ok(view.members.filter((m) => !m.self).every((m) => m.connected), 'connected to both others')
  }
  t.is(views[0].members.find((m) => m.label === 'alice')?.role, 'owner')

  const status = await bob.json<{ running: boolean, meshes: Array<{ name: string, relay: { connected: boolean }, peers: string[] }> }>('status')
  t.ok(status.running)
  t.is(status.meshes[0].relay.connected, true, 'status shows the relay reachable')
  t.is(status.meshes[0].peers.length, 2, 'status shows two connected peers')

  const text = await metrics(relay.httpPort)
  t.is(metric(text, 'claudemesh_relay_invites_registered_total'), 2, 'metrics count registered invites')
  t.is(metric(text, 'claudemesh_relay_invites_redeemed_total'), 2, 'metrics count redeemed invites')
  t.is(metric(text, 'claudemesh_relay_roster_size'), 3, 'all three daemons are in the relay roster')
  const health = await (await fetch(`http://127.0.0.1:${relay.httpPort}/health`)).json() as { ok: boolean, meshes: number }
  t.is(health.ok, true)
  t.is(health.meshes, 1)
})

test('bad invites are refused with their code and change nothing', { timeout: 120_000 }, async (t) => {
  const relay = await startRelay(t)
  const alice = new Member(t, 'alice')
  const bob = new Member(t, 'bob')
  const mallory = new Member(t, 'mallory')
  await alice.json('create', 'team', '--relay', `${relay.key}@${relay.address}`)
  const used = await alice.json<{ link: string }>('invite')
  t.is((await bob.run('join', used.link)).code, 0, 'bob joins')
  await alice.wait({ members: 2, connected: 1 })

  const refused = async (link: string, code: string, what: string): Promise<void> => {
    const res = await mallory.run('join', link)
    t.is(res.code, 1, `${what}: join fails`)
    t.ok(res.stderr.includes(`[${code}]`), `${what}: refused with ${code} (${res.stderr.trim()})`)
    const list = await mallory.json<Summary[]>('list')
    t.is(list.length, 0, `${what}: nothing half-joined on the refused member`)
    const owner = (await alice.json<Summary[]>('list'))[0]
    t.is(owner.members.length, 2, `${what}: the mesh view is unchanged`)
  }

  await refused(used.link, 'INVITE_USED', 'reuse of a single-use invite')

  const short = await alice.json<{ link: string, expires: number }>('invite', '--expires', '1s')
  await delay(Math.max(0, short.expires - Date.now() + 20)) // the condition is the clock passing the invite's own expiry
  await refused(short.link, 'INVITE_EXPIRED', 'an expired invite')

  const revoked = await alice.json<{ id: string, link: string }>('invite')
  const rev = await alice.run('invite', 'revoke', revoked.id.slice(0, 10))
  t.is(rev.code, 0, 'owner revokes: ' + rev.stderr)
  await refused(revoked.link, 'INVITE_REVOKED', 'a revoked invite')

  // a link re-signed by someone who is not the owner
  const stolen = await alice.json<{ link: string }>('invite')
  const decoded = decodeInviteLink(stolen.link)
  const forger = keyPair()
  const forged = encodeInviteLink(signInviteLink({ ...decoded, ownerKey: forger.publicKey }, forger.secretKey))
  const tampered = encodeInviteLink({ ...decoded, signature: signInviteLink(decoded, forger.secretKey).signature })
  await refused(tampered, 'INVITE_FORGED', 'a link whose owner signature does not verify')

  // a well-formed invite the relay never saw: forged pairing data signed by a key of the forger's own
  const mesh = (await alice.json<Summary[]>('list'))[0]
  const fake = BlindPairing.createInvite(fromHex(mesh.key), { seed: randomBytes(32), expires: Date.now() + 60_000, data: randomBytes(64) })
  const unknown = encodeInviteLink(signInviteLink({ version: LINK_VERSION, relayKey: decoded.relayKey, relayAddresses: decoded.relayAddresses, meshName: 'team', ownerKey: forger.publicKey, pairing: fake.invite }, forger.secretKey))
  await refused(unknown, 'INVITE_UNKNOWN', 'an invite the relay does not know')
  await refused(forged, 'INVITE_FORGED', 'a link re-signed with another owner key (the sealed owner key does not match)')

  const good = await alice.json<{ link: string }>('invite')
  await refused(good.link.slice(0, good.link.length - 9), 'INVITE_MALFORMED', 'a truncated link')
  const mid = Math.floor(good.link.length * 0.6) // not the last character: its low bits are padding
  const corrupted = good.link.slice(0, mid) + (good.link[mid] === 'y' ? 'b' : 'y') + good.link.slice(mid + 1)
  await refused(corrupted, 'INVITE_MALFORMED', 'a corrupted link')

  const after = await metrics(relay.httpPort)
  t.ok(metric(after, 'claudemesh_relay_refused_total{reason="unknown"}') >= 0, 'metrics expose refusals by reason')

  // the good invite still works after all of that
  const carol = new Member(t, 'carol')
  t.is((await carol.run('join', good.link)).code, 0, 'an untouched invite still works')
})

test('the owner kicks a member: everyone drops it, the invite it joined with is revoked; a non-owner cannot kick', { timeout: 120_000 }, async (t) => {
  const relay = await startRelay(t)
  const alice = new Member(t, 'alice')
  const bob = new Member(t, 'bob')
  const carol = new Member(t, 'carol')
  await alice.json('create', 'team', '--relay', `${relay.key}@${relay.address}`)
  await bob.json('join', (await alice.json<{ link: string }>('invite')).link)
  const carolsInvite = await alice.json<{ id: string, link: string }>('invite', '--uses', '2')
  await carol.json('join', carolsInvite.link)
  for (const m of [alice, bob, carol]) await m.wait({ members: 3, connected: 2 })

  const denied = await bob.run('kick', 'carol')
  t.is(denied.code, 1)
  t.ok(denied.stderr.includes('[NOT_OWNER]'), 'a member cannot kick: ' + denied.stderr.trim())

  const kicked = await alice.json<{ removed: { label: string }, relayUpdated: boolean }>('kick', 'carol')
  t.is(kicked.removed.label, 'carol')
  t.is(kicked.relayUpdated, true, 'the relay roster was updated too')

  const bobView = await bob.ipc('wait', { members: 2, timeoutMs: 30_000 })
  t.alike(bobView.members.map((m) => m.label).sort(), ['alice', 'bob'], 'bob no longer lists carol')
  const aliceStatus = await alice.json<{ meshes: Array<{ peers: string[] }> }>('status')
  t.is(aliceStatus.meshes[0].peers.length, 1, 'alice is connected to bob only')
  const invites = await alice.json<Array<{ id: string, state: string }>>('invite', 'list')
  t.is(invites.find((i) => i.id === carolsInvite.id)?.state, 'revoked', 'the two-use invite carol joined with is revoked')
  const dave = await new Member(t, 'dave').run('join', carolsInvite.link)
  t.ok(dave.stderr.includes('[INVITE_REVOKED]'), 'so its second use admits nobody: ' + dave.stderr.trim())

  const left = await bob.run('leave', 'team')
  t.is(left.code, 0)
  t.is((await bob.json<Summary[]>('list')).length, 0, 'leave forgets the mesh on that machine')
  const ownerLeave = await alice.run('leave', 'team')
  t.is(ownerLeave.code, 1, 'the owner must pass --force to leave')
})

test('join with no member online times out cleanly, and the same link works once the owner is back', { timeout: 120_000 }, async (t) => {
  const relay = await startRelay(t)
  const alice = new Member(t, 'alice')
  const bob = new Member(t, 'bob')
  await alice.json('create', 'team', '--relay', `${relay.key}@${relay.address}`)
  const invite = await alice.json<{ link: string }>('invite')
  t.is((await alice.run('daemon', 'stop')).code, 0, 'the owner goes offline')

  const first = await bob.run('join', invite.link, '--timeout', '3s')
  t.is(first.code, 1, 'join fails while nobody can admit bob')
  t.ok(first.stderr.includes('[TIMEOUT]') && first.stderr.includes('Run the same `claudemesh join` again'), first.stderr.trim())
  t.is((await bob.json<unknown[]>('list')).length, 0, 'nothing half-joined')

  t.is((await alice.run('daemon', 'start')).code, 0, 'the owner comes back')
  await alice.wait({ relay: true })
  const second = await bob.json<Summary>('join', invite.link)
  t.is(second.name, 'team', 'the retried join with the same single-use link succeeds')
  await bob.wait({ members: 2, connected: 1 })
  const third = await new Member(t, 'carol').run('join', invite.link)
  t.ok(third.stderr.includes('[INVITE_USED]'), 'but it is still used up for anyone else: ' + third.stderr.trim())
})
