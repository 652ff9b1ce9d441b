// Follows the view's state entries and reports each change once: only what changed since the last
// look (a diff of the view's versions), or a full scan, compared with what was last reported, at
// start and after the view was truncated (autobase reorders the log when writes arrive out of order).
import { KEYS, type View } from './view.js'
import type { StateEntry } from './apply.js'

export class StateSync {
  /** key -> JSON of the entry as last reported; null until the first scan (which reports nothing) */
  private seen: Map<string, string> | null = null
  /** view version `seen` reflects */
  private version = 0
  private truncated = false
  /** entries not deleted */
  count = 0

  /** Called on the view core's 'truncate'. */
  viewTruncated (): void {
    this.truncated = true
  }

  /** Calls `changed` for every entry that differs from what was last reported. */
  async sync (view: View, changed: (key: string, entry: StateEntry) => void): Promise<void> {
    const version = view.version
    const seen = this.seen
    if (seen === null || this.truncated || version < this.version) {
      this.truncated = false
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
      this.version = version
      this.count = count
      for (const entry of entries) changed(entry.key, entry)
    } else if (version > this.version) {
      const entries: StateEntry[] = []
      for await (const { left } of view.createDiffStream(this.version, KEYS.stateRange())) {
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
      this.version = version
      for (const entry of entries) changed(entry.key, entry)
    }
  }
}

function isLive (json: string): boolean {
  return (JSON.parse(json) as StateEntry).deleted !== true
}
