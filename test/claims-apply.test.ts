// Claims in apply(): a batch keeps the view's claims in memory (ClaimsTable) instead of reading
// them all for every claim op. The view it writes must be the very same blocks as reading the view
// for every read, as apply() did before (a member on either version must build the same view). A seeded mix of
// claims, renewals, releases and removed members, on real hyperbees in temp folders.
import test from 'brittle'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import Corestore from 'corestore'
import Hyperbee from 'hyperbee'
import { applyClaim, applyRelease, dropClaimsOf, ClaimsTable, type ClaimEntry } from '../peer/mesh/claims-apply.js'
import { KEYS } from '../peer/mesh/view.js'
import type { ClaimOp, ClaimReleaseOp } from '../protocol/ops.js'
import type { View } from '../peer/mesh/view.js'

interface T { teardown (fn: () => unknown, opts?: { order?: number }): void }

type Step = { kind: 'claim', writer: string, op: ClaimOp } | { kind: 'release', writer: string, op: ClaimReleaseOp } | { kind: 'drop', writer: string }

function steps (count: number, seed: number): Step[] {
  const rnd = (): number => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648 }
  const pick = <X>(a: X[]): X => a[Math.floor(rnd() * a.length)] as X
  const hex = (n: number): string => Array.from({ length: n }, () => pick([...'0123456789abcdef'])).join('')
  const writers = ['a', 'b', 'c'].map((x) => x.repeat(64))
  const sessions = [1, 2, 3, 4].map((i) => ({ id: String(i).repeat(64), name: `s${i}` }))
  const globs = ['src/**', 'src/api/**', 'src/api/orders.ts', 'docs/*.md', 'docs/guide.md', 'lib', 'staging-db', 'src/*.ts']
  const ids: string[] = []
  const out: Step[] = []
  let at = 1_000_000
  for (let i = 0; i < count; i++) {
    at += Math.floor(rnd() * 2000)
    const r = rnd()
    if (r < 0.8 || ids.length === 0) {
      const id = rnd() < 0.15 && ids.length > 0 ? pick(ids) : hex(32) // some renewals, some ids reused by another session
      if (!ids.includes(id)) ids.push(id)
      const session = pick(sessions)
      const paths = [pick(globs), ...(rnd() < 0.3 ? [pick(globs)] : [])]
      out.push({ kind: 'claim', writer: pick(writers), op: { type: 'claim', v: 1, at, id, repo: pick(['github.com/team/app', 'github.com/team/web']), paths, mode: rnd() < 0.3 ? 'shared' : 'exclusive', ttlMs: pick([60_000, 600_000, 3_600_000]), note: `n${i}`, session, by: { session: session.name, sessionId: session.id, member: 'm' } } })
    } else if (r < 0.99) {
      out.push({ kind: 'release', writer: pick(writers), op: { type: 'claim.release', v: 1, at, ids: [pick(ids), ...(rnd() < 0.3 ? [pick(ids)] : [])], by: { session: null, sessionId: null, member: 'm' } } })
    } else {
      out.push({ kind: 'drop', writer: pick(writers) })
    }
  }
  return out
}

async function bee (t: T): Promise<View> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cm-claims-apply-'))
  const store = new Corestore(dir)
  const view = new Hyperbee(store.get({ name: 'view' }), { keyEncoding: 'utf-8', valueEncoding: 'json' }) as View
  await view.ready()
  t.teardown(async () => { await view.close(); await store.close(); fs.rmSync(dir, { recursive: true, force: true }) })
  return view
}

/** The reads as apply() made them before the table: the view itself, every time, in its key order. */
class ViewEveryTime extends ClaimsTable {
  override async get (id: string): Promise<ClaimEntry | undefined> {
    return (await this.view.get(KEYS.claim(id)))?.value as ClaimEntry | undefined
  }

  override async list (): Promise<ClaimEntry[]> {
    const out: ClaimEntry[] = []
    for await (const e of this.view.createReadStream(KEYS.claimsRange)) out.push(e.value as ClaimEntry)
    return out
  }
}

/** Applies the steps, with a new table every `batch` steps; batch 0: reading the view for everything. */
async function applyAll (view: View, all: Step[], batch: number): Promise<void> {
  let claims = batch === 0 ? new ViewEveryTime(view) : new ClaimsTable(view)
  for (const [i, s] of all.entries()) {
    if (batch > 0 && i % batch === 0) claims = new ClaimsTable(view)
    if (s.kind === 'claim') await applyClaim(s.op, s.writer, s.op.by, claims)
    else if (s.kind === 'release') await applyRelease(s.op, s.writer, 'a'.repeat(64), claims)
    else await dropClaimsOf(s.writer, claims)
  }
}

test('a batch that keeps the claims in memory writes the very same view as reading it for every op', { timeout: 60_000 }, async (t) => {
  const all = steps(800, 42)
  const afresh = await bee(t)
  const batched = await bee(t)
  await applyAll(afresh, all, 0)
  await applyAll(batched, all, 97)
  const entries = async (v: View): Promise<Array<{ key: unknown, value: unknown }>> => {
    const out: Array<{ key: unknown, value: unknown }> = []
    for await (const e of v.createReadStream()) out.push({ key: e.key, value: e.value })
    return out
  }
  const [a, b] = [await entries(afresh), await entries(batched)]
  t.ok(a.length > 50, `a view with many claims to decide against (${a.length})`)
  t.ok(a.some((e) => (e.value as { verdict: string }).verdict === 'denied') && a.some((e) => (e.value as { verdict: string }).verdict === 'granted'), 'granted and denied ones')
  t.alike(b, a, 'the same claims and verdicts')
  t.is(batched.core.length, afresh.core.length, 'the same number of blocks')
  t.alike(await batched.core.treeHash(), await afresh.core.treeHash(), 'the same blocks: one tree hash')
})
