// Direct TCP links: daemons that reach each other directly replicate over a Noise secret-stream on
// TCP instead of the swarm's UDP connection; only members get one, and the swarm path still works.
import test from 'brittle'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import crypto from 'node:crypto'
import SecretStream from '@hyperswarm/secret-stream'
import { Member, joinedHomes, tmpDir } from './helpers/cli.js'
import { keyPair } from '../protocol/crypto.js'

interface Status { meshes: Array<{ refusedConnections: number, peers: string[], tcpLinks: { port: number | null, active: number, refused: number } }> }

test('members on one machine replicate over a TCP link; a stranger\'s link is refused; a daemon without links syncs over UDP', { timeout: 150_000 }, async (t) => {
  const [alice, bob] = await joinedHomes(t, ['alice', 'bob'])
  const before = await alice.json<Status>('status')
  t.is(before.meshes[0].tcpLinks.active, 1, 'alice and bob replicate over a direct TCP link')
  const port = before.meshes[0].tcpLinks.port
  t.ok(typeof port === 'number' && port > 0, 'on a TCP port of alice\'s')

  // a stranger with its own key completes the Noise handshake, and is dropped right after it
  const socket = net.connect({ host: '127.0.0.1', port: port ?? 0 })
  socket.on('error', () => {})
  const stranger = new SecretStream(true, socket, { keyPair: keyPair() })
  stranger.on('error', () => {})
  t.teardown(() => stranger.destroy())
  const closed = new Promise<void>((resolve) => stranger.once('close', () => resolve()))
  await alice.wait({ refusedLinks: before.meshes[0].tcpLinks.refused + 1 })
  await closed
  t.pass('the stranger\'s link is refused and closed')
  t.is((await alice.json<Status>('status')).meshes[0].tcpLinks.active, 1, 'bob\'s link is untouched')

  // carol's daemon runs without TCP links: she joins and syncs over the swarm connection alone
  const carol = new Member(t, 'carol', { CLAUDEMESH_TCP_LINKS: '0' })
  await carol.json('join', (await alice.json<{ link: string }>('invite')).link)
  for (const m of [alice, bob, carol]) await m.wait({ members: 3, connected: 2 })
  t.is((await carol.json<Status>('status')).meshes[0].tcpLinks.port, null, 'carol has no TCP port')
  t.is((await alice.json<Status>('status')).meshes[0].tcpLinks.active, 1, 'alice links to bob only')
  t.is((await carol.run('state', 'set', 'build', '"green"')).code, 0)
  for (const m of [alice, bob]) await m.wait({ state: 1 })
  t.is((await bob.json<{ value: string }>('state', 'get', 'build')).value, 'green', 'carol\'s write reaches the others')

  const dir = tmpDir(t)
  const src = path.join(dir, 'from-carol.bin')
  fs.writeFileSync(src, crypto.randomBytes(2 * 1024 * 1024 + 5))
  const shared = await carol.ipc('files.share', { path: src })
  await alice.wait({ files: 1 })
  const got = await alice.ipc('files.get', { id: shared.id, saveTo: path.join(dir, 'alice.bin') })
  t.is(got.bytes, shared.size, 'a file from carol arrives over UDP')
  t.alike(fs.readFileSync(path.join(dir, 'alice.bin')), fs.readFileSync(src), 'identical')
})
