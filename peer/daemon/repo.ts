// Which repository a path is in, by an identity every machine agrees on: its git remote `origin`
// normalized (`github.com/team/app`, whatever the protocol or user), else the first remote, else
// the repository folder's name; outside a repository, the folder's own name. Claims name globs
// relative to the repository's root, so two checkouts in different places mean the same files.
import fs from 'node:fs'
import path from 'node:path'
import { normalizeRemote } from '../../protocol/claims.js'

export interface Repo { id: string, root: string }

const cache = new Map<string, { repo: Repo, at: number }>()
const CACHE_MS = 10_000

export function repoOf (dir: string): Repo {
  const hit = cache.get(dir)
  if (hit !== undefined && Date.now() - hit.at < CACHE_MS) return hit.repo
  const repo = find(path.resolve(dir))
  cache.set(dir, { repo, at: Date.now() })
  if (cache.size > 1024) cache.delete(cache.keys().next().value as string)
  return repo
}

function find (start: string): Repo {
  let dir = start
  for (;;) {
    const dotgit = path.join(dir, '.git')
    let stat: fs.Stats | null = null
    try { stat = fs.statSync(dotgit) } catch {}
    if (stat !== null) {
      const gitDir = stat.isDirectory() ? dotgit : linkedGitDir(dotgit, dir)
      const remote = gitDir === null ? null : remoteOf(gitDir)
      return { id: remote ?? path.basename(dir), root: dir }
    }
    const up = path.dirname(dir)
    if (up === dir) return { id: path.basename(start) || '/', root: start }
    dir = up
  }
}

/** A worktree or submodule: `.git` is a file naming the real git folder (whose config may be its parent's). */
function linkedGitDir (file: string, dir: string): string | null {
  try {
    const m = /^gitdir:\s*(.+)$/m.exec(fs.readFileSync(file, 'utf-8'))
    if (m === null) return null
    const gitDir = path.resolve(dir, m[1].trim())
    const common = path.join(gitDir, 'commondir')
    return fs.existsSync(common) ? path.resolve(gitDir, fs.readFileSync(common, 'utf-8').trim()) : gitDir
  } catch {
    return null
  }
}

function remoteOf (gitDir: string): string | null {
  let config: string
  try { config = fs.readFileSync(path.join(gitDir, 'config'), 'utf-8') } catch { return null }
  const remotes: Array<{ name: string, url: string }> = []
  let current: string | null = null
  for (const line of config.split('\n')) {
    const section = /^\s*\[remote\s+"([^"]+)"\]\s*$/.exec(line)
    if (section !== null) { current = section[1]; continue }
    if (/^\s*\[/.test(line)) { current = null; continue }
    const url = /^\s*url\s*=\s*(.+?)\s*$/.exec(line)
    if (current !== null && url !== null) remotes.push({ name: current, url: url[1] })
  }
  const chosen = remotes.find((r) => r.name === 'origin') ?? remotes[0]
  return chosen === undefined ? null : normalizeRemote(chosen.url)
}

/** A path as a claim names it: relative to the repository root; null when it is outside it. */
export function relativeTo (repo: Repo, file: string): string | null {
  const rel = path.relative(repo.root, file)
  if (rel === '' ) return '.'
  if (rel.startsWith('..') || path.isAbsolute(rel)) return null
  return rel.split(path.sep).join('/')
}
