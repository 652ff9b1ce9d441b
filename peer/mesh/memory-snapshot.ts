// The memory index saved to disk, so a daemon starts from it instead of rebuilding it from the view.
// It records the view version it reflects and the view's tree hash at that version: the mesh trusts
// it only while the view still holds the same history up to there (a reordered log changes it).
//
// Layout (numbers in the machine's byte order: a snapshot is read where it was written): "CMMI", u32 header length, header (JSON), the entries (JSON), the index's
// terms (joined by "\n", which no term contains), zero padding to 4 bytes, then u32s: each entry's
// MiniSearch short id, each entry's field lengths, and per term its postings: the number of fields,
// then per field its id, the number of documents and (short id, term frequency) pairs. MiniSearch's
// own toJSON/loadJSON took 2.7 s and 4.6 s for 100k entries (a 64 MB JSON); this is several times faster.
import fs from 'node:fs'
import path from 'node:path'
import { setImmediate as yieldNow } from 'node:timers/promises'
import { MemoryIndex } from './memory-index.js'
import { internals, type Postings } from './minisearch-internals.js'
import type { MemoryEntry } from './apply.js'

/** Bump when the layout changes: a snapshot of another format is ignored and the index rebuilt. */
export const SNAPSHOT_FORMAT = 2
const MAGIC = 'CMMI'
/** terms restored between two yields to the event loop */
const TERMS_PER_SLICE = 5000

export interface Snapshot { version: number, treeHash: string, index: MemoryIndex }

interface Header {
  format: number
  version: number
  treeHash: string
  entriesBytes: number
  termsBytes: number
  terms: number
  fields: number
  documentCount: number
  nextId: number
  dirtCount: number
  fieldIds: Record<string, number>
  averageFieldLength: number[]
}

/** The snapshot in `file`; null if there is none. Throws if it is unreadable, corrupt or of another format. */
export async function readSnapshot (file: string): Promise<Snapshot | null> {
  let buf: Buffer
  try {
    buf = await fs.promises.readFile(file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw err
  }
  if (buf.length < 8 || buf.toString('latin1', 0, 4) !== MAGIC) throw new Error('not a memory snapshot')
  const headerEnd = 8 + buf.readUInt32LE(4)
  const h = JSON.parse(buf.toString('utf-8', 8, headerEnd)) as Header
  if (h.format !== SNAPSHOT_FORMAT) throw new Error(`format ${String(h.format)}, not ${SNAPSHOT_FORMAT}`)
  if (!Number.isSafeInteger(h.version) || h.version < 0 || typeof h.treeHash !== 'string') throw new Error('malformed header')
  const entriesEnd = headerEnd + h.entriesBytes
  const termsEnd = entriesEnd + h.termsBytes
  const numbersAt = align4(termsEnd)
  if (numbersAt > buf.length || (buf.length - numbersAt) % 4 !== 0) throw new Error('truncated')
  const entries = JSON.parse(buf.toString('utf-8', headerEnd, entriesEnd)) as MemoryEntry[]
  const terms = h.terms === 0 ? [] : buf.toString('utf-8', entriesEnd, termsEnd).split('\n')
  if (!Array.isArray(entries) || terms.length !== h.terms) throw new Error('malformed sections')
  const u32 = new Uint32Array(buf.buffer.slice(buf.byteOffset + numbersAt, buf.byteOffset + buf.length))

  const search = MemoryIndex.emptySearch()
  const ix = internals(search)
  let at = 0
  const next = (): number => {
    if (at >= u32.length) throw new Error('truncated postings')
    return u32[at++]
  }
  for (const e of entries) {
    const short = next()
    ix._documentIds.set(short, e.id)
    ix._idToShortId.set(e.id, short)
  }
  for (const e of entries) {
    const lengths = new Array<number>(h.fields)
    for (let f = 0; f < h.fields; f++) lengths[f] = next()
    ix._fieldLength.set(ix._idToShortId.get(e.id) as number, lengths)
  }
  for (let t = 0; t < terms.length; t++) {
    const postings: Postings = new Map()
    for (let fields = next(); fields > 0; fields--) {
      const fieldId = next()
      const docs = new Map<number, number>()
      for (let n = next(); n > 0; n--) docs.set(next(), next())
      postings.set(fieldId, docs)
    }
    ix._index.set(terms[t], postings)
    if (t % TERMS_PER_SLICE === TERMS_PER_SLICE - 1) await yieldNow()
  }
  if (at !== u32.length) throw new Error('trailing bytes')
  ix._documentCount = h.documentCount
  ix._nextId = h.nextId
  ix._dirtCount = h.dirtCount
  ix._fieldIds = h.fieldIds
  ix._avgFieldLength = h.averageFieldLength
  return { version: h.version, treeHash: h.treeHash, index: MemoryIndex.fromParts(entries, search) }
}

/** Serializes now (the caller holds the index still), then writes atomically: temp file, fsync, rename. */
export async function writeSnapshot (file: string, version: number, treeHash: string, index: MemoryIndex): Promise<void> {
  const { entries, search } = index.parts()
  const ix = internals(search)
  const fields = Object.keys(ix._fieldIds).length
  const numbers = new Grow()
  for (const e of entries) numbers.push(ix._idToShortId.get(e.id) as number)
  for (const e of entries) {
    const lengths = ix._fieldLength.get(ix._idToShortId.get(e.id) as number) ?? []
    for (let f = 0; f < fields; f++) numbers.push(lengths[f] ?? 0)
  }
  const terms: string[] = []
  for (const [term, postings] of ix._index) {
    terms.push(term)
    numbers.push(postings.size)
    for (const [fieldId, docs] of postings) {
      numbers.push(fieldId)
      numbers.push(docs.size)
      for (const [doc, tf] of docs) { numbers.push(doc); numbers.push(tf) }
    }
  }
  const entriesBuf = Buffer.from(JSON.stringify(entries))
  const termsBuf = Buffer.from(terms.join('\n'))
  const header: Header = {
    format: SNAPSHOT_FORMAT,
    version,
    treeHash,
    entriesBytes: entriesBuf.length,
    termsBytes: termsBuf.length,
    terms: terms.length,
    fields,
    documentCount: ix._documentCount,
    nextId: ix._nextId,
    dirtCount: ix._dirtCount,
    fieldIds: ix._fieldIds,
    averageFieldLength: ix._avgFieldLength
  }
  const headerBuf = Buffer.from(JSON.stringify(header))
  const prefix = Buffer.alloc(8)
  prefix.write(MAGIC, 0, 'latin1')
  prefix.writeUInt32LE(headerBuf.length, 4)
  const before = 8 + headerBuf.length + entriesBuf.length + termsBuf.length
  const pad = Buffer.alloc(align4(before) - before)
  const body = numbers.view()
  const chunks = [prefix, headerBuf, entriesBuf, termsBuf, pad, Buffer.from(body.buffer, body.byteOffset, body.byteLength)]

  await fs.promises.mkdir(path.dirname(file), { recursive: true, mode: 0o700 })
  const tmp = `${file}.${process.pid}.tmp`
  const handle = await fs.promises.open(tmp, 'w', 0o600)
  try {
    await handle.writeFile(Buffer.concat(chunks))
    await handle.sync()
  } finally {
    await handle.close()
  }
  await fs.promises.rename(tmp, file)
}

function align4 (n: number): number {
  return (n + 3) & ~3
}

/** A growing array of u32s. */
class Grow {
  private buf = new Uint32Array(1 << 16)
  private length = 0

  push (x: number): void {
    if (this.length === this.buf.length) {
      const bigger = new Uint32Array(this.buf.length * 2)
      bigger.set(this.buf)
      this.buf = bigger
    }
    this.buf[this.length++] = x
  }

  view (): Uint32Array {
    return this.buf.subarray(0, this.length)
  }
}
