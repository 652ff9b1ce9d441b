// A session's identity as people type it: name, role, groups. Each check names the field and the rule.
import path from 'node:path'
import crypto from 'node:crypto'
import { LIMITS } from '../../protocol/limits.js'
import { MeshError } from '../../protocol/errors.js'

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/
const NAME_RULE = 'may only contain letters, digits, ".", "-" and "_", and must start with a letter or digit'

export interface Group { name: string, role?: string }

/** A session or mesh name: 1-64 letters, digits, ".", "-", "_". */
export function checkName (field: string, value: string, max: number = LIMITS.displayName): string {
  const v = value.trim()
  if (v === '') throw MeshError.BAD_INPUT(field, 'must not be empty')
  if (v.length > max) throw MeshError.BAD_INPUT(field, `must be at most ${max} characters (got ${v.length})`)
  if (!NAME_RE.test(v)) throw MeshError.BAD_INPUT(field, `"${v}" ${NAME_RULE}`)
  return v
}

/** A role: free text, 1-32 characters, no control characters. */
export function checkRole (field: string, value: string): string {
  const v = value.trim()
  if (v === '') throw MeshError.BAD_INPUT(field, 'must not be empty')
  if (v.length > LIMITS.role) throw MeshError.BAD_INPUT(field, `must be at most ${LIMITS.role} characters (got ${v.length})`)
  if (/\p{Cc}/u.test(v)) throw MeshError.BAD_INPUT(field, 'must not contain control characters')
  return v
}

/** "frontend,api:lead" -> [{name: 'frontend'}, {name: 'api', role: 'lead'}]; "" -> []. */
export function parseGroups (field: string, value: string): Group[] {
  const text = value.trim()
  if (text === '') return []
  const groups: Group[] = []
  for (const [i, raw] of text.split(',').entries()) {
    const item = raw.trim()
    const where = `${field} item ${i + 1}`
    if (item === '') throw MeshError.BAD_INPUT(where, 'is empty: separate groups with single commas, for example "frontend,api:lead"')
    const colon = item.indexOf(':')
    const name = checkGroupName(where, colon === -1 ? item : item.slice(0, colon))
    let role: string | undefined
    if (colon !== -1) {
      role = item.slice(colon + 1).trim()
      if (role === '') throw MeshError.BAD_INPUT(where, `"${item}" has an empty role: write "${name}" or "${name}:<role>"`)
      if (role.includes(':')) throw MeshError.BAD_INPUT(where, `"${item}" has more than one ":"; the form is "<group>" or "<group>:<role>"`)
      role = checkRole(`${where} role`, role)
    }
    if (groups.some((g) => g.name === name)) throw MeshError.BAD_INPUT(where, `group "${name}" is listed twice`)
    groups.push(role === undefined ? { name } : { name, role })
  }
  return groups
}

function checkGroupName (field: string, value: string): string {
  const v = value.trim()
  if (v === '') throw MeshError.BAD_INPUT(field, 'has an empty group name')
  if (v.length > LIMITS.group) throw MeshError.BAD_INPUT(field, `group name must be at most ${LIMITS.group} characters (got ${v.length})`)
  if (!NAME_RE.test(v)) throw MeshError.BAD_INPUT(field, `group name "${v}" ${NAME_RULE}`)
  return v
}

/** The comma list form, as CLAUDEMESH_GROUPS carries it. */
export function formatGroups (groups: Group[]): string {
  return groups.map((g) => g.role === undefined ? g.name : `${g.name}:${g.role}`).join(',')
}

/** A readable default session name: the folder's name plus a short random suffix, e.g. "api-3f2a". */
export function defaultSessionName (cwd: string = process.cwd()): string {
  const suffix = crypto.randomBytes(2).toString('hex')
  let base = path.basename(cwd).replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '').replace(/-+$/, '')
  if (base === '') base = 'session'
  base = base.slice(0, LIMITS.displayName - suffix.length - 1).replace(/[^A-Za-z0-9]+$/, '')
  return `${base}-${suffix}`
}
