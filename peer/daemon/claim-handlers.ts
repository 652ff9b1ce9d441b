// IPC methods for claims: a session claims and releases; anyone here lists them; the PreToolUse
// hook asks whether a file another session holds may be edited.
import type { Daemon } from './daemon.js'
import type { LocalSession, MeshSessions } from './sessions.js'
import { caller } from './caller.js'
import { MeshError } from '../../protocol/errors.js'
import { pathMatches, normalizePattern } from '../../protocol/claims.js'
import { repoOf, relativeTo } from './repo.js'
import { claimNoticeText } from '../mcp/format.js'
import { repoContaining, type ClaimNotice } from './claims.js'
import path from 'node:path'
import type { ClaimCheck } from './contract.js'
import type { GuardAnswer } from './guard-port.js'
import { targetOf, guardOutput } from '../cli/guard-hook.js'
import { lineageOf } from './process.js'

export function registerClaimHandlers (daemon: Daemon): void {
  const ipc = daemon.ipc

  ipc.handle('claims.claim', async (p, conn) => {
    const c = caller(daemon, conn, null)
    if (c.session === null) throw MeshError.BAD_INPUT('claim', 'only a Claude Code session claims (its MCP server); a person can list and release claims')
    const session = c.session
    const sessions = c.sessions
    return await daemon.claims.claim(c.mesh, {
      session: { id: session.info.id, name: session.info.name },
      cwd: session.info.cwd,
      paths: p.paths,
      mode: p.mode,
      ttlMs: p.ttlMs,
      note: p.note,
      by: c.by,
      tell: (n) => tell(sessions, session, n)
    })
  })

  ipc.handle('claims.release', async (p, conn) => {
    const c = caller(daemon, conn, p.mesh)
    const now = daemon.clock.now()
    const all = await c.mesh.listClaims()
    let ids: string[]
    if (p.all) {
      if (c.session === null) throw MeshError.BAD_INPUT('release.all', 'is for a session (its own claims); a person names claim ids')
      ids = all.filter((x) => x.session.id === c.session?.info.id).map((x) => x.id)
    } else {
      ids = p.ids ?? []
      if (ids.length === 0) throw MeshError.BAD_INPUT('release.ids', 'must name at least one claim id (or pass all: true)')
      for (const [i, id] of ids.entries()) {
        const claim = all.find((x) => x.id === id)
        if (claim === undefined || claim.expiresAt <= now) throw MeshError.BAD_INPUT(`release.ids.${i}`, `no live claim ${id}`)
        const own = c.session === null ? claim.writer === c.mesh.localWriter : claim.session.id === c.session.info.id
        if (!own && !c.mesh.isOwner) throw MeshError.BAD_INPUT(`release.ids.${i}`, `claim ${id} is ${claim.session.name}'s on ${claim.by.member}: only its holder (or the mesh owner) can release it`)
      }
    }
    if (ids.length > 0) await c.mesh.releaseClaims(ids, c.by)
    return { released: ids }
  })

  ipc.handle('claims.list', async (p, conn) => {
    const c = caller(daemon, conn, p.mesh)
    if (p.mine && c.session === null) throw MeshError.BAD_INPUT('list_claims.mine', 'is for a session')
    const repo = c.session === null ? null : repoOf(c.session.info.cwd)
    let wanted: string | null = null
    if (p.path !== undefined && p.path !== null && p.path.trim() !== '') {
      const given = p.path.trim()
      wanted = path.isAbsolute(given) && repo !== null ? relativeTo(repo, given) ?? given : normalizePattern(given)
    }
    const holder = p.holder?.trim() ?? ''
    return (await daemon.claims.live(c.mesh)).filter((x) =>
      (!p.mine || x.session.id === c.session?.info.id) &&
      (holder === '' || x.session.name === holder || x.by.member === holder || (holder.length >= 4 && x.session.id.startsWith(holder))) &&
      (wanted === null || x.paths.some((q) => pathMatches(q, wanted as string) || pathMatches(wanted as string, q))))
  })

  ipc.handle('claims.check', async (p) => await checkClaims(daemon, p))
}

/** Whether `path` (from `cwd`) is held by a claim that is not the session's among `pids`: the guard's question. */
export async function checkClaims (daemon: Daemon, p: { pids: number[], path: string, cwd?: string | null }): Promise<ClaimCheck> {
  const decision = daemon.settings.claims?.guard === 'deny' ? 'deny' : 'ask'
  const found = daemon.sessionByPids(p.pids)
  const file = path.resolve(p.cwd ?? '/', p.path)
  const meshes = found !== null ? [found.sessions.mesh] : [...daemon.meshes.values()]
  for (const mesh of meshes) {
    const r = await daemon.claims.holderOf(mesh, file, found?.session.info.id ?? null, p.cwd ?? found?.session.info.cwd ?? null)
    if (r.claim !== null) return { holder: r.claim, decision, repo: r.repo, path: r.path }
  }
  const repo = repoContaining(file, p.cwd ?? found?.session.info.cwd ?? null)
  return { holder: null, decision, repo: repo.id, path: relativeTo(repo, file) }
}

/** The guard port's answer to one PreToolUse call (what `claudemesh hook PreToolUse` would print). */
export async function answerGuard (daemon: Daemon, input: Record<string, unknown>, pid: number): Promise<GuardAnswer> {
  const target = targetOf(input)
  if (target === null) return { stdout: '', stderr: '' }
  const cwd = typeof input.cwd === 'string' && input.cwd.length > 0 && input.cwd.length <= 4096 ? input.cwd : null
  const check = await checkClaims(daemon, { pids: lineageOf(pid), path: target, cwd })
  return { stdout: guardOutput(check) ?? '', stderr: '' }
}

function tell (sessions: MeshSessions, session: LocalSession, n: ClaimNotice): void {
  if (!sessions.local.has(session.info.id)) return
  sessions.notify(session, claimNoticeText(n), { kind: 'claim', claim_id: n.claim.id, status: n.status, paths: n.claim.paths.join(', '), ...(n.claim.conflict !== null ? { holder: n.claim.conflict.session } : {}) })
}

