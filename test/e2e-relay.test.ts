// The relay as its own process: killed and restarted; never holding the mesh key. The swarm firewall.
import test from 'brittle'
import fs from 'node:fs'
import path from 'node:path'
import HyperDHT from 'hyperdht'
import Hyperswarm from 'hyperswarm'
import { Member, startRelay, readTree } from './helpers/cli.js'
import { memoryHolds } from './helpers/memory.js'
import { keyPair, fromHex, meshTopic } from '../protocol/crypto.js'
import { ANY_UDP_PORT } from '../protocol/limits.js'

interface Summary { key: string, members: Array<{ label: string }> }
interface Status { meshes: Array<{ peers: string[], relay: { connected: boolean } }>, swarmKey: string }

test('relay killed and restarted: ledger intact, used invite still refused, members stay connected meanwhile', { timeout: 180_000 }, async (t) => {
  const relay = await startRelay(t)
  const alice = new Member(t, 'alice')
  const bob = new Member(t, 'bob')
  const carol = new Member(t, 'carol')
  await alice.json('create', 'team', '--relay', `${relay.key}@${relay.address}`)
  const used = await alice.json<{ link: string }>('invite')
  const unused = await alice.json<{ link: string }>('invite')
  await bob.json('join', used.link)
  await alice.wait({ members: 2, connected: 1 })
  await bob.wait({ members: 2, connected: 1 })

  await relay.kill('SIGKILL')
  await alice.wait({ relay: false })
  await bob.wait({ relay: false })
  for (const [name, m] of [['alice', alice], ['bob', bob]] as const) {
    const status = await m.json<Status>('status')
    t.is(status.meshes[0].relay.connected, false, `${name} sees the relay down`)
    t.is(status.meshes[0].peers.length, 1, `${name} is still connected to the other member while the relay is down`)
  }

  const restarted = await startRelay(t, { data: relay.data, port: relay.port })
  t.is(restarted.key, relay.key, 'the restarted relay has the same key')
  await alice.wait({ relay: true })
  await bob.wait({ relay: true })

  const health = await (await fetch(`http://127.0.0.1:${restarted.httpPort}/health`)).json() as { invites: number, meshes: number }
  t.is(health.meshes, 1, 'the ledger still holds the mesh')
  t.is(health.invites, 2, 'the ledger still holds both invites')

  const reuse = await carol.run('join', used.link)
  t.ok(reuse.stderr.includes('[INVITE_USED]'), 'an invite used before the restart is still refused: ' + reuse.stderr.trim())
  const joined = await carol.run('join', unused.link)
  t.is(joined.code, 0, 'an invite registered before the restart still works: ' + joined.stderr.trim())
  for (const m of [alice, bob, carol]) await m.wait({ members: 3, connected: 2 })
  t.pass('all three connected after the restart')
})

test('the relay\'s data folder and memory never hold the mesh encryption key', { timeout: 120_000 }, async (t) => {
  const relay = await startRelay(t)
  const alice = new Member(t, 'alice')
  const bob = new Member(t, 'bob')
  await alice.json('create', 'team', '--relay', `${relay.key}@${relay.address}`)
  await bob.json('join', (await alice.json<{ link: string }>('invite')).link)
  await alice.json('invite', '--uses', '3')
  await bob.wait({ members: 2, connected: 1 })

  const configs = JSON.parse(fs.readFileSync(path.join(alice.home, 'meshes.json'), 'utf-8')) as Array<{ encryptionKey: string }>
  const raw = fromHex(configs[0].encryptionKey)
  const needles = [raw, Buffer.from(configs[0].encryptionKey), Buffer.from(raw.toString('base64'))]

  const files = readTree(relay.data)
  t.ok(files.length >= 2, 'the relay wrote its ledger and key')
  t.absent(files.some((bytes) => needles.some((n) => bytes.includes(n))), 'no file in the relay data folder holds the key (raw, hex or base64)')

  const alicePid = alice.pid()
  t.ok(alicePid !== null)
  t.ok(memoryHolds(alicePid ?? 0, needles), 'control: the owner daemon\'s memory does hold the key, so the scan can find it')
  t.absent(memoryHolds(relay.child.pid ?? 0, needles), 'the relay process memory does not hold the key')
})

test('a non-member keypair cannot connect to a member\'s daemon', { timeout: 120_000 }, async (t) => {
  const relay = await startRelay(t)
  const alice = new Member(t, 'alice')
  const bob = new Member(t, 'bob')
  const mesh = await alice.json<Summary>('create', 'team', '--relay', `${relay.key}@${relay.address}`)
  await bob.json('join', (await alice.json<{ link: string }>('invite')).link)
  await alice.wait({ members: 2, connected: 1 })
  const aliceStatus = await alice.json<Status>('status')

  const [host, port] = relay.address.split(':')
  const stranger = new Hyperswarm({ dht: new HyperDHT({ bootstrap: [{ host, port: Number(port) }], host: '127.0.0.1', port: ANY_UDP_PORT }), keyPair: keyPair() })
  t.teardown(() => stranger.destroy(), { order: 5 })
  let connections = 0
  stranger.on('connection', (conn: { on (e: string, f: () => void): void }) => { conn.on('error', () => {}); connections++ })
  stranger.joinPeer(fromHex(aliceStatus.swarmKey))
  stranger.join(meshTopic(fromHex(mesh.key)), { client: true, server: true })

  await alice.wait({ refused: 1 })
  t.is(connections, 0, 'the stranger never got a connection')
  const after = await alice.json<Status>('status')
  t.is(after.meshes[0].peers.length, 1, 'alice is connected to bob only')
  t.ok((await alice.json<Array<{ members: unknown[] }>>('list'))[0].members.length === 2, 'the member list is unchanged')
})
