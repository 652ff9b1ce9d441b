// Claims: advisory locks on files (globs relative to a repository) or free-form resources, decided
// in the mesh's log. Pure code: which patterns overlap, what a claim names, a repository's identity.

export const CLAIM_MODES = ['exclusive', 'shared'] as const
export type ClaimMode = typeof CLAIM_MODES[number]

export const CLAIM_LIMITS = {
  paths: 32,
  path: 512,
  note: 512,
  repo: 512,
  minTtlMs: 60_000,
  defaultTtlMs: 30 * 60_000,
  maxTtlMs: 24 * 3600_000,
  /** live claims one member may hold in a mesh: past it, its new claims are denied */
  perMember: 256,
  /** ids one release names */
  releaseIds: 256
} as const

/** Why a path pattern is not one a claim can name, or null. Relative, forward slashes, no `..`. */
export function badPattern (p: string): string | null {
  if (p.length === 0) return 'must not be empty'
  if (p.length > CLAIM_LIMITS.path) return `must be at most ${CLAIM_LIMITS.path} characters`
  if (/[\u0000-\u001f\u007f]/.test(p)) return 'must not contain control characters'
  if (p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p)) return 'must be relative to the repository (an absolute path outside it cannot be claimed)'
  if (p.includes('\\')) return 'must use "/" between folders'
  if (p.split('/').some((s) => s === '..')) return 'must not go up a folder ("..")'
  return null
}

/** `./src//a/` -> `src/a`: the form patterns are compared in. */
export function normalizePattern (p: string): string {
  return p.split('/').filter((s) => s !== '' && s !== '.').join('/')
}

function hasWildcard (segment: string): boolean {
  return /[*?[]/.test(segment)
}

function segmentRegex (segment: string): RegExp {
  let out = ''
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i]
    if (c === '*') out += '[^/]*'
    else if (c === '?') out += '[^/]'
    else if (c === '[') {
      const end = segment.indexOf(']', i + 1)
      if (end === -1) { out += '\\['; continue }
      const body = segment.slice(i + 1, end).replace(/\\/g, '\\\\')
      out += `[${body.startsWith('!') ? '^' + body.slice(1) : body}]`
      i = end
    } else out += c.replace(/[.+^${}()|\\]/g, '\\$&')
  }
  return new RegExp(`^${out}$`)
}

/** Whether two segments (no `/`) can match one name. Sound: never says no where they can. */
function segmentsOverlap (a: string, b: string): boolean {
  const wa = hasWildcard(a)
  const wb = hasWildcard(b)
  if (!wa && !wb) return a === b
  if (!wa) return segmentRegex(b).test(a)
  if (!wb) return segmentRegex(a).test(b)
  // both wildcards: compare the fixed text before the first and after the last wildcard
  const pre = (s: string): string => s.slice(0, s.search(/[*?[]/))
  const suf = (s: string): string => s.slice(Math.max(s.lastIndexOf('*'), s.lastIndexOf('?'), s.lastIndexOf(']')) + 1)
  const [pa, pb, sa, sb] = [pre(a), pre(b), suf(a), suf(b)]
  return (pa.startsWith(pb) || pb.startsWith(pa)) && (sa.endsWith(sb) || sb.endsWith(sa))
}

/**
 * Whether two patterns can match a common path (`**` spans folders, `*` and `?` stay in one).
 * A pattern also covers everything below what it names: `src/api` overlaps `src/api/x.ts`.
 */
export function patternsOverlap (a: string, b: string): boolean {
  const sa = normalizePattern(a).split('/')
  const sb = normalizePattern(b).split('/')
  const memo = new Map<string, boolean>()
  const go = (i: number, j: number): boolean => {
    const key = `${i},${j}`
    const known = memo.get(key)
    if (known !== undefined) return known
    let result: boolean
    if (i === sa.length || j === sb.length) result = true // one names a folder the other is inside of
    else if (sa[i] === '**') result = go(i + 1, j) || go(i, j + 1)
    else if (sb[j] === '**') result = go(i, j + 1) || go(i + 1, j)
    else result = segmentsOverlap(sa[i], sb[j]) && go(i + 1, j + 1)
    memo.set(key, result)
    return result
  }
  return go(0, 0)
}

/** Whether a path (relative to the repository) falls under a pattern. */
export function pathMatches (pattern: string, path: string): boolean {
  const sp = normalizePattern(pattern).split('/')
  const sx = normalizePattern(path).split('/')
  const go = (i: number, j: number): boolean => {
    if (i === sp.length) return true // a pattern covers what is below it
    if (j === sx.length) return sp.slice(i).every((s) => s === '**')
    if (sp[i] === '**') return go(i + 1, j) || go(i, j + 1)
    return (hasWildcard(sp[i]) ? segmentRegex(sp[i]).test(sx[j]) : sp[i] === sx[j]) && go(i + 1, j + 1)
  }
  return go(0, 0)
}

/** A git remote URL in one form, whatever the protocol or user: `github.com/team/app`. */
export function normalizeRemote (url: string): string {
  let s = url.trim()
  s = s.replace(/^[a-z+]+:\/\//i, '') // https://, ssh://, git://
  s = s.replace(/^[^@/]+@/, '') // user@
  s = s.replace(/^([^/:]+):(?!\d+\/)/, '$1/') // scp-like host:path
  s = s.replace(/^([^/:]+):\d+\//, '$1/') // a port
  s = s.replace(/\.git\/?$/, '').replace(/\/+$/, '')
  const slash = s.indexOf('/')
  return slash === -1 ? s.toLowerCase() : s.slice(0, slash).toLowerCase() + s.slice(slash)
}
