// The memory index saved to disk, so a daemon starts from it instead of rebuilding it from the view.
// It records the view version it reflects and the view's tree hash at that version: the mesh trusts
// it only while the view still holds the same history up to there (a reordered log changes it).
import fs from 'node:fs'
import path from 'node:path'
import { MemoryIndex, type MemoryIndexJSON } from './memory-index.js'

/** Bump when the layout changes: a snapshot of another format is ignored and the index rebuilt. */
export const SNAPSHOT_FORMAT = 1

export interface Snapshot { version: number, treeHash: string, index: MemoryIndex }

interface File { format: number, version: number, treeHash: string, index: MemoryIndexJSON }

/** The snapshot in `file`; null if there is none. Throws if it is unreadable, corrupt or of another format. */
export async function readSnapshot (file: string): Promise<Snapshot | null> {
  let text: string
  try {
    text = await fs.promises.readFile(file, 'utf-8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw err
  }
  const json = JSON.parse(text) as Partial<File>
  if (json.format !== SNAPSHOT_FORMAT) throw new Error(`format ${String(json.format)}, not ${SNAPSHOT_FORMAT}`)
  if (!Number.isSafeInteger(json.version) || (json.version as number) < 0 || typeof json.treeHash !== 'string' || typeof json.index !== 'object' || json.index === null) throw new Error('malformed header')
  return { version: json.version as number, treeHash: json.treeHash, index: await MemoryIndex.fromJSON(json.index) }
}

/** Serializes now (the caller holds the index still), then writes atomically: temp file, fsync, rename. */
export async function writeSnapshot (file: string, version: number, treeHash: string, index: MemoryIndex): Promise<void> {
  const text = JSON.stringify({ format: SNAPSHOT_FORMAT, version, treeHash, index: index.toJSON() } satisfies File)
  await fs.promises.mkdir(path.dirname(file), { recursive: true, mode: 0o700 })
  const tmp = `${file}.${process.pid}.tmp`
  const handle = await fs.promises.open(tmp, 'w', 0o600)
  try {
    await handle.writeFile(text)
    await handle.sync()
  } finally {
    await handle.close()
  }
  await fs.promises.rename(tmp, file)
}
