// A member's store opened in the test process (its daemon stopped): to look at what a replica of a
// file's blocks really holds, as any member with the mesh key could.
import fs from 'node:fs'
import Corestore from 'corestore'
import Hyperswarm from 'hyperswarm'
import HyperDHT from 'hyperdht'
import Hyperblobs from 'hyperblobs'
import { homePaths } from '../../peer/daemon/home.js'
import type { MeshConfig } from '../../peer/mesh/mesh.js'
import type { FileEntry } from '../../peer/mesh/apply.js'
import { fromHex, meshTopic, driveEncryptionKey } from '../../protocol/crypto.js'
import { parseHostPort } from '../../protocol/invite.js'
import { ANY_UDP_PORT } from '../../protocol/limits.js'

export interface OpenedStore { store: Corestore, mesh: MeshConfig, blobs (entry: Pick<FileEntry, 'blobs'>): Hyperblobs, close (): Promise<void> }

/** Opens the corestore of a member whose daemon is stopped. */
export async function openStore (home: string): Promise<OpenedStore> {
  const paths = homePaths(home)
  const mesh = (JSON.parse(fs.readFileSync(paths.meshes, 'utf-8')) as MeshConfig[])[0]
  const store = new Corestore(paths.store)
  await store.ready()
  const opened: Hyperblobs[] = []
  return {
    store,
    mesh,
    blobs (entry) {
      const blobs = new Hyperblobs(store.get({ key: fromHex(entry.blobs), encryptionKey: driveEncryptionKey(fromHex(mesh.encryptionKey)) }))
      opened.push(blobs)
      return blobs
    },
    async close () {
      for (const b of opened) await b.core.close()
      await store.close()
    }
  }
}

/**
 * Joins the mesh as that member (its own swarm key, so the others' firewalls let it in) and
 * replicates one file's blocks into its store, returning the bytes they hold: what a member that
 * replicated the file can read with the mesh's keys.
 */
export async function replicateStoredBytes (home: string, entry: Pick<FileEntry, 'blobs' | 'blob'>): Promise<Buffer> {
  const opened = await openStore(home)
  const bootstrap = opened.mesh.relay.addresses.map((a) => parseHostPort(a)).filter((a) => a !== null)
  const dht = new HyperDHT({ bootstrap, host: '127.0.0.1', port: ANY_UDP_PORT })
  const swarm = new Hyperswarm({ dht, keyPair: await opened.store.createKeyPair('hyperswarm') })
  swarm.on('connection', (conn) => { conn.on('error', () => {}); opened.store.replicate(conn) })
  try {
    swarm.join(meshTopic(fromHex(opened.mesh.key ?? '')), { client: true, server: false })
    const chunks: Buffer[] = []
    for await (const chunk of opened.blobs(entry).createReadStream(entry.blob, { wait: true, timeout: 60_000 })) chunks.push(chunk as Buffer)
    return Buffer.concat(chunks)
  } finally {
    await swarm.destroy()
    await opened.close()
  }
}

/** How many of a file's blocks a member's store still holds (its daemon stopped). */
export async function storedBlocks (home: string, entry: Pick<FileEntry, 'blobs' | 'blob'>): Promise<number> {
  const opened = await openStore(home)
  try {
    const core = opened.blobs(entry).core
    await core.ready()
    let n = 0
    for (let i = entry.blob.blockOffset; i < entry.blob.blockOffset + entry.blob.blockLength; i++) if (await core.has(i)) n++
    return n
  } finally {
    await opened.close()
  }
}
