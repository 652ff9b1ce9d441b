// The daemon's ranked, fuzzy, prefix search over a mesh's memory entries (MiniSearch), kept in step
// with the view: entries are added and removed as the view changes, from any writer. Its parts (the
// entries and the MiniSearch index) are what the snapshot a daemon starts from holds.
import MiniSearch, { type Options } from 'minisearch'
import type { MemoryEntry } from './apply.js'
import { Scorer } from './memory-recall.js'

export interface RecallHit { id: string, content: string, tags: string[], by: MemoryEntry['by'], at: number, score: number }

export interface Doc { id: string, content: string, tags: string }

const FIELDS = ['content', 'tags']
/** by field id (the order of FIELDS): tags weigh twice as much */
const BOOST = [1, 2]
const OPTIONS: Options<Doc> = { fields: FIELDS }

export class MemoryIndex {
  private readonly search: MiniSearch<Doc>
  private readonly entries: Map<string, MemoryEntry>
  private readonly scorer = new Scorer(BOOST)

  constructor (search = MemoryIndex.emptySearch(), entries = new Map<string, MemoryEntry>()) {
    this.search = search
    this.entries = entries
    this.scorer.reset(search)
  }

  /** A MiniSearch with this index's options (fields), empty. */
  static emptySearch (): MiniSearch<Doc> {
    return new MiniSearch<Doc>(OPTIONS)
  }

  /** From saved parts; throws if the entries and the search index disagree. */
  static fromParts (entries: MemoryEntry[], search: MiniSearch<Doc>): MemoryIndex {
    const byId = new Map<string, MemoryEntry>()
    for (const e of entries) byId.set(e.id, e)
    if (byId.size !== search.documentCount || !entries.every((e) => search.has(e.id))) throw new Error('the entries and the search index disagree')
    return new MemoryIndex(search, byId)
  }

  /** What a snapshot saves: serialize it before anything changes the index again. */
  parts (): { entries: MemoryEntry[], search: MiniSearch<Doc> } {
    return { entries: [...this.entries.values()], search: this.search }
  }

  get size (): number {
    return this.entries.size
  }

  has (id: string): boolean {
    return this.entries.has(id)
  }

  add (entry: MemoryEntry): void {
    if (this.entries.has(entry.id)) return
    this.entries.set(entry.id, entry)
    this.search.add(doc(entry))
    this.scorer.added(this.search, entry.id)
  }

  remove (id: string): void {
    const entry = this.entries.get(id)
    if (entry === undefined) return
    this.entries.delete(id)
    this.scorer.removing(this.search, id)
    this.search.remove(doc(entry)) // not discard(): leaves no stale postings behind for recall to skip
  }

  ids (): string[] {
    return [...this.entries.keys()]
  }

  recall (query: string, limit: number, tags: string[] = []): RecallHit[] {
    const accept = tags.length === 0 ? () => true : (id: string) => { const e = this.entries.get(id); return e !== undefined && tags.every((t) => e.tags.includes(t)) }
    const hits: RecallHit[] = []
    for (const r of this.scorer.recall(this.search, query, limit, accept)) {
      const e = this.entries.get(r.id)
      if (e === undefined) continue
      hits.push({ id: e.id, content: e.content, tags: e.tags, by: e.by, at: e.at, score: Math.round(r.score * 1000) / 1000 })
    }
    return hits
  }
}

function doc (entry: MemoryEntry): Doc {
  return { id: entry.id, content: entry.content, tags: entry.tags.join(' ') }
}
