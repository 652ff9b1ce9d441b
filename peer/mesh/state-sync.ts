// Follows the view's state entries and reports each change once: only what changed since the last
// look (a diff of the view's versions), or a full scan, compared with what was last reported, at
// start and after the view was truncated (autobase reorders the log when writes arrive out of order).
import { KEYS, ViewCursor, type View } from './view.js'
import type { StateEntry } from './apply.js'

export class StateSync {
  /** key -> JSON of the entry as last reported; null until the first scan (which reports nothing) */
  private seen: Map<string, string> | null = null
  /** the view version `seen` reflects */
  readonly cursor = new ViewCursor()
  /** entries not deleted */
  count = 0

  /** Calls `changed` for every entry that differs from what was last reported. */
  async sync (view: View, changed: (key: string, entry: StateEntry) => void): Promise<void> {
    const version = view.version
    const seen = this.seen
    const step = this.cursor.step(view)
    if (seen === null || step === 'full') {
      const now = new Map<string, string>()
      const entries: StateEntry[] = []
      let count = 0
      for await (const e of view.createReadStream(KEYS.stateRange())) {
        const entry = e.value as StateEntry
        const json = JSON.stringify(entry)
        now.set(entry.key, json)
        if (entry.deleted !== true) count++
        if (seen !== null && seen.get(entry.key) !== json) entries.push(entry)
      }
      this.seen = now
      this.cursor.version = version
      this.count = count
      for (const entry of entries) changed(entry.key, entry)
    } else if (step === 'diff') {
      const entries: StateEntry[] = []
      for await (const { left } of view.createDiffStream(this.cursor.version ?? 0, KEYS.stateRange())) {
        if (left === null) continue // entries are never deleted from the view (a delete is a tombstone), except by a truncation
        const entry = left.value as StateEntry
        const json = JSON.stringify(entry)
        const before = seen.get(entry.key)
        if (before === json) continue
        const live = entry.deleted !== true
        if (live !== (before !== undefined && isLive(before))) this.count += live ? 1 : -1
        seen.set(entry.key, json)
        entries.push(entry)
      }
      this.cursor.version = version
      for (const entry of entries) changed(entry.key, entry)
    }
  }
}

function isLive (json: string): boolean {
  return (JSON.parse(json) as StateEntry).deleted !== true
}
