// A member's own hyperdrive (only it writes there) and read access to other members' blobs.
// Readers open just the blobs core the mesh view points at and fetch one file's block range from
// whoever has it, over the connections the daemon already replicates its corestore on.
import { Transform, type Readable, type TransformCallback, type Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import Hyperdrive from 'hyperdrive'
import Hyperblobs, { type BlobId } from 'hyperblobs'
import type Corestore from 'corestore'
import { fromHex, toHex, discoveryKey } from '../../protocol/crypto.js'
import { MeshError } from '../../protocol/errors.js'

export interface Written { version: number, blob: BlobId }

/**
 * Bytes per stored block. Larger blocks mean fewer requests, proofs and store writes per byte: 4 MiB
 * fetched ~12 % faster than 1 MiB for 1 GiB on loopback (bench/files.ts, same CPU per byte otherwise);
 * hypercore refuses blocks over 15 MiB.
 */
export const BLOCK = 4 * 1024 * 1024

export class MeshDrives {
  private readonly store: Corestore
  private readonly encryptionKey: Buffer
  private own: Hyperdrive | null = null
  private ownBlobs: Hyperblobs | null = null
  private readonly remote = new Map<string, Hyperblobs>()
  private closed = false

  constructor (store: Corestore, encryptionKey: Buffer) {
    this.store = store
    this.encryptionKey = encryptionKey
  }

  async ready (): Promise<void> {
    this.own = new Hyperdrive(this.store.namespace('own'), null, { encryptionKey: this.encryptionKey })
    await this.own.ready()
    this.ownBlobs = await this.own.getBlobs()
  }

  private get drive (): Hyperdrive {
    if (this.own === null) throw new MeshError('INTERNAL', 'the file drive is not open yet')
    return this.own
  }

  get driveKey (): string { return toHex(this.drive.key) }
  get blobsKey (): string { return toHex(this.blobs(null).core.key) }

  /** The key pair that signs our drive's cores: a `drive.claim` proves we hold it. */
  get signer (): { publicKey: Buffer, secretKey: Buffer } {
    const keyPair = this.drive.core.keyPair
    if (keyPair === null) throw new MeshError('INTERNAL', 'the file drive of this store is not writable')
    return keyPair
  }

  /** Writes what the stages yield to `path` of our drive, in blocks of about BLOCK bytes. */
  async write (path: string, stages: Array<Readable | Transform>): Promise<Written> {
    const drive = this.drive
    const ws = drive.createWriteStream(path)
    await runPipeline([...stages, new BlockGrouper(BLOCK), async (source: AsyncIterable<Buffer>) => { await writeAll(ws, source) }])
    const entry = await drive.entry(path)
    if (entry === null || entry.value.blob === null) throw new MeshError('INTERNAL', `${path} was written but is not in the drive`)
    return { version: drive.version, blob: entry.value.blob }
  }

  /** The blobs of our drive (null) or of another member's, opened by key. */
  private blobs (key: string | null): Hyperblobs {
    if (key === null || (this.ownBlobs !== null && key === toHex(this.ownBlobs.core.key))) {
      if (this.ownBlobs === null) throw new MeshError('INTERNAL', 'the file drive is not open yet')
      return this.ownBlobs
    }
    let blobs = this.remote.get(key)
    if (blobs === undefined) {
      blobs = new Hyperblobs(this.store.get({ key: fromHex(key), encryptionKey: this.encryptionKey }))
      this.remote.set(key, blobs)
    }
    return blobs
  }

  /**
   * Streams a file's stored bytes, fetching the blocks this store lacks from any peer that has them.
   * `idleMs`: give up when no block arrives for that long (what was fetched stays for the next try).
   */
  read (blobsKey: string, blob: BlobId, idleMs: number): Readable {
    return this.blobs(blobsKey).createReadStream(blob, { wait: true, timeout: idleMs })
  }

  /**
   * The stored bytes of one file from `offset`, only if this store holds every block of it (our own
   * file, or a cached copy of another member's); null otherwise. For serving it to a member directly.
   */
  async readLocal (blobsKey: string, blob: BlobId, offset: number): Promise<Readable | null> {
    const blobs = await this.holding(blobsKey, blob)
    return blobs === null ? null : blobs.createReadStream(blob, { wait: false, start: offset })
  }

  /** Whether this store holds every block of one file (of the blobs opened since the daemon started). */
  async holds (blobsKey: string, blob: BlobId): Promise<boolean> {
    return (await this.holding(blobsKey, blob)) !== null
  }

  private async holding (blobsKey: string, blob: BlobId): Promise<Hyperblobs | null> {
    const blobs = blobsKey === this.blobsKey ? this.blobs(null) : this.remote.get(blobsKey)
    if (blobs === undefined) return null
    await blobs.core.ready()
    if (blob.blockLength > 0 && !(await blobs.core.has(blob.blockOffset, blob.blockOffset + blob.blockLength))) return null
    return blobs
  }

  /**
   * Frees our cached copy of one file of another member's drive, if we hold one. Never our own
   * drive: only our own entries (removeOwn) clear that, whatever an entry of someone else names.
   */
  async clear (blobsKey: string, blob: BlobId): Promise<void> {
    if (blobsKey === this.blobsKey) return
    const blobs = this.remote.get(blobsKey)
    if (blobs !== undefined) {
      await blobs.clear(blob)
      return
    }
    // not opened since the daemon started: open it only if this store has it (no empty core is made)
    const core = this.store.get({ discoveryKey: discoveryKey(fromHex(blobsKey)), encryptionKey: this.encryptionKey })
    try {
      await core.ready()
    } catch {
      await core.close().catch(noop)
      return // STORAGE_EMPTY: never fetched here
    }
    try {
      await new Hyperblobs(core).clear(blob)
    } finally {
      await core.close().catch(noop)
    }
  }

  /** Removes a file of ours: the entry from our drive and its blocks from our store. */
  async removeOwn (path: string): Promise<void> {
    const drive = this.drive
    await drive.clear(path)
    await drive.del(path)
  }

  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    for (const blobs of this.remote.values()) await blobs.core.close().catch(noop)
    this.remote.clear()
    if (this.own !== null) await this.own.close().catch(noop)
  }
}

/** Joins chunks until they hold at least `size` bytes; a chunk that already does passes as is. */
class BlockGrouper extends Transform {
  private parts: Buffer[] = []
  private bytes = 0

  constructor (private readonly size: number) {
    super()
  }

  override _transform (chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.parts.push(chunk)
    this.bytes += chunk.length
    if (this.bytes >= this.size) this.release()
    cb()
  }

  override _flush (cb: TransformCallback): void {
    if (this.bytes > 0) this.release()
    cb()
  }

  private release (): void {
    this.push(this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts, this.bytes))
    this.parts = []
    this.bytes = 0
  }
}

/** stream.pipeline over a list built at run time (its typings want the stages spelled out). */
export const runPipeline = pipeline as unknown as (stages: unknown[]) => Promise<void>

/** Feeds a hyperdrive (streamx) write stream with backpressure; resolves once the entry is written. */
async function writeAll (ws: Writable, source: AsyncIterable<Buffer>): Promise<void> {
  let failed: Error | null = null
  const closed = new Promise<void>((resolve, reject) => {
    ws.on('error', (err: Error) => { failed = err })
    ws.on('close', () => { if (failed !== null) reject(failed); else resolve() })
  })
  closed.catch(noop)
  try {
    for await (const chunk of source) {
      if (failed !== null) throw failed
      if (!ws.write(chunk)) await Promise.race([new Promise((resolve) => ws.once('drain', resolve)), closed])
    }
  } catch (err) {
    ws.destroy(err as Error)
    throw err
  }
  ws.end()
  await closed
}

function noop (): void {}
