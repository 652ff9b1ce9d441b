// A member that writes its own ops by hand: a test stops the member's daemon, opens its corestore
// and its mesh (the real Mesh, with the member's keys) in the test process, and connects to the
// others with its swarm key. It can then append any op it likes to its own writer, as a member
// running modified code could.
import fs from 'node:fs'
import path from 'node:path'
import Corestore from 'corestore'
import HyperDHT from 'hyperdht'
import type { NoiseSocket } from 'hyperdht'
import Hyperswarm from 'hyperswarm'
import { Mesh, type MeshConfig } from '../../peer/mesh/mesh.js'
import { homePaths } from '../../peer/daemon/home.js'
import Protomux from 'protomux'
import { JsonChannel } from '../../protocol/channel.js'
import { parseHostPort } from '../../protocol/invite.js'
import { ANY_UDP_PORT } from '../../protocol/limits.js'
import type { Member } from './cli.js'

interface Teardown { teardown: (fn: () => unknown, opts?: { order?: number }) => void }

export interface RogueMesh { mesh: Mesh, store: Corestore, swarm: Hyperswarm, close: () => Promise<void> }

/**
 * Replicates a whole store on a connection to a daemon, the daemons' way: no TCP link, said at
 * once. The daemon replicates once it has settled that, and opens its files channel right then;
 * the store replicates from that moment, so that none of its requests comes before the daemon
 * listens for them (protomux turns those away, and hypercore does not ask again).
 */
export function replicateAs (conn: NoiseSocket, store: Corestore): void {
  conn.on('error', () => {})
  const hello = JsonChannel.open(conn, { protocol: 'claudemesh/bulk/v1', maxFrame: 1024, handshake: { port: null }, onopen: () => { hello?.send({ use: 'udx' }) }, onframe: () => {} })
  let started = false
  Protomux.from(conn).pair({ protocol: 'claudemesh/files/v1' }, () => {
    if (started) return
    started = true
    store.replicate(conn)
  })
}

/** Stops `member`'s daemon and runs its mesh (the first in its meshes.json, or `name`) here, connected to the others. */
export async function rogueMesh (t: Teardown, member: Member, name?: string): Promise<RogueMesh> {
  await member.stop()
  const paths = homePaths(member.home)
  const configs = JSON.parse(fs.readFileSync(paths.meshes, 'utf-8')) as MeshConfig[]
  const config = configs.find((c) => name === undefined || c.name === name)
  if (config === undefined) throw new Error(`${member.label} has no mesh ${name ?? ''}`)
  const store = new Corestore(path.join(member.home, 'store'))
  await store.ready()
  const signing = await store.createKeyPair('claudemesh/signing')
  const keyPair = await store.createKeyPair('hyperswarm')
  const mesh = new Mesh(store, config, { signing, swarmKey: keyPair.publicKey, label: member.label })
  await mesh.ready()
  const bootstrap = config.relay.addresses.map((a) => parseHostPort(a)).filter((a) => a !== null)
  const swarm = new Hyperswarm({ dht: new HyperDHT({ bootstrap, host: '127.0.0.1', port: ANY_UDP_PORT }), keyPair })
  swarm.on('connection', (conn: NoiseSocket) => {
    replicateAs(conn, store)
    mesh.base.wakeupProtocol.addStream(conn)
  })
  const discovery = swarm.join(mesh.topic, { server: true, client: true })
  discovery.flushed().then(() => discovery.refresh()).catch(() => {})
  let closed = false
  const close = async (): Promise<void> => {
    if (closed) return
    closed = true
    await swarm.destroy()
    await mesh.close()
    await store.close()
  }
  t.teardown(close, { order: 4 })
  return { mesh, store, swarm, close }
}
