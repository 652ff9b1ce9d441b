// Claims in apply(): decided in the log's order, so every member reaches the same verdict once it
// has the same history. Time comes from the ops (a claim's `at` plus its ttl), never from a clock.
import type { View } from './view.js'
import { KEYS } from './view.js'
import type { Author, ClaimOp, ClaimReleaseOp } from '../../protocol/ops.js'
import { patternsOverlap, CLAIM_LIMITS, type ClaimMode } from '../../protocol/claims.js'

/** The claim that stood in the way: whose, what, until when. */
export interface ClaimConflict { id: string, session: string, member: string, paths: string[], mode: ClaimMode, expiresAt: number }

export interface ClaimEntry {
  id: string
  repo: string
  paths: string[]
  mode: ClaimMode
  note: string
  at: number
  expiresAt: number
  session: { id: string, name: string }
  by: Author
  writer: string
  verdict: 'granted' | 'denied'
  /** denied: the claim that holds it, or null when the member holds too many claims */
  conflict: ClaimConflict | null
}

export function claimsConflict (a: Pick<ClaimEntry, 'repo' | 'paths' | 'mode' | 'session'>, b: Pick<ClaimEntry, 'repo' | 'paths' | 'mode' | 'session'>): boolean {
  if (a.repo !== b.repo || a.session.id === b.session.id) return false
  if (a.mode === 'shared' && b.mode === 'shared') return false
  return a.paths.some((p) => b.paths.some((q) => patternsOverlap(p, q)))
}

/**
 * The view's claims for one apply() call: read from the view once, then kept in step with every
 * write this file makes, so a batch of claim ops does not read every claim once per op. The
 * writes, and their order, are exactly those of reading the view each time: the view's blocks
 * must come out the same on every member (and every version).
 */
export class ClaimsTable {
  readonly view: View
  private entries: Map<string, ClaimEntry> | null = null

  constructor (view: View) {
    this.view = view
  }

  private async all (): Promise<Map<string, ClaimEntry>> {
    if (this.entries === null) {
      const entries = new Map<string, ClaimEntry>()
      for await (const e of this.view.createReadStream(KEYS.claimsRange)) entries.set((e.value as ClaimEntry).id, e.value as ClaimEntry)
      this.entries = entries
    }
    return this.entries
  }

  async get (id: string): Promise<ClaimEntry | undefined> {
    if (this.entries !== null) return this.entries.get(id)
    return (await this.view.get(KEYS.claim(id)))?.value as ClaimEntry | undefined
  }

  async put (entry: ClaimEntry): Promise<void> {
    await this.view.put(KEYS.claim(entry.id), entry)
    this.entries?.set(entry.id, entry)
  }

  async del (id: string): Promise<void> {
    await this.view.del(KEYS.claim(id))
    this.entries?.delete(id)
  }

  /** The claims in the view's key order (claim ids are lowercase hex, so string order is byte order). */
  async list (): Promise<ClaimEntry[]> {
    return [...(await this.all()).values()].sort((a, b) => a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  }
}

async function liveClaims (claims: ClaimsTable, at: number): Promise<{ live: ClaimEntry[], ended: string[] }> {
  const live: ClaimEntry[] = []
  const ended: string[] = []
  for (const c of await claims.list()) {
    if (c.expiresAt <= at) ended.push(c.id)
    else live.push(c)
  }
  return { live, ended }
}

export async function applyClaim (op: ClaimOp, writer: string, by: Author, claims: ClaimsTable): Promise<void> {
  const existing = await claims.get(op.id)
  if (existing !== undefined) {
    // only its own writer renews a claim, for the same session and the same paths
    if (existing.writer !== writer || existing.session.id !== op.session.id) return
    if (existing.verdict === 'granted' && existing.expiresAt > op.at) {
      await claims.put({ ...existing, expiresAt: op.at + op.ttlMs, note: op.note } satisfies ClaimEntry)
      return
    }
  }
  const { live, ended } = await liveClaims(claims, op.at)
  for (const id of ended) await claims.del(id) // ran out by this op's time: gone for every member alike
  const entry: ClaimEntry = {
    id: op.id,
    repo: op.repo,
    paths: op.paths,
    mode: op.mode,
    note: op.note,
    at: op.at,
    expiresAt: op.at + op.ttlMs,
    session: op.session,
    by,
    writer,
    verdict: 'granted',
    conflict: null
  }
  const mine = live.filter((c) => c.writer === writer && c.verdict === 'granted').length
  const holder = live.find((c) => c.verdict === 'granted' && c.id !== op.id && claimsConflict(c, entry))
  if (holder !== undefined) {
    entry.verdict = 'denied'
    entry.conflict = { id: holder.id, session: holder.session.name, member: holder.by.member, paths: holder.paths, mode: holder.mode, expiresAt: holder.expiresAt }
  } else if (mine >= CLAIM_LIMITS.perMember) {
    entry.verdict = 'denied'
  }
  await claims.put(entry)
}

export async function applyRelease (op: ClaimReleaseOp, writer: string, ownerWriter: string | null, claims: ClaimsTable): Promise<void> {
  for (const id of op.ids) {
    const c = await claims.get(id)
    if (c !== undefined && (c.writer === writer || writer === ownerWriter)) await claims.del(id)
  }
}

/** A removed member's claims end with it. */
export async function dropClaimsOf (writer: string, claims: ClaimsTable): Promise<void> {
  const ids = (await claims.list()).filter((c) => c.writer === writer).map((c) => c.id)
  for (const id of ids) await claims.del(id)
}
