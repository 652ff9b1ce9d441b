// Ranked recall over a MiniSearch index without scoring what cannot make the top `limit`.
//
// MiniSearch's own search() builds a result object (terms, match lists) for every document any
// query term, prefix or fuzzy variant matches, then sorts them all: at 100k entries a common word
// costs hundreds of milliseconds. This reads the same index (its internals, pinned to minisearch
// 7.2.0), scores with the same BM25 and weights into typed arrays, and keeps the best `limit` in a
// small heap. It also widens lazily: query terms found in the index are matched exactly; prefix and
// fuzzy variants are scored for the terms the index does not hold (a fragment or a typo), and for
// every term only when the exact pass found fewer than `limit` entries.
import MiniSearch from 'minisearch'
import { internals, type Internals, type Postings } from './minisearch-internals.js'

// MiniSearch's defaults, so scores keep their meaning
const BM25 = { k: 1.2, b: 0.7, d: 0.5 }
const PREFIX_WEIGHT = 0.375
const FUZZY_WEIGHT = 0.45
const FUZZY = 0.2
const MAX_FUZZY = 2
/** shorter terms are not widened: a 1-2 letter prefix or a 3-letter fuzzy match hits most entries */
const MIN_PREFIX = 3
const MIN_FUZZY = 4
/** the quality bonus counts matched query terms up to this many; the top bit marks a touched document */
const MAX_TERMS = 31
const SEEN = 0x80000000

const tokenize = MiniSearch.getDefault('tokenize') as (text: string) => string[]
const processTerm = MiniSearch.getDefault('processTerm') as (term: string) => string | null | undefined | false

export interface Scored { id: string, score: number }

export class Scorer {
  private score = new Float64Array(0)
  private mask = new Uint32Array(0)
  /** the documents scored so far, in touched[0..touchedCount) (each once: capacity as for score) */
  private touched = new Int32Array(0)
  private touchedCount = 0
  private readonly fieldBoost: number[]
  /** per field, by short id: the field's length in terms, +1 (0: no such document). A Map lookup per
   * posting (MiniSearch's _fieldLength) costs more than all the rest of the scoring together. */
  private lengths: Float32Array[]

  /** fieldBoost: by MiniSearch field id */
  constructor (fieldBoost: number[]) {
    this.fieldBoost = fieldBoost
    this.lengths = fieldBoost.map(() => new Float32Array(0))
  }

  /** Call after search.add of the document `id`. */
  added<T> (search: MiniSearch<T>, id: string): void {
    const ix = internals(search)
    const short = ix._idToShortId.get(id)
    if (short !== undefined) this.setLengths(short, ix._fieldLength.get(short))
  }

  /** Call before search.remove of the document `id`. */
  removing<T> (search: MiniSearch<T>, id: string): void {
    const short = internals(search)._idToShortId.get(id)
    if (short !== undefined && short < this.lengths[0].length) for (const l of this.lengths) l[short] = 0
  }

  /** Call after the search index was replaced wholesale (loaded). */
  reset<T> (search: MiniSearch<T>): void {
    this.lengths = this.fieldBoost.map(() => new Float32Array(0))
    for (const [short, lengths] of internals(search)._fieldLength) this.setLengths(short, lengths)
  }

  private setLengths (short: number, lengths: number[] | undefined): void {
    if (lengths === undefined) return
    if (short >= this.lengths[0].length) {
      const size = Math.max(short + 1, this.lengths[0].length * 2, 1024)
      this.lengths = this.lengths.map((old) => { const l = new Float32Array(size); l.set(old); return l })
    }
    for (const [f, l] of this.lengths.entries()) l[short] = (lengths[f] ?? 0) + 1
  }

  static terms (query: string): string[] {
    const out = new Set<string>()
    for (const token of tokenize(query)) {
      const term = processTerm(token)
      if (typeof term === 'string' && term !== '') out.add(term)
    }
    return [...out]
  }

  /** The best `limit` documents for `query` that `accept` takes, best first. */
  recall<T> (search: MiniSearch<T>, query: string, limit: number, accept: (id: string) => boolean): Scored[] {
    const ix = internals(search)
    const terms = Scorer.terms(query).slice(0, 256)
    if (terms.length === 0) return []
    this.grow(ix._nextId)
    try {
      const widened = new Array<boolean>(terms.length).fill(false)
      for (const [i, term] of terms.entries()) {
        const postings = ix._index.get(term)
        if (postings !== undefined) this.add(ix, postings, 1, i)
        else { this.widen(ix, term, i); widened[i] = true }
      }
      if (widened.includes(false) && this.count(ix, accept, limit) < limit) {
        for (const [i, term] of terms.entries()) if (!widened[i]) this.widen(ix, term, i)
      }
      return this.best(ix, accept, limit)
    } finally {
      for (let i = 0; i < this.touchedCount; i++) { const doc = this.touched[i]; this.score[doc] = 0; this.mask[doc] = 0 }
      this.touchedCount = 0
    }
  }

  private grow (n: number): void {
    if (this.score.length >= n) return
    const size = Math.max(n, this.score.length * 2, 1024)
    this.score = new Float64Array(size)
    this.mask = new Uint32Array(size)
    this.touched = new Int32Array(size)
  }

  /** Prefix and fuzzy variants of one query term (never the term itself). */
  private widen (ix: Internals, term: string, i: number): void {
    const prefixed = new Set<string>()
    if (term.length >= MIN_PREFIX) {
      for (const [derived, postings] of ix._index.atPrefix(term)) {
        const distance = derived.length - term.length
        if (distance === 0) continue
        prefixed.add(derived)
        this.add(ix, postings, PREFIX_WEIGHT * derived.length / (derived.length + 0.3 * distance), i)
      }
    }
    if (term.length >= MIN_FUZZY) {
      const max = Math.min(MAX_FUZZY, Math.round(term.length * FUZZY))
      for (const [derived, [postings, distance]] of ix._index.fuzzyGet(term, max)) {
        if (distance === 0 || prefixed.has(derived)) continue
        this.add(ix, postings, FUZZY_WEIGHT * derived.length / (derived.length + distance), i)
      }
    }
  }

  private add (ix: Internals, postings: Postings, weight: number, i: number): void {
    const bit = (i < MAX_TERMS ? 1 << i : 0) | SEEN
    const n = ix._documentCount
    for (const [fieldId, freqs] of postings) {
      const boost = weight * (this.fieldBoost[fieldId] ?? 1)
      const df = freqs.size
      const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5))
      const avg = ix._avgFieldLength[fieldId]
      const { score, mask, touched } = this
      let count = this.touchedCount
      const lengthOf = this.lengths[fieldId] ?? new Float32Array(0)
      freqs.forEach((tf, doc) => {
        const length = lengthOf[doc] - 1 // NaN past the end, -1 for a removed document
        if (!(length >= 0)) return
        if (mask[doc] === 0) touched[count++] = doc
        score[doc] += boost * idf * (BM25.d + tf * (BM25.k + 1) / (tf + BM25.k * (1 - BM25.b + BM25.b * length / avg)))
        mask[doc] |= bit
      })
      this.touchedCount = count
    }
  }

  /** How many matched documents `accept` takes, counting up to `limit`. */
  private count (ix: Internals, accept: (id: string) => boolean, limit: number): number {
    let n = 0
    for (let i = 0; i < this.touchedCount; i++) {
      const doc = this.touched[i]
      if (accept(ix._documentIds.get(doc) as string) && ++n >= limit) break
    }
    return n
  }

  /** Top `limit` by score × number of query terms matched (MiniSearch's quality factor), via a min-heap. */
  private best (ix: Internals, accept: (id: string) => boolean, limit: number): Scored[] {
    const heap: Array<{ doc: number, score: number }> = []
    for (let i = 0; i < this.touchedCount; i++) {
      const doc = this.touched[i]
      const score = this.score[doc] * Math.max(1, popcount(this.mask[doc] & ~SEEN))
      if (heap.length >= limit && score <= heap[0].score) continue
      if (!accept(ix._documentIds.get(doc) as string)) continue
      if (heap.length < limit) { heap.push({ doc, score }); up(heap, heap.length - 1) } else { heap[0] = { doc, score }; down(heap, 0) }
    }
    return heap.sort((a, b) => b.score - a.score || a.doc - b.doc).map((h) => ({ id: ix._documentIds.get(h.doc) as string, score: h.score }))
  }
}

function popcount (x: number): number {
  x = x - ((x >>> 1) & 0x55555555)
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333)
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24
}

type Heap = Array<{ doc: number, score: number }>

function less (h: Heap, a: number, b: number): boolean {
  return h[a].score < h[b].score || (h[a].score === h[b].score && h[a].doc > h[b].doc)
}

function up (h: Heap, i: number): void {
  while (i > 0) {
    const p = (i - 1) >> 1
    if (!less(h, i, p)) break
    ;[h[i], h[p]] = [h[p], h[i]]
    i = p
  }
}

function down (h: Heap, i: number): void {
  for (;;) {
    const l = 2 * i + 1
    const r = l + 1
    let m = i
    if (l < h.length && less(h, l, m)) m = l
    if (r < h.length && less(h, r, m)) m = r
    if (m === i) return
    ;[h[i], h[m]] = [h[m], h[i]]
    i = m
  }
}
