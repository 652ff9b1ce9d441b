// The daemon's ranked, fuzzy, prefix search over a mesh's memory entries (MiniSearch), kept in step
// with the view: entries are added and removed as the view changes, from any writer. It serializes
// to a plain object (the MiniSearch index and the entries) for the snapshot a daemon starts from.
import MiniSearch, { type Options } from 'minisearch'
import type { MemoryEntry } from './apply.js'
import { Scorer } from './memory-recall.js'

export interface RecallHit { id: string, content: string, tags: string[], by: MemoryEntry['by'], at: number, score: number }

interface Doc { id: string, content: string, tags: string }

/** What toJSON() gives and fromJSON() takes. */
export interface MemoryIndexJSON { entries: MemoryEntry[], search: unknown }

const FIELDS = ['content', 'tags']
/** by field id (the order of FIELDS): tags weigh twice as much */
const BOOST = [1, 2]
const OPTIONS: Options<Doc> = { fields: FIELDS }

export class MemoryIndex {
  private readonly search: MiniSearch<Doc>
  private readonly entries: Map<string, MemoryEntry>
  private readonly scorer = new Scorer(BOOST)

  constructor (search = new MiniSearch<Doc>(OPTIONS), entries = new Map<string, MemoryEntry>()) {
    this.search = search
    this.entries = entries
    this.scorer.reset(search)
  }

  /** Throws if `json` is not an index this version wrote, or does not agree with itself. */
  static async fromJSON (json: MemoryIndexJSON): Promise<MemoryIndex> {
    if (!Array.isArray(json.entries) || typeof json.search !== 'object' || json.search === null) throw new Error('not a memory index')
    const search = await MiniSearch.loadJSAsync<Doc>(json.search as Parameters<typeof MiniSearch.loadJS>[0], OPTIONS)
    const entries = new Map<string, MemoryEntry>()
    for (const e of json.entries) entries.set(e.id, e)
    if (entries.size !== search.documentCount || !json.entries.every((e) => search.has(e.id))) throw new Error('the entries and the search index disagree')
    return new MemoryIndex(search, entries)
  }

  toJSON (): MemoryIndexJSON {
    return { entries: [...this.entries.values()], search: this.search.toJSON() }
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
