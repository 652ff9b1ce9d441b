// The fields of a MiniSearch 7.2 instance that claudemesh reads (ranked recall) and restores (the
// index snapshot) directly. They are private to MiniSearch: its version is pinned in package.json,
// and this is the one place that names them.
import type MiniSearch from 'minisearch'

/** fieldId -> shortId -> term frequency */
export type Postings = Map<number, Map<number, number>>

export interface TermMap extends Iterable<[string, Postings]> {
  get (term: string): Postings | undefined
  set (term: string, postings: Postings): unknown
  atPrefix (prefix: string): Iterable<[string, Postings]>
  fuzzyGet (term: string, maxDistance: number): Map<string, [Postings, number]>
}

export interface Internals {
  _index: TermMap
  _documentIds: Map<number, string>
  _idToShortId: Map<string, number>
  _fieldLength: Map<number, number[]>
  _avgFieldLength: number[]
  _fieldIds: Record<string, number>
  _documentCount: number
  _nextId: number
  _dirtCount: number
}

export function internals<T> (search: MiniSearch<T>): Internals {
  return search as unknown as Internals
}
