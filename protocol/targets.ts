// Who a message goes to: `to` entries read (parseTarget) and resolved against the live roster
// (resolveTargets). Pure: no I/O, the same answer for the same roster.
import { MeshError } from './errors.js'
import { Schemas, type SessionInfo } from './session-wire.js'

export type Target =
  | { kind: 'all' }
  | { kind: 'group', name: string }
  | { kind: 'name', name: string }
  | { kind: 'id', prefix: string }

/** Reads one `to` entry: `@all` or `*`, `@group`, a hex session id or prefix (4+ chars), or a name. */
export function parseTarget (value: string): Target {
  const v = value.trim()
  if (v === '') throw MeshError.BAD_INPUT('to', 'must not be empty')
  if (v === '*' || v === '@all') return { kind: 'all' }
  if (v.startsWith('@')) {
    const group = Schemas.groupName.safeParse(v.slice(1))
    if (!group.success) throw MeshError.BAD_INPUT('to', `"${v.slice(0, 80)}": group ${group.error.issues[0].message}`)
    return { kind: 'group', name: group.data }
  }
  if (/^[0-9a-f]{4,64}$/.test(v)) return { kind: 'id', prefix: v }
  const name = Schemas.sessionName.safeParse(v)
  if (!name.success) throw MeshError.BAD_INPUT('to', `"${v.slice(0, 80)}" is not a session name, @group, @all or * or session id`)
  return { kind: 'name', name: v }
}

export interface Resolved {
  /** online recipients, each once */
  targets: SessionInfo[]
  /** names seen before but offline now: queued for them */
  offline: string[]
  /** the group, when the message went to exactly one @group */
  group: string | null
}

export interface ResolveContext {
  /** the sending session's id: left out of its own multicast */
  self: string
  mesh: string
  /** whether a session of this name was seen in the mesh (messages to it queue while it is away) */
  seen: (name: string) => boolean
}

/**
 * Resolves `to` against the roster: each session once however many entries name it, the sender
 * out of its own multicast (a message to itself by name does arrive), names seen before but
 * offline queued. Unknown, ambiguous or empty targets are BAD_INPUT errors listing who is online.
 */
export function resolveTargets (to: string[], roster: SessionInfo[], ctx: ResolveContext): Resolved {
  const parsed = to.map(parseTarget)
  const targets = new Map<string, SessionInfo>()
  const offline: string[] = []
  let group: string | null = null
  const multicast = parsed.length > 1 || parsed.some((t) => t.kind === 'all' || t.kind === 'group')
  for (const target of parsed) {
    if (target.kind === 'all') {
      for (const s of roster) targets.set(s.id, s)
    } else if (target.kind === 'group') {
      const members = roster.filter((s) => s.groups.some((g) => g.name === target.name))
      if (members.filter((s) => s.id !== ctx.self).length === 0) throw notFound(`nobody online is in group @${target.name}`, roster, ctx)
      for (const s of members) targets.set(s.id, s)
      if (parsed.length === 1) group = target.name
    } else {
      const found = findOne(target, roster)
      if (found !== null) targets.set(found.id, found)
      else if (target.kind === 'name' && ctx.seen(target.name)) { if (!offline.includes(target.name)) offline.push(target.name) }
      else throw notFound(target.kind === 'id' ? `no online session id starts with ${target.prefix}` : `no session named ${target.name} has been seen in ${ctx.mesh}`, roster, ctx)
    }
  }
  if (multicast) targets.delete(ctx.self)
  if (targets.size === 0 && offline.length === 0) throw notFound('nobody else is online to receive it', roster, ctx)
  return { targets: [...targets.values()], offline, group }
}

function findOne (target: { kind: 'name', name: string } | { kind: 'id', prefix: string }, roster: SessionInfo[]): SessionInfo | null {
  if (target.kind === 'id') {
    const byId = roster.filter((s) => s.id.startsWith(target.prefix))
    if (byId.length > 1) throw MeshError.BAD_INPUT('to', `session id prefix ${target.prefix} is ambiguous (${byId.length} sessions): give more characters`)
    if (byId.length === 1) return byId[0]
    return roster.find((s) => s.name === target.prefix) ?? null // a name that happens to be hex
  }
  const byName = roster.filter((s) => s.name === target.name)
  if (byName.length > 1) throw MeshError.BAD_INPUT('to', `${byName.length} sessions are named ${target.name}: use a session id (${byName.map((s) => s.id.slice(0, 8)).join(', ')})`)
  return byName[0] ?? null
}

function notFound (why: string, roster: SessionInfo[], ctx: ResolveContext): MeshError {
  const online = roster.filter((s) => s.id !== ctx.self).map((s) => `${s.name} (${s.id.slice(0, 8)})`)
  return MeshError.BAD_INPUT('to', `${why}. Online now: ${online.length > 0 ? online.join(', ') : 'nobody else'}`)
}
