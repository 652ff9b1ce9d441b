// Files of one mesh: shared files and message attachments. The bytes live in each uploader's own
// hyperdrive; the view indexes them (file.add), records who fetched them (file.access) and keeps a
// tombstone when one is deleted or expires (file.delete), upon which the blocks are cleared.
import fs from 'node:fs'
import path from 'node:path'
import crypto from 'node:crypto'
import { EventEmitter } from 'node:events'
import { Transform, type Readable } from 'node:stream'
import mime from 'mime-types'
import type Corestore from 'corestore'
import { BLOCK, MeshDrives, runPipeline } from './drives.js'
import { newFileKey, sealStream, openStream } from './file-crypto.js'
import { KEYS, ViewCursor, type View } from './view.js'
import type { FileEntry, FileAccess, FileTombstone } from './apply.js'
import { fileName, fileTags, type Author } from '../../protocol/ops.js'
import { parse } from '../../protocol/schema.js'
import { MeshError, isCoded } from '../../protocol/errors.js'
import { LIMITS } from '../../protocol/limits.js'
import { randomBytes, toHex } from '../../protocol/crypto.js'
import { background } from '../background.js'

export interface Clock { now (): number }

export interface FilesContext {
  view: () => View
  append: (op: object) => Promise<void>
  writable: () => boolean
  /** our writer key (hex) */
  localWriter: () => string
  ownerWriter: () => string | null
  /** names our drive in the log, if it is not yet: a file.add pointing at an unclaimed drive is refused */
  claimDrive: () => Promise<void>
  clock: Clock
  log: (line: string) => void
  maxBytes: number
  /** where this daemon keeps when it first saw each attachment of another member (null: in memory only) */
  seenFile: string | null
}

export type Progress = (bytes: number, total: number) => void

export interface ShareOptions {
  name?: string | null
  tags?: string[]
  by: Author
  /** present for a message attachment: who may read it */
  attachment?: { audience: string[] }
  onprogress?: Progress
}

export interface GetOptions {
  saveTo: string
  overwrite: boolean
  /** the attachment's key, as the message carried it; null for persistent files */
  key: Buffer | null
  by: Author
  /** give up when nothing arrives for this long (replicated blocks are kept for the next try) */
  idleMs: number
  onprogress?: Progress
}

export interface Fetched { id: string, path: string, bytes: number, hash: string }

/**
 * Fetches a file's stored bytes straight from a member that holds them all (over its connection,
 * without passing them through our store). Resolves null when no connected member can serve it
 * now, and the file then comes by replication instead.
 */
export type DirectFetch = (entry: FileEntry, idleMs: number, offset: number) => Promise<AsyncIterable<Buffer> | null>

/**
 * Files from this size on are fetched directly when a member can serve them: ~3x faster than
 * replication (no second copy written to our store, which also saves the disk space); smaller
 * ones replicate, so readers keep a copy they can serve to others when the uploader is away.
 */
export const DIRECT_MIN_BYTES = 16 * 1024 * 1024

const SWEEP_MS = 60_000

export class MeshFiles extends EventEmitter {
  readonly drives: MeshDrives
  private readonly ctx: FilesContext
  private readonly cleared = new Set<string>()
  private readonly expiring = new Set<string>()
  private timer: NodeJS.Timeout | null = null
  private scanning: Promise<void> | null = null
  private scanAgain = false
  private opened = false
  /** the view version the scan reflects */
  readonly cursor = new ViewCursor()
  private readonly entries = new Map<string, FileEntry>()
  /** files in the view that have not expired, and how many accesses each has, as of the last scan */
  count = 0
  readonly accessCounts = new Map<string, number>()
  /** set by the daemon once the mesh is on a network */
  direct: DirectFetch | null = null
  /** temp files of direct gets in progress (one get per target and file at a time) */
  private readonly fetching = new Set<string>()
  /** attachments of other members: when this daemon first saw them, by its own clock */
  private readonly seen = new Map<string, number>()
  private seenDirty = false

  constructor (store: Corestore, encryptionKey: Buffer, ctx: FilesContext) {
    super()
    this.drives = new MeshDrives(store, encryptionKey)
    this.ctx = ctx
  }

  async ready (): Promise<void> {
    await this.drives.ready()
    if (this.ctx.seenFile !== null) {
      const text = await fs.promises.readFile(this.ctx.seenFile, 'utf-8').catch(() => '{}')
      try {
        for (const [id, at] of Object.entries(JSON.parse(text) as Record<string, number>)) if (typeof at === 'number') this.seen.set(id, at)
      } catch {} // a damaged file: the attachments count as seen from now on
    }
    this.opened = true
    // the first read of the view (and clearing what was deleted while we were away) is not on the start-up path
    const failed = background(this.ctx.log, 'following the files of the view')
    this.onupdate().catch(failed)
    this.timer = setInterval(() => { this.onupdate().catch(failed) }, SWEEP_MS)
    this.timer.unref()
  }

  // ---------------------------------------------------------------------------------------------
  // sharing

  async share (filePath: string, opts: ShareOptions): Promise<{ entry: FileEntry, key: Buffer | null }> {
    if (!this.ctx.writable()) throw MeshError.NOT_A_MEMBER('this daemon cannot write to the mesh (it was removed, or is not admitted yet)')
    const size = await checkReadable(filePath, this.ctx.maxBytes)
    await this.ctx.claimDrive()
    const name = parse(fileName, opts.name ?? path.basename(filePath), 'name')
    const tags = parse(fileTags, opts.tags ?? [], 'tags')
    const id = toHex(randomBytes(16))
    const key = opts.attachment !== undefined ? newFileKey() : null
    const drivePath = `/files/${id}`
    const hash = crypto.createHash('sha256')
    let read = 0
    const counter = tap((chunk) => { read += chunk.length; opts.onprogress?.(read, size) })
    const stages: Array<Readable | Transform> = [fs.createReadStream(filePath, { highWaterMark: Math.max(1, Math.min(BLOCK, size)) }), counter]
    if (key !== null) stages.push(sealStream(key, id))
    stages.push(tap((chunk) => hash.update(chunk)))
    const written = await this.drives.write(drivePath, stages)
    if (read !== size) {
      await this.drives.removeOwn(drivePath).catch(noop)
      throw MeshError.BAD_INPUT('path', `${filePath} changed while it was being read (${size} bytes before, ${read} read); share it again`)
    }
    const at = this.ctx.clock.now()
    await this.ctx.append({
      type: 'file.add',
      v: 1,
      at,
      id,
      name,
      size,
      mime: mime.lookup(name) || 'application/octet-stream',
      tags,
      by: opts.by,
      kind: opts.attachment !== undefined ? 'attachment' : 'persistent',
      audience: opts.attachment?.audience ?? null,
      expiresAt: opts.attachment !== undefined ? at + LIMITS.attachmentTtlMs : null,
      drive: this.drives.driveKey,
      blobs: this.drives.blobsKey,
      path: drivePath,
      version: written.version,
      blob: written.blob,
      hash: hash.digest('hex'),
      encrypted: key !== null
    })
    const entry = await this.entry(id)
    if (entry === null) throw new MeshError('INTERNAL', `file ${id} was shared but is not in the view`)
    return { entry, key }
  }

  // ---------------------------------------------------------------------------------------------
  // fetching

  /** The file as the view has it, or a clear error: unknown, deleted, expired. */
  async usable (id: string): Promise<FileEntry> {
    const entry = await this.entry(id)
    if (entry === null) {
      const gone = (await this.ctx.view().get(KEYS.fileDeleted(id)))?.value as FileTombstone | undefined
      if (gone?.reason === 'expired') throw MeshError.FILE_EXPIRED(id)
      if (gone !== undefined) throw MeshError.FILE_UNKNOWN(id, `in this mesh: it was deleted by ${gone.by.session ?? gone.by.member}`)
      throw MeshError.FILE_UNKNOWN(id, 'in this mesh (check list_files, or wait until the share reaches this machine)')
    }
    if (this.expired(entry)) throw MeshError.FILE_EXPIRED(id)
    return entry
  }

  /**
   * Waits (up to `ms`) for a file the caller knows exists, e.g. from a message that overtook the
   * file's entry on its way through the mesh's log.
   */
  async arrival (id: string, ms: number): Promise<void> {
    if ((await this.entry(id)) !== null || (await this.ctx.view().get(KEYS.fileDeleted(id))) !== null) return
    await new Promise<void>((resolve) => {
      const check = (): void => {
        this.entry(id).then((e) => { if (e !== null) done() }, noop)
      }
      const done = (): void => { clearTimeout(timer); this.off('files', check); resolve() }
      const timer = setTimeout(done, ms)
      this.on('files', check)
      check()
    })
  }

  /**
   * Fetches one file (as `usable` returned it), verifies it and writes it atomically: `saveTo`
   * appears complete or not at all.
   */
  async get (entry: FileEntry, opts: GetOptions): Promise<Fetched> {
    const id = entry.id
    if (entry.encrypted && opts.key === null) throw notForYou(entry)
    const target = await checkTarget(opts.saveTo, opts.overwrite)
    const total = entry.blob.byteLength
    const direct = this.direct !== null && total >= DIRECT_MIN_BYTES && !(await this.drives.holds(entry.blobs, entry.blob))
    // a large file comes without a copy in our store: what arrived of a shared one stays next to the
    // target under a name of its own, and the next get to the same place carries on from there
    // (an attachment's bytes are opened as they arrive, so it starts over)
    const keep = direct && !entry.encrypted
    const temp = path.join(path.dirname(target), `.${path.basename(target)}.${keep ? id : toHex(randomBytes(4))}.claudemesh-partial`)
    if (keep) {
      if (this.fetching.has(temp)) throw MeshError.BAD_INPUT('save_to', `${target} is already being fetched from ${entry.name}; wait for that get to end`)
      this.fetching.add(temp)
    }
    const hash = crypto.createHash('sha256')
    let stored = 0
    let written = 0
    try {
      const kept = keep ? await keptSize(temp, total) : 0
      const source = direct ? await this.direct?.(entry, opts.idleMs, kept) ?? null : null
      // carrying on: the kept bytes count; with no direct source it replicates whole, over them
      const resume = source !== null && kept > 0
      const handle = await openPartial(temp, resume ? kept : null)
      const { ino, dev } = await handle.stat()
      let writing = false
      try {
        if (resume) {
          for await (const chunk of handle.createReadStream({ start: 0, end: kept - 1, highWaterMark: BLOCK, autoClose: false })) hash.update(chunk as Buffer)
          stored = written = kept
        }
        const stages: Array<AsyncIterable<Buffer> | Transform> = [
          source ?? this.drives.read(entry.blobs, entry.blob, opts.idleMs) as unknown as AsyncIterable<Buffer>,
          tap((chunk) => { stored += chunk.length; hash.update(chunk); opts.onprogress?.(stored, total) })
        ]
        if (opts.key !== null) stages.push(openStream(opts.key, id))
        stages.push(tap((chunk) => { written += chunk.length }))
        writing = true // the write stream closes the handle, also when the pipeline fails
        await runPipeline([...stages, handle.createWriteStream()])
      } finally {
        if (!writing) await handle.close()
      }
      // on disk before the rename below publishes it, and only now the final mode
      await settle(temp, { ino, dev }, entry.encrypted ? 0o600 : 0o644)
      const digest = hash.digest('hex')
      if (digest !== entry.hash || written !== entry.size) throw MeshError.FILE_CORRUPT(`${entry.name} (${id}) arrived with ${written} bytes and hash ${digest.slice(0, 12)}, not the ${entry.size} bytes and hash ${entry.hash.slice(0, 12)} it was shared with`)
      await place(temp, target, opts.overwrite)
    } catch (err) {
      const resumable = keep && written > 0 && err instanceof MeshError && err.code === 'FILE_UNAVAILABLE'
      if (!resumable) await fs.promises.rm(temp, { force: true })
      const next = resumable
        ? `what arrived is kept in ${temp}; get it again to the same save_to to carry on`
        : direct ? 'get it again to start over' : `${stored} of ${total} bytes are kept here: get it again to resume`
      throw fetchError(err, entry, direct, next)
    } finally {
      this.fetching.delete(temp)
    }
    // the file is in place: the caller need not wait for the access to be recorded in the log
    this.ctx.append({ type: 'file.access', v: 1, at: this.ctx.clock.now(), id, by: opts.by }).catch(background(this.ctx.log, 'recording a file access'))
    return { id, path: target, bytes: written, hash: entry.hash }
  }

  /**
   * A file's stored bytes from `offset`, for a member that asked for them directly: only a file the
   * view still has (not deleted or expired) and whose every block this store holds.
   */
  async serve (id: string, offset: number): Promise<Readable> {
    const entry = await this.usable(id)
    if (offset > entry.blob.byteLength) throw MeshError.BAD_INPUT('offset', `must be at most ${entry.blob.byteLength}, the stored size of ${id}`)
    const stream = await this.drives.readLocal(entry.blobs, entry.blob, offset)
    if (stream === null) throw MeshError.FILE_UNAVAILABLE(`this member does not hold every block of ${id}`)
    return stream
  }

  // ---------------------------------------------------------------------------------------------
  // reading the index

  async entry (id: string): Promise<FileEntry | null> {
    return ((await this.ctx.view().get(KEYS.file(id)))?.value as FileEntry | undefined) ?? null
  }

  /**
   * An attachment expires 24 h after it was sent: by our clock for our own, else from when this
   * daemon first saw it (the sender's clock is not ours to compare with), for at most 24 h.
   */
  expired (entry: FileEntry): boolean {
    if (entry.expiresAt === null) return false
    const now = this.ctx.clock.now()
    if (entry.writer === this.ctx.localWriter()) return now >= entry.expiresAt
    const life = Math.min(Math.max(entry.expiresAt - entry.at, 0), LIMITS.attachmentTtlMs)
    return now >= (this.seen.get(entry.id) ?? now) + life
  }

  /** Every file in the view that has not expired, oldest first. */
  async list (): Promise<FileEntry[]> {
    const out: FileEntry[] = []
    for await (const e of this.ctx.view().createReadStream(KEYS.filesRange)) {
      const entry = e.value as FileEntry
      if (!this.expired(entry)) out.push(entry)
    }
    return out.sort((a, b) => a.at - b.at)
  }

  async accesses (id: string): Promise<FileAccess[]> {
    const out: FileAccess[] = []
    for await (const e of this.ctx.view().createReadStream(KEYS.accessRange(id))) out.push(e.value as FileAccess)
    return out
  }

  // ---------------------------------------------------------------------------------------------
  // deleting and expiry

  /** The uploader (the member that shared it) or the mesh owner only; apply() checks the same. */
  async delete (id: string, by: Author): Promise<FileEntry> {
    const entry = await this.usable(id)
    const me = this.ctx.localWriter()
    if (entry.writer !== me && this.ctx.ownerWriter() !== me) {
      throw MeshError.FILE_FORBIDDEN(`id: only the member that shared ${entry.name} (${entry.by.member}) or the mesh owner can delete it`)
    }
    await this.ctx.append({ type: 'file.delete', v: 1, at: this.ctx.clock.now(), id, by, reason: 'deleted' })
    await this.onupdate()
    return entry
  }

  /**
   * Follows the view: clears the blocks of deleted files (ours, and cached copies of others'),
   * retires our attachments that expired, counts files and accesses. Reads only what changed since
   * the last look (a diff of view versions; a full read at start and after a truncation). Runs on
   * every view update, on a timer and when the clock moves; bursts coalesce.
   */
  async onupdate (): Promise<void> {
    if (!this.opened) return
    if (this.scanning !== null) {
      this.scanAgain = true
      return await this.scanning
    }
    this.scanning = (async () => {
      do {
        this.scanAgain = false
        await this.scan()
      } while (this.scanAgain && this.opened)
    })()
    try {
      await this.scanning
    } finally {
      this.scanning = null
    }
  }

  private async scan (): Promise<void> {
    const view = this.ctx.view()
    const version = view.version
    const gone: FileTombstone[] = []
    const step = this.cursor.step(view)
    if (step === 'full') {
      this.entries.clear()
      this.accessCounts.clear()
      for await (const e of view.createReadStream(KEYS.filesRange)) this.entries.set((e.value as FileEntry).id, e.value as FileEntry)
      for await (const e of view.createReadStream(KEYS.accessesRange)) this.countAccess(e.key, 1)
      for await (const e of view.createReadStream(KEYS.filesDeletedRange)) gone.push(e.value as FileTombstone)
    } else if (step === 'diff') {
      for await (const { left, right } of view.createDiffStream(this.cursor.version ?? 0, KEYS.fileKeysRange)) {
        const key = (left ?? right)?.key ?? ''
        if (key.startsWith('files/')) {
          if (left !== null) this.entries.set((left.value as FileEntry).id, left.value as FileEntry)
          else if (right !== null) this.entries.delete((right.value as FileEntry).id)
        } else if (key.startsWith('files-deleted/')) {
          if (left !== null) gone.push(left.value as FileTombstone)
        } else if (key.startsWith('access/')) {
          if (left !== null && right === null) this.countAccess(key, 1)
          else if (left === null && right !== null) this.countAccess(key, -1)
        }
      }
    }
    this.cursor.version = version
    const me = this.ctx.localWriter()
    for (const entry of this.entries.values()) {
      if (entry.expiresAt === null || entry.writer === me || this.seen.has(entry.id)) continue
      this.seen.set(entry.id, this.ctx.clock.now())
      this.seenDirty = true
    }
    for (const tombstone of gone) if (this.seen.delete(tombstone.id)) this.seenDirty = true
    for (const tombstone of gone) {
      if (this.cleared.has(tombstone.id)) continue
      this.cleared.add(tombstone.id)
      if (tombstone.writer === me) await this.drives.removeOwn(tombstone.path).catch(noop)
      else await this.drives.clear(tombstone.blobs, tombstone.blob).catch(noop)
    }
    let count = 0
    for (const entry of [...this.entries.values()]) {
      if (!this.expired(entry)) { count++; continue }
      if (entry.writer === me && !this.expiring.has(entry.id)) {
        this.expiring.add(entry.id)
        await this.ctx.append({ type: 'file.delete', v: 1, at: this.ctx.clock.now(), id: entry.id, by: entry.by, reason: 'expired' }).catch(() => this.expiring.delete(entry.id))
      } else if (entry.writer !== me && !this.cleared.has(entry.id)) {
        this.cleared.add(entry.id)
        await this.drives.clear(entry.blobs, entry.blob).catch(noop)
      }
    }
    this.count = count
    await this.saveSeen()
    this.emit('files', count)
  }

  private async saveSeen (): Promise<void> {
    if (!this.seenDirty || this.ctx.seenFile === null) return
    this.seenDirty = false
    const file = this.ctx.seenFile
    const tmp = `${file}.${process.pid}.tmp`
    try {
      await fs.promises.mkdir(path.dirname(file), { recursive: true, mode: 0o700 })
      await fs.promises.writeFile(tmp, JSON.stringify(Object.fromEntries(this.seen)), { mode: 0o600 })
      await fs.promises.rename(tmp, file)
    } catch {
      this.seenDirty = true // tried again at the next scan; until then the times live in memory
    }
  }

  private countAccess (key: string, delta: number): void {
    const id = key.slice('access/'.length, 'access/'.length + 32)
    const n = (this.accessCounts.get(id) ?? 0) + delta
    if (n > 0) this.accessCounts.set(id, n)
    else this.accessCounts.delete(id)
  }

  async close (): Promise<void> {
    this.opened = false
    if (this.timer !== null) clearInterval(this.timer)
    await this.scanning?.catch(noop)
    await this.drives.close()
  }
}

/** The refusal for an attachment the caller holds no key for. */
export function notForYou (entry: FileEntry): MeshError {
  return MeshError.FILE_FORBIDDEN(`id: ${entry.name} (${entry.id}) is an attachment of a message to other sessions; only its recipients can read it`)
}

function tap (fn: (chunk: Buffer) => void): Transform {
  return new Transform({ transform (chunk: Buffer, _enc, cb) { fn(chunk); cb(null, chunk) } })
}

/** A path to share must be a regular, readable file within the size limit. Returns its size. */
export async function checkReadable (filePath: string, maxBytes: number, field = 'path'): Promise<number> {
  if (!path.isAbsolute(filePath)) throw MeshError.BAD_INPUT(field, `must be an absolute path (got ${filePath})`)
  let st: fs.Stats
  try {
    st = await fs.promises.stat(filePath)
  } catch {
    throw MeshError.BAD_INPUT(field, `${filePath} does not exist`)
  }
  if (st.isDirectory()) throw MeshError.BAD_INPUT(field, `${filePath} is a directory; share a regular file (archive a folder first)`)
  if (!st.isFile()) throw MeshError.BAD_INPUT(field, `${filePath} is not a regular file`)
  if (st.size > maxBytes) throw MeshError.BAD_INPUT(field, `${filePath} is ${st.size} bytes; files may be at most ${maxBytes} bytes`)
  try {
    await fs.promises.access(filePath, fs.constants.R_OK)
  } catch {
    throw MeshError.BAD_INPUT(field, `${filePath} is not readable by the daemon`)
  }
  return st.size
}

/** Where get_file writes: an absolute path in an existing folder; an existing file only with overwrite. */
async function checkTarget (saveTo: string, overwrite: boolean): Promise<string> {
  if (!path.isAbsolute(saveTo)) throw MeshError.BAD_INPUT('save_to', `must be an absolute path (got ${saveTo})`)
  const dir = path.dirname(saveTo)
  const dirStat = await fs.promises.stat(dir).catch(() => null)
  if (dirStat === null || !dirStat.isDirectory()) throw MeshError.BAD_INPUT('save_to', `folder ${dir} does not exist`)
  const st = await fs.promises.lstat(saveTo).catch(() => null)
  if (st !== null) {
    if (st.isDirectory()) throw MeshError.BAD_INPUT('save_to', `${saveTo} is a directory; give the path of the file to write`)
    if (!overwrite) throw MeshError.BAD_INPUT('save_to', `${saveTo} already exists; pass overwrite: true to replace it`)
  }
  return saveTo
}

/** Moves the verified temp file into place; without overwrite, a file created meanwhile is kept. */
async function place (temp: string, target: string, overwrite: boolean): Promise<void> {
  if (overwrite) {
    await fs.promises.rename(temp, target)
    return
  }
  try {
    await fs.promises.link(temp, target)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw MeshError.BAD_INPUT('save_to', `${target} already exists; pass overwrite: true to replace it`)
    throw err
  }
  await fs.promises.rm(temp, { force: true })
}

/**
 * The error a get ends with; a transfer that stalled says what a next get would do (`next`). A
 * direct transfer's FILE_UNAVAILABLE comes from the file links, which do not know that part.
 */
function fetchError (err: unknown, entry: FileEntry, direct: boolean, next: string): Error {
  if (err instanceof MeshError) return direct && err.code === 'FILE_UNAVAILABLE' ? MeshError.FILE_UNAVAILABLE(`${err.message}; ${next}`) : err
  const code = isCoded(err) ? err.code : ''
  if (code === 'REQUEST_TIMEOUT' || code === 'BLOCK_NOT_AVAILABLE') {
    return MeshError.FILE_UNAVAILABLE(`no peer that has ${entry.name} (${entry.id}) sent any of it for a while (is ${entry.by.session ?? entry.by.member}'s machine online?); ${next}`)
  }
  if (code === 'SESSION_CLOSED') return MeshError.FILE_UNAVAILABLE(`the daemon is closing; ${next}`)
  return err instanceof Error ? err : new Error(String(err))
}

/**
 * The part file of a get, opened without following a link, mode 0600 until it is complete: a fresh
 * one is created exclusively (whatever was at that name is unlinked first, never written through);
 * one to carry on from must still be the regular file of ours, of the size we measured.
 */
async function openPartial (temp: string, kept: number | null): Promise<fs.promises.FileHandle> {
  const { O_WRONLY, O_RDWR, O_CREAT, O_EXCL, O_APPEND, O_NOFOLLOW } = fs.constants
  if (kept === null) {
    await fs.promises.rm(temp, { force: true })
    return await fs.promises.open(temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600)
  }
  const handle = await fs.promises.open(temp, O_RDWR | O_APPEND | O_NOFOLLOW)
  const st = await handle.stat()
  if (!st.isFile() || st.size !== kept || (typeof process.getuid === 'function' && st.uid !== process.getuid())) {
    await handle.close()
    throw MeshError.BAD_INPUT('save_to', `${temp} changed while this get looked at it (it is not this user's part of the file any more); remove it and get again`)
  }
  return handle
}

/** Flushes the part file we wrote and gives it its final mode, through a handle on that same file (never a link put in its place). */
async function settle (temp: string, wrote: { ino: number, dev: number }, mode: number): Promise<void> {
  const handle = await fs.promises.open(temp, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW)
  try {
    const st = await handle.stat()
    if (st.ino !== wrote.ino || st.dev !== wrote.dev) throw MeshError.BAD_INPUT('save_to', `${temp} was replaced while this get wrote it; get again`)
    await handle.sync()
    await handle.chmod(mode)
  } finally {
    await handle.close()
  }
}

/**
 * The size of what a previous direct get left at `temp`, or 0 if there is nothing usable there
 * (what is not a regular file no larger than the file is removed).
 */
async function keptSize (temp: string, total: number): Promise<number> {
  const st = await fs.promises.lstat(temp).catch(() => null)
  if (st === null) return 0
  if (!st.isFile() || st.size > total) {
    await fs.promises.rm(temp, { force: true, recursive: true })
    return 0
  }
  return st.size
}

function noop (): void {}
