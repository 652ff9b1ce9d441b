// Keeps a mesh's memory index in step with its view, and saved to disk.
//
// At start the index comes from the snapshot when the view still holds the history the snapshot saw
// (same tree hash at its version), then follows the view by diffing versions; otherwise, and after
// the view was truncated (autobase reorders the log when writes arrive out of order), a full scan.
// Loading happens in the background: the mesh is ready before its index is, and recall waits.
// Saves are debounced (after SAVE_IDLE_MS without changes, at most SAVE_MAX_MS after the first) and
// run from the mesh's refresh, so nothing changes the index while it is serialized.
import b4a from 'b4a'
import { MemoryIndex } from './memory-index.js'
import { readSnapshot, writeSnapshot } from './memory-snapshot.js'
import { KEYS, ViewCursor, type View } from './view.js'
import type { MemoryEntry } from './apply.js'

const SAVE_IDLE_MS = 10_000
const SAVE_MAX_MS = 120_000

export interface MemorySyncOptions {
  /** where the snapshot lives; null: never saved, rebuilt at every start */
  file: string | null
  /** asks the owner to run sync() (which saves when a save is due) */
  requestSync: () => void
  log?: (line: string) => void
}

export class MemorySync {
  index = new MemoryIndex()
  /** the view version the index reflects */
  readonly cursor = new ViewCursor()
  private loaded = false
  private readonly opts: MemorySyncOptions
  private dirtySince = 0
  private saveDue = false
  private timer: NodeJS.Timeout | null = null
  private closed = false

  constructor (opts: MemorySyncOptions) {
    this.opts = opts
  }

  /** Takes the snapshot if it can be trusted for `view`; afterwards sync() may run. */
  async load (view: View): Promise<void> {
    try {
      const snap = this.opts.file === null ? null : await readSnapshot(this.opts.file)
      if (snap !== null) {
        // a snapshot past the view's length, or of another history, is not diffed from
        const length = view.core.length
        if (snap.version > length) this.opts.log?.(`memory snapshot is at version ${snap.version}, the view at ${length}: rebuilding the index`)
        else if (!b4a.equals(await view.core.treeHash(snap.version), b4a.from(snap.treeHash, 'hex'))) this.opts.log?.('memory snapshot is of another history of the view: rebuilding the index')
        else {
          this.index = snap.index
          this.cursor.version = snap.version
          this.cursor.truncated = false // the history up to the snapshot's version is the one it saw
          this.opts.log?.(`memory index loaded from the snapshot: ${snap.index.size} entries at view version ${snap.version} (the view is at ${length})`)
        }
      }
    } catch (err) {
      this.opts.log?.(`memory snapshot ignored (${(err as Error).message}): rebuilding the index`)
    }
    this.loaded = true
  }

  /** Brings the index up to the view. Returns whether the number of entries changed. */
  async sync (view: View): Promise<boolean> {
    if (!this.loaded || this.closed) return false
    const version = view.version
    const before = this.index.size
    let changes = 0
    const full = this.cursor.version === null
    const step = this.cursor.step(view)
    if (step === 'full') {
      const present = new Set<string>()
      for await (const e of view.createReadStream(KEYS.memoryRange)) {
        const entry = e.value as MemoryEntry
        present.add(entry.id)
        if (!this.index.has(entry.id)) { this.index.add(entry); changes++ }
      }
      for (const id of this.index.ids()) if (!present.has(id)) { this.index.remove(id); changes++ }
      if (full) changes++ // a rebuilt index is worth saving even if the view is empty
    } else if (step === 'diff') {
      for await (const { left, right } of view.createDiffStream(this.cursor.version ?? 0, KEYS.memoryRange)) {
        if (left !== null) this.index.add(left.value as MemoryEntry)
        else if (right !== null) this.index.remove((right.value as MemoryEntry).id)
        changes++
      }
    }
    this.cursor.version = version
    if (changes > 0) this.changed()
    if (this.saveDue) await this.save(view)
    return this.index.size !== before
  }

  private changed (): void {
    if (this.opts.file === null) return
    const now = Date.now()
    if (this.dirtySince === 0) this.dirtySince = now
    if (this.timer !== null) clearTimeout(this.timer)
    const wait = Math.max(0, Math.min(SAVE_IDLE_MS, this.dirtySince + SAVE_MAX_MS - now))
    this.timer = setTimeout(() => {
      this.timer = null
      this.saveDue = true
      this.opts.requestSync()
    }, wait)
    this.timer.unref()
  }

  /** Saves if anything changed since the last save. The caller makes sure no sync() runs meanwhile. */
  async save (view: View): Promise<void> {
    this.saveDue = false
    if (this.timer !== null) { clearTimeout(this.timer); this.timer = null }
    const version = this.cursor.version
    if (this.opts.file === null || this.dirtySince === 0 || version === null || !this.loaded) return
    if (this.cursor.truncated || version > view.core.length) return // the next sync() rescans; save after it
    const treeHash = await view.core.treeHash(version)
    if (this.cursor.truncated || this.cursor.version !== version) return
    this.dirtySince = 0
    try {
      await writeSnapshot(this.opts.file, version, b4a.toString(treeHash, 'hex'), this.index)
    } catch (err) {
      this.dirtySince = Date.now()
      this.opts.log?.(`could not save the memory snapshot: ${(err as Error).message}`)
    }
  }

  /** Stops the save timer; the owner calls save() before closing the view if it wants a last save. */
  close (): void {
    this.closed = true
    if (this.timer !== null) { clearTimeout(this.timer); this.timer = null }
  }
}
