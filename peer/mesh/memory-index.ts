// The daemon's ranked, fuzzy, prefix search over a mesh's memory entries (MiniSearch), kept in step
// with the view: entries are added and removed as the view changes, from any writer.
import MiniSearch from 'minisearch'
import type { MemoryEntry } from './apply.js'

export interface RecallHit { id: string, content: string, tags: string[], by: MemoryEntry['by'], at: number, score: number }

interface Doc { id: string, content: string, tags: string }

export class MemoryIndex {
  private readonly search = new MiniSearch<Doc>({
    fields: ['content', 'tags'],
    searchOptions: { prefix: true, fuzzy: 0.2, boost: { tags: 2 }, combineWith: 'OR' }
  })
  private readonly entries = new Map<string, MemoryEntry>()

  get size (): number {
    return this.entries.size
  }

  has (id: string): boolean {
    return this.entries.has(id)
  }

  add (entry: MemoryEntry): void {
    if (this.entries.has(entry.id)) return
    this.entries.set(entry.id, entry)
    this.search.add({ id: entry.id, content: entry.content, tags: entry.tags.join(' ') })
  }

  remove (id: string): void {
    if (!this.entries.delete(id)) return
    this.search.discard(id)
  }

  ids (): string[] {
    return [...this.entries.keys()]
  }

  recall (query: string, limit: number, tags: string[] = []): RecallHit[] {
    const results = this.search.search(query, tags.length === 0 ? undefined : { filter: (r) => tags.every((t) => this.entries.get(r.id)?.tags.includes(t) === true) })
    const hits: RecallHit[] = []
    for (const r of results) {
      const e = this.entries.get(r.id as string)
      if (e === undefined) continue
      hits.push({ id: e.id, content: e.content, tags: e.tags, by: e.by, at: e.at, score: Math.round(r.score * 1000) / 1000 })
      if (hits.length >= limit) break
    }
    return hits
  }
}
