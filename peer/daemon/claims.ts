// Claims on this daemon's side: what a claim answers (granted only once settled, pending until
// then, denied naming the holder), telling a session when its pending claim settles (denied or
// granted, never silently), and ending a session's claims when it ends.
import { randomBytes, toHex } from '../../protocol/crypto.js'
import { MeshError } from '../../protocol/errors.js'
import { badPattern, normalizePattern, pathMatches } from '../../protocol/claims.js'
import type { Mesh } from '../mesh/mesh.js'
import type { ClaimEntry } from '../mesh/claims-apply.js'
import type { Author } from '../../protocol/ops.js'
import type { ClaimView, ClaimAnswer, ClaimStatus } from './contract.js'
import { repoOf, relativeTo, type Repo } from './repo.js'
import path from 'node:path'

/** how long a claim's answer waits for the mesh to settle it before saying `pending` */
const SETTLE_WAIT_MS = 3000
/** pending claims are looked at again this often (signatures arrive without a view update) */
const PENDING_CHECK_MS = 500

export interface ClaimNotice { claim: ClaimView, status: ClaimStatus }

interface Pending { mesh: Mesh, sessionId: string, tell: (notice: ClaimNotice) => void }

/** The repository of a file: the one of the working directory (a git repository, or outside git the folder itself) when the file is in it, else the file's own. */
export function repoContaining (file: string, cwd: string | null): Repo {
  if (cwd !== null) {
    const here = repoOf(cwd)
    if (relativeTo(here, file) !== null) return here
  }
  return repoOf(path.dirname(file))
}

export class Claims {
  private readonly now: () => number
  private readonly pending = new Map<string, Pending>()
  private timer: NodeJS.Timeout | null = null

  constructor (now: () => number) {
    this.now = now
  }

  /** claims seen settled: a renewal (a newer record, not settled yet) does not make a grant pending again */
  private readonly settled = new Set<string>()

  async status (mesh: Mesh, c: ClaimEntry): Promise<ClaimStatus> {
    if (!this.settled.has(c.id)) {
      if (!(await mesh.claimSettled(c.id))) return 'pending'
      this.settled.add(c.id)
      if (this.settled.size > 100_000) this.settled.delete(this.settled.values().next().value as string)
    }
    return c.verdict === 'granted' ? 'granted' : 'denied'
  }

  async view (mesh: Mesh, c: ClaimEntry): Promise<ClaimView> {
    return { ...c, status: await this.status(mesh, c) }
  }

  /** Live claims (by this daemon's clock) that hold something: granted or not settled yet. */
  async live (mesh: Mesh): Promise<ClaimView[]> {
    const now = this.now()
    const out: ClaimView[] = []
    for (const c of await mesh.listClaims()) {
      if (c.expiresAt <= now) continue
      const v = await this.view(mesh, c)
      if (v.status !== 'denied' || c.verdict === 'granted') out.push(v)
    }
    return out
  }

  /** Paths as a claim names them: relative to the session's repository; resources as they are. */
  normalize (paths: string[], cwd: string): { repo: string, paths: string[] } {
    const repo = repoOf(cwd)
    const out: string[] = []
    paths.forEach((p, i) => {
      let rel = p.trim()
      if (path.isAbsolute(rel)) {
        const inside = relativeTo(repo, rel)
        if (inside === null) throw MeshError.BAD_INPUT(`claim.paths.${i}`, `"${p.slice(0, 200)}" is outside the repository (${repo.root}): name paths relative to it`)
        rel = inside
      }
      const why = badPattern(rel)
      if (why !== null) throw MeshError.BAD_INPUT(`claim.paths.${i}`, why)
      const normal = normalizePattern(rel)
      if (normal === '') throw MeshError.BAD_INPUT(`claim.paths.${i}`, 'names the whole repository: claim its folders or files instead')
      if (!out.includes(normal)) out.push(normal)
    })
    return { repo: repo.id, paths: out.sort() }
  }

  /**
   * Claims (or renews: the same session, paths and mode as one it holds) and answers once the
   * mesh settled it, or `pending` after a few seconds; a pending claim is watched and its session
   * told how it ended.
   */
  async claim (mesh: Mesh, opts: { session: { id: string, name: string }, cwd: string, paths: string[], mode: 'exclusive' | 'shared', ttlMs: number, note: string, by: Author, tell: (n: ClaimNotice) => void }): Promise<ClaimAnswer> {
    const { repo, paths } = this.normalize(opts.paths, opts.cwd)
    const now = this.now()
    const held = (await mesh.listClaims()).find((c) => c.session.id === opts.session.id && c.verdict === 'granted' && c.expiresAt > now && c.repo === repo && c.mode === opts.mode && JSON.stringify(c.paths) === JSON.stringify(paths))
    const id = held?.id ?? toHex(randomBytes(16))
    const entry = await mesh.claim({ id, repo, paths, mode: opts.mode, ttlMs: opts.ttlMs, note: opts.note, session: opts.session, by: opts.by })
    let status = await this.status(mesh, entry)
    if (status === 'pending') status = await this.settle(mesh, id, SETTLE_WAIT_MS)
    const claim = { ...(await mesh.getClaim(id) ?? entry), status }
    if (status === 'pending') this.watch(id, { mesh, sessionId: opts.session.id, tell: opts.tell })
    return { claim, status, renewed: held !== undefined }
  }

  /** Waits (up to `ms`) for the claim to settle; its status then. */
  private async settle (mesh: Mesh, id: string, ms: number): Promise<ClaimStatus> {
    const deadline = Date.now() + ms
    for (;;) {
      const c = await mesh.getClaim(id)
      if (c === null) return 'denied'
      const status = await this.status(mesh, c)
      if (status !== 'pending' || Date.now() >= deadline) return status
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.min(PENDING_CHECK_MS, Math.max(1, deadline - Date.now())))
        function done (): void { clearTimeout(timer); mesh.off('claims', done); resolve() }
        mesh.once('claims', done)
      })
    }
  }

  private watch (id: string, p: Pending): void {
    this.pending.set(id, p)
    if (this.timer !== null) return
    const check = (): void => { this.checkPending().catch(() => {}) }
    this.timer = setInterval(check, PENDING_CHECK_MS)
    this.timer.unref()
  }

  private async checkPending (): Promise<void> {
    for (const [id, p] of [...this.pending]) {
      const c = await p.mesh.getClaim(id)
      if (c === null) { this.pending.delete(id); continue }
      const status = await this.status(p.mesh, c)
      if (status === 'pending') continue
      this.pending.delete(id)
      p.tell({ claim: { ...c, status }, status })
    }
    if (this.pending.size === 0 && this.timer !== null) { clearInterval(this.timer); this.timer = null }
  }

  /** Ends a session's claims (it ended). */
  async releaseSession (mesh: Mesh, sessionId: string, by: Author): Promise<string[]> {
    const ids = (await mesh.listClaims()).filter((c) => c.session.id === sessionId && c.writer === mesh.localWriter).map((c) => c.id)
    for (const id of ids) this.pending.delete(id)
    if (ids.length > 0 && mesh.writable) await mesh.releaseClaims(ids, by)
    return ids
  }

  /** The claim of another session that holds `file` exclusively (granted or pending), if any. */
  async holderOf (mesh: Mesh, file: string, sessionId: string | null, cwd: string | null): Promise<{ claim: ClaimView | null, repo: string, path: string | null }> {
    const repo = repoContaining(file, cwd)
    const rel = relativeTo(repo, file)
    if (rel === null) return { claim: null, repo: repo.id, path: null }
    const now = this.now()
    for (const c of await mesh.listClaims()) {
      if (c.expiresAt <= now || c.repo !== repo.id || c.session.id === sessionId || c.verdict !== 'granted') continue
      if (c.mode !== 'exclusive') continue
      if (c.paths.some((p) => pathMatches(p, rel))) return { claim: await this.view(mesh, c), repo: repo.id, path: rel }
    }
    return { claim: null, repo: repo.id, path: rel }
  }

  close (): void {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
    this.pending.clear()
  }
}
