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

async function liveClaims (view: View, at: number): Promise<{ live: ClaimEntry[], ended: string[] }> {
  const live: ClaimEntry[] = []
  const ended: string[] = []
  for await (const e of view.createReadStream(KEYS.claimsRange)) {
    const c = e.value as ClaimEntry
    if (c.expiresAt <= at) ended.push(c.id)
    else live.push(c)
  }
  return { live, ended }
}

export async function applyClaim (op: ClaimOp, writer: string, by: Author, view: View): Promise<void> {
  const existing = (await view.get(KEYS.claim(op.id)))?.value as ClaimEntry | undefined
  if (existing !== undefined) {
    // only its own writer renews a claim, for the same session and the same paths
    if (existing.writer !== writer || existing.session.id !== op.session.id) return
    if (existing.verdict === 'granted' && existing.expiresAt > op.at) {
      await view.put(KEYS.claim(op.id), { ...existing, expiresAt: op.at + op.ttlMs, note: op.note } satisfies ClaimEntry)
      return
    }
  }
  const { live, ended } = await liveClaims(view, op.at)
  for (const id of ended) await view.del(KEYS.claim(id)) // ran out by this op's time: gone for every member alike
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
  await view.put(KEYS.claim(op.id), entry)
}

export async function applyRelease (op: ClaimReleaseOp, writer: string, ownerWriter: string | null, view: View): Promise<void> {
  for (const id of op.ids) {
    const c = (await view.get(KEYS.claim(id)))?.value as ClaimEntry | undefined
    if (c !== undefined && (c.writer === writer || writer === ownerWriter)) await view.del(KEYS.claim(id))
  }
}

/** A removed member's claims end with it. */
export async function dropClaimsOf (writer: string, view: View): Promise<void> {
  const ids: string[] = []
  for await (const e of view.createReadStream(KEYS.claimsRange)) if ((e.value as ClaimEntry).writer === writer) ids.push((e.value as ClaimEntry).id)
  for (const id of ids) await view.del(KEYS.claim(id))
}
