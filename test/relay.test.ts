// The relay on its own (in this process, on loopback): owner authentication, roster for members
// only, malformed frames, health and metrics, a persisted ledger.
import test from 'brittle'
import fs from 'node:fs'
import path from 'node:path'
import os from 'node:os'
import HyperDHT from 'hyperdht'
import { Client as BlindRelayClient } from 'blind-relay'
import { Relay, type RelayOptions } from '../relay/relay.js'
import { PairingVerifier } from '../relay/pairing.js'
import type { MemberRequest } from 'blind-pairing'
import { verifyAdmission, type Admission } from '../protocol/admission.js'
import { RelayClient } from '../peer/daemon/relay-client.js'
import { JsonChannel } from '../protocol/channel.js'
import { keyPair, randomBytes, toHex } from '../protocol/crypto.js'
import { signOwnerRequest, RELAY_PROTOCOL } from '../protocol/relay-wire.js'
import { ANY_UDP_PORT } from '../protocol/limits.js'
import type { KeyPair } from '../protocol/crypto.js'

interface T { teardown (fn: () => unknown, opts?: { order?: number }): void }

async function relayFor (t: T, dataDir?: string, opts: Partial<RelayOptions> = {}): Promise<Relay> {
  const dir = dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'cm-relay-'))
  if (dataDir === undefined) t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }), { order: 100 })
  const relay = new Relay({ dataDir: dir, host: '127.0.0.1', port: 0, httpPort: 0, ...opts })
  await relay.ready()
  t.teardown(() => relay.close(), { order: 50 })
  return relay
}

function clientFor (t: T, relay: Relay, kp: KeyPair = keyPair()): RelayClient {
  const dht = new HyperDHT({ bootstrap: relay.bootstrap, host: '127.0.0.1', port: ANY_UDP_PORT })
  const client = new RelayClient(dht, kp, relay.publicKey, relay.addresses.join(','))
  client.start()
  t.teardown(async () => { await client.close(); await dht.destroy() }, { order: 10 })
  return client
}

async function registerMesh (client: RelayClient, owner: KeyPair, swarm: KeyPair): Promise<string> {
  const meshKey = toHex(randomBytes(32))
  await client.request('mesh.register', signOwnerRequest('mesh.register', { meshKey, meshName: 'team', swarmKey: toHex(swarm.publicKey), writerKey: toHex(randomBytes(32)), at: Date.now() }, owner))
  return meshKey
}

function inviteParams (meshKey: string, at = Date.now()): object {
  return { meshKey, inviteId: toHex(randomBytes(32)), invitePublicKey: toHex(randomBytes(32)), role: 'member', uses: 1, expires: Date.now() + 60_000, additionalData: 'ab', additionalSignature: toHex(randomBytes(64)), at }
}

test('owner requests must be signed by the mesh owner; the roster answers members only', { timeout: 60_000 }, async (t) => {
  const relay = await relayFor(t)
  const owner = keyPair()
  const ownerSwarm = keyPair()
  const ownerClient = clientFor(t, relay, ownerSwarm)
  const meshKey = await registerMesh(ownerClient, owner, ownerSwarm)

  const registered = await ownerClient.request<{ created: boolean }>('invite.register', signOwnerRequest('invite.register', inviteParams(meshKey), owner))
  t.is(registered.created, true, 'the owner registers an invite')

  const stranger = keyPair()
  const strangerClient = clientFor(t, relay, keyPair())
  await t.exception(strangerClient.request('invite.register', signOwnerRequest('invite.register', inviteParams(meshKey), stranger)), { code: 'NOT_OWNER' }, 'an invite signed by another key is refused')
  const forgedSig = { ...signOwnerRequest('invite.register', inviteParams(meshKey), stranger), ownerKey: toHex(owner.publicKey) }
  await t.exception(strangerClient.request('invite.register', forgedSig), { code: 'NOT_OWNER' }, 'a request claiming the owner key with a bad signature is refused')
  await t.exception(strangerClient.request('invite.list', signOwnerRequest('invite.list', { meshKey, at: Date.now() }, stranger)), { code: 'NOT_OWNER' }, 'invite list needs the owner')
  await t.exception(ownerClient.request('invite.register', signOwnerRequest('invite.register', inviteParams(meshKey, Date.now() - 48 * 3600 * 1000), owner)), { code: 'BAD_INPUT' }, 'a stale owner request (replay window) is refused')
  await t.exception(ownerClient.request('invite.register', signOwnerRequest('invite.register', { meshKey, uses: 0 }, owner)), /params\.payload/, 'a malformed payload names the field')

  const list = await ownerClient.request<Array<{ state: string }>>('invite.list', signOwnerRequest('invite.list', { meshKey, at: Date.now() }, owner))
  t.is(list.length, 1, 'only the owner invite was registered')
  t.is(list[0].state, 'valid')

  await t.exception(strangerClient.request('roster.list', { meshKey }), { code: 'NOT_A_MEMBER' }, 'a non-member gets no roster')
  await t.exception(strangerClient.request('roster.announce', { meshKey }), { code: 'NOT_A_MEMBER' }, 'a non-member cannot announce')
  const roster = await ownerClient.request<{ members: Array<{ swarmKey: string, writerKey: string, online: boolean }> }>('roster.announce', { meshKey })
  t.alike(roster.members, [{ swarmKey: toHex(ownerSwarm.publicKey), writerKey: roster.members[0].writerKey, online: true }], 'the owner is in the roster, online')

  const health = await (await fetch(`http://127.0.0.1:${String(relay.httpPort)}/health`)).json() as { ok: boolean, online: number, invites: number }
  t.is(health.ok, true)
  t.is(health.online, 1, '/health counts online daemons')
  t.is(health.invites, 1)
  const metrics = await (await fetch(`http://127.0.0.1:${String(relay.httpPort)}/metrics`)).text()
  t.ok(/claudemesh_relay_refused_total\{reason="bad_signature"\} [1-9]/.test(metrics), '/metrics counts bad signatures')
  t.ok(/claudemesh_relay_refused_total\{reason="not_member"\} 2/.test(metrics), '/metrics counts non-member refusals')
  t.ok(metrics.includes('claudemesh_relay_uptime_seconds'), '/metrics has uptime')
})

test('a malformed frame closes that channel only; the relay keeps serving', { timeout: 60_000 }, async (t) => {
  const relay = await relayFor(t)
  const dht = new HyperDHT({ bootstrap: relay.bootstrap, host: '127.0.0.1', port: ANY_UDP_PORT })
  t.teardown(() => dht.destroy(), { order: 10 })
  const socket = dht.connect(relay.publicKey)
  socket.on('error', () => {})
  t.teardown(() => socket.destroy(), { order: 5 })
  const closed = new Promise<void>((resolve) => {
    const channel = JsonChannel.open(socket, {
      protocol: RELAY_PROTOCOL,
      maxFrame: 65536,
      onopen: () => { channel?.sendRaw(Buffer.from('{not json')) },
      onframe: () => {},
      onclose: () => resolve()
    })
  })
  await closed
  t.pass('the relay closed the channel that sent garbage')

  const client = clientFor(t, relay)
  const pong = await client.request<{ now: number }>('ping', {})
  t.ok(pong.now > 0, 'a new client is still served')
  await t.exception(client.request('no.such.method', {}), { code: 'BAD_INPUT' }, 'an unknown method is a clear error')
  t.ok(relay.counters.malformedFrames >= 1, 'the malformed frame was counted')
})

test('the ledger survives a restart of the relay', { timeout: 60_000 }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cm-relay-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }), { order: 100 })
  const owner = keyPair()
  const ownerSwarm = keyPair()
  const first = await relayFor(t, dir)
  const key = toHex(first.publicKey)
  const client = clientFor(t, first, ownerSwarm)
  const meshKey = await registerMesh(client, owner, ownerSwarm)
  await client.request('invite.register', signOwnerRequest('invite.register', inviteParams(meshKey), owner))
  await client.close()
  await first.close()

  const second = await relayFor(t, dir)
  t.is(toHex(second.publicKey), key, 'the relay keeps its key across restarts')
  const again = clientFor(t, second, ownerSwarm)
  const list = await again.request<unknown[]>('invite.list', signOwnerRequest('invite.list', { meshKey, at: Date.now() }, owner))
  t.is(list.length, 1, 'the registered invite is still there')
  const roster = await again.request<{ members: unknown[] }>('roster.list', { meshKey })
  t.is(roster.members.length, 1, 'the owner is still a member')
})

test('the relay runs a blind relay: two peers with the same token are paired', { timeout: 60_000 }, async (t) => {
  const relay = await relayFor(t)
  const token = randomBytes(32)
  const before = relay.relayedPairings()
  const paired = [true, false].map(async (isInitiator) => {
    const dht = new HyperDHT({ bootstrap: relay.bootstrap, host: '127.0.0.1', port: ANY_UDP_PORT })
    t.teardown(() => dht.destroy(), { order: 10 })
    const socket = dht.connect(relay.publicKey)
    socket.on('error', () => {})
    t.teardown(() => socket.destroy(), { order: 5 })
    const client = BlindRelayClient.from(socket, { id: socket.publicKey }) // the relay scopes sessions by the caller's key
    const stream = dht.createRawStream()
    t.teardown(() => (stream as { destroy (): void }).destroy(), { order: 4 })
    return await new Promise<number>((resolve) => {
      client.on('pair', (_initiator: boolean, _token: Buffer, _stream: unknown, remoteId: number) => resolve(remoteId))
      const request = client.pair(isInitiator, token, stream) as { on (e: string, f: () => void): void, resume (): void }
      request.on('error', () => {})
      request.resume() // the request is a readable stream: it sends its pair message once read
    })
  })
  const ids = await Promise.all(paired)
  t.ok(ids.every((id) => Number.isInteger(id)), 'both peers got a relay stream to send through')
  t.is(relay.relayedPairings(), before + 1, 'the relay matched the pair')
})

test('the relay holds only what owners may make it hold: meshes per owner, valid invites per mesh, listed owners only', { timeout: 60_000 }, async (t) => {
  const relay = await relayFor(t, undefined, { quotas: { meshesPerOwner: 2, liveInvitesPerMesh: 3, invitesPerMesh: 5 } })
  const owner = keyPair()
  const swarm = keyPair()
  const client = clientFor(t, relay, swarm)
  const meshKey = await registerMesh(client, owner, swarm)
  await registerMesh(client, owner, swarm)
  await t.exception(registerMesh(client, owner, swarm), { code: 'QUOTA_EXCEEDED' }, 'a third mesh of one owner is refused')
  await t.exception(registerMesh(client, keyPair(), swarm), { code: 'QUOTA_EXCEEDED' }, 'also under another owner key from the same daemon')

  const invites: string[] = []
  for (let i = 0; i < 3; i++) {
    const params = inviteParams(meshKey) as { inviteId: string }
    await client.request('invite.register', signOwnerRequest('invite.register', params, owner))
    invites.push(params.inviteId)
  }
  await t.exception(client.request('invite.register', signOwnerRequest('invite.register', inviteParams(meshKey), owner)), { code: 'QUOTA_EXCEEDED' }, 'a fourth valid invite is refused')
  await client.request('invite.revoke', signOwnerRequest('invite.revoke', { meshKey, inviteId: invites[0], at: Date.now() }, owner))
  await client.request('invite.register', signOwnerRequest('invite.register', inviteParams(meshKey), owner))
  t.pass('a revoked one makes room')
  await client.request('invite.revoke', signOwnerRequest('invite.revoke', { meshKey, inviteId: invites[1], at: Date.now() }, owner))
  await client.request('invite.register', signOwnerRequest('invite.register', inviteParams(meshKey), owner))
  await client.request('invite.revoke', signOwnerRequest('invite.revoke', { meshKey, inviteId: invites[2], at: Date.now() }, owner))
  await t.exception(client.request('invite.register', signOwnerRequest('invite.register', inviteParams(meshKey), owner)), { code: 'QUOTA_EXCEEDED' }, 'and the ledger keeps at most 5 of a mesh\'s invites in all')
  const metrics = await (await fetch(`http://127.0.0.1:${String(relay.httpPort)}/metrics`)).text()
  t.ok(/claudemesh_relay_refused_total\{reason="quota"\} 4/.test(metrics), '/metrics counts quota refusals')

  const listed = keyPair()
  const closed = await relayFor(t, undefined, { owners: [toHex(listed.publicKey)] })
  const stranger = keyPair()
  const strangerClient = clientFor(t, closed, stranger)
  await t.exception(registerMesh(strangerClient, stranger, stranger), { code: 'RELAY_REFUSED' }, 'with --owners, an owner key not on the list cannot register a mesh')
  const listedSwarm = keyPair()
  t.ok(await registerMesh(clientFor(t, closed, listedSwarm), listed, listedSwarm), 'one on the list can')
})

test('the ledger is written in batches, off the event loop, and what was acknowledged survives a restart', { timeout: 60_000 }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cm-relay-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }), { order: 100 })
  const first = await relayFor(t, dir)
  const owner = keyPair()
  const swarm = keyPair()
  const client = clientFor(t, first, swarm)
  const meshKey = await registerMesh(client, owner, swarm)
  const before = first.ledger.writes
  const n = 40
  await Promise.all(Array.from({ length: n }, async () => await client.request('invite.register', signOwnerRequest('invite.register', inviteParams(meshKey), owner))))
  const writes = first.ledger.writes - before
  t.ok(writes >= 1 && writes < n, `${n} acknowledged registrations took ${writes} writes of the ledger`)
  await client.close()
  await first.close()
  const second = await relayFor(t, dir)
  const again = clientFor(t, second, swarm)
  const list = await again.request<unknown[]>('invite.list', signOwnerRequest('invite.list', { meshKey, at: Date.now() }, owner))
  t.is(list.length, n, 'every acknowledged invite is in the ledger after a restart')
})

test('admissions: the relay signs the keys it paired, only for the daemon whose key it paired, and not for a revoked invite', { timeout: 60_000 }, async (t) => {
  const relay = await relayFor(t)
  const owner = keyPair()
  const ownerSwarm = keyPair()
  const ownerClient = clientFor(t, relay, ownerSwarm)
  const meshKey = await registerMesh(ownerClient, owner, ownerSwarm)
  const params = inviteParams(meshKey) as { inviteId: string, invitePublicKey: string }
  await ownerClient.request('invite.register', signOwnerRequest('invite.register', params, owner))
  // what a pairing records (the pairing itself runs in every join of the end-to-end tests)
  const joiner = keyPair()
  const writerKey = toHex(randomBytes(32))
  const signingKey = toHex(randomBytes(32))
  const invite = relay.ledger.invite(params.inviteId)
  invite?.redemptions.push({ writerKey, swarmKey: toHex(joiner.publicKey), signingKey, at: 1234 })

  const admission = await clientFor(t, relay, joiner).request<Admission>('admission.get', { inviteId: params.inviteId })
  t.alike({ ...admission, signature: '' }, { meshKey, invitePublicKey: params.invitePublicKey, writerKey, swarmKey: toHex(joiner.publicKey), signingKey, at: 1234, signature: '' }, 'the admission names the paired keys and the time')
  t.ok(verifyAdmission(admission, relay.publicKey), 'signed with the relay\'s key')
  await t.exception(clientFor(t, relay, keyPair()).request('admission.get', { inviteId: params.inviteId }), { code: 'NOT_A_MEMBER' }, 'another daemon gets none for that pairing')
  await ownerClient.request('invite.revoke', signOwnerRequest('invite.revoke', { meshKey, inviteId: params.inviteId, at: Date.now() }, owner))
  await t.exception(clientFor(t, relay, joiner).request('admission.get', { inviteId: params.inviteId }), { code: 'INVITE_REVOKED' }, 'after a revoke, nobody does')
})

test('pairing: the verifier\'s answer is in the request when blind-pairing awaits it (the DHT path sends only what is there then)', { timeout: 60_000 }, async (t) => {
  const relay = await relayFor(t)
  const owner = keyPair()
  const ownerSwarm = keyPair()
  const client = clientFor(t, relay, ownerSwarm)
  const meshKey = await registerMesh(client, owner, ownerSwarm)
  const params = inviteParams(meshKey) as { inviteId: string }
  await client.request('invite.register', signOwnerRequest('invite.register', params, owner))
  // blind-pairing's request, as its member hands it over: opened with the invite key, answered by confirm or deny
  const keys = Buffer.concat([randomBytes(32), randomBytes(32), randomBytes(32)])
  const request = {
    inviteId: Buffer.from(params.inviteId, 'hex'),
    response: null as string | null,
    open: () => keys,
    confirm: () => { request.response = 'confirmed' },
    deny: () => { request.response = 'denied' }
  }
  await new PairingVerifier(relay).onrequest(request as unknown as MemberRequest)
  t.is(request.response, 'confirmed', 'confirmed by the time onrequest resolves, with the redemption on disk')
  t.is(relay.ledger.invite(params.inviteId)?.redemptions.length, 1)
})
