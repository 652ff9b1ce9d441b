// A misbehaving daemon with a genuine member identity: a test takes over a member's swarm key pair
// (from that member's own corestore, its daemon stopped) and connects to another member by hand.
import path from 'node:path'
import Corestore from 'corestore'
import HyperDHT from 'hyperdht'
import type { KeyPair, NoiseSocket } from 'hyperdht'
import Hyperswarm from 'hyperswarm'
import { fromHex } from '../../protocol/crypto.js'
import { ANY_UDP_PORT } from '../../protocol/limits.js'
import type { Member, RelayProcess } from './cli.js'

export interface Rogue { conn: NoiseSocket, keyPair: KeyPair, destroy: () => Promise<void> }

interface Teardown { teardown: (fn: () => unknown, opts?: { order?: number }) => void }

/**
 * Stops `member`'s daemon and connects to `target` with its identity, over the relay's DHT (loopback).
 * `others`: how many other members `target` stays connected to meanwhile.
 */
export async function impersonate (t: Teardown, relay: RelayProcess, member: Member, target: Member, others = 0): Promise<Rogue> {
  const targetKey = (await target.json<{ swarmKey: string }>('status')).swarmKey
  await member.stop()
  // else the rogue's connection may replace the member's old one and close under it
  await target.wait({ connected: others, timeoutMs: 60_000 })
  const store = new Corestore(path.join(member.home, 'store'))
  const keyPair = await store.createKeyPair('hyperswarm')
  await store.close()
  const [host, port] = relay.address.split(':')
  const swarm = new Hyperswarm({ dht: new HyperDHT({ bootstrap: [{ host, port: Number(port) }], host: '127.0.0.1', port: ANY_UDP_PORT }), keyPair })
  t.teardown(() => swarm.destroy(), { order: 4 })
  const conn = await new Promise<NoiseSocket>((resolve) => {
    swarm.on('connection', (c: NoiseSocket) => { c.on('error', () => {}); resolve(c) })
    swarm.joinPeer(fromHex(targetKey))
  })
  return { conn, keyPair, destroy: async () => { await swarm.destroy() } }
}
