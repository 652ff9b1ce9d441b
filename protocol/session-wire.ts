// Sessions, presence and messages between daemons: the `claudemesh/v1` protomux channel, one per
// connection and mesh. Frames are JSON; anything that does not parse closes the channel.
import { z } from 'zod'
import { LIMITS } from './limits.js'
import { MeshError } from './errors.js'
import { sign, verify, fromHex, toHex } from './crypto.js'

export const SESSION_PROTOCOL = 'claudemesh/v1'
export const HEARTBEAT_MS = 30_000
export const HEARTBEATS_MISSED = 3
export const OFFLINE_TTL_MS = 24 * 3600 * 1000
/** A frame carries at most one message plus its envelope. */
export const MAX_FRAME = LIMITS.message + 16 * 1024

export const STATUSES = ['idle', 'working', 'dnd'] as const
export type SessionStatus = typeof STATUSES[number]
export const PRIORITIES = ['now', 'next', 'low'] as const
export type Priority = typeof PRIORITIES[number]
/**
 * `delivered`: a path handed it to Claude (the session's Claude Code inbox took it, a channel
 * notification, a hook, check_messages); `read`: Claude acted on it afterwards (check_messages,
 * a reply to its sender, its id passed back); `dropped`: the recipient's daemon held too much from
 * this sender for that session and let the oldest go.
 */
export type DeliveryStatus = 'queued' | 'held' | 'delivered' | 'read' | 'expired' | 'dropped'

/** How a session gets messages: Claude Code's own session inbox, an MCP channel, or hooks and check_messages. */
export const RECEIVES = ['inbox', 'channel', 'hooks'] as const
export type Receives = typeof RECEIVES[number]
/** What handed a message over: a session's path, or check_messages. */
export const VIAS = ['inbox', 'channel', 'hooks', 'check_messages'] as const
export type Via = typeof VIAS[number]

const sessionName = z.string().min(1, 'must not be empty').max(LIMITS.displayName, `must be at most ${LIMITS.displayName} characters`)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'may only contain letters, digits, ".", "-" and "_", and must start with a letter or digit')
const groupName = z.string().min(1, 'must not be empty').max(LIMITS.group, `must be at most ${LIMITS.group} characters`)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'may only contain letters, digits, ".", "-" and "_"')
const roleName = z.string().min(1, 'must not be empty').max(LIMITS.role, `must be at most ${LIMITS.role} characters`)
const sessionId = z.string().regex(/^[0-9a-f]{64}$/, 'must be a 64-character hex session id')
/** a session's signature over (mesh, member, its id): only the daemon that made the session can give it */
const sessionProof = z.string().regex(/^[0-9a-f]{128}$/, 'must be a 128-character hex signature')

export const Schemas = { sessionName, groupName, roleName, sessionId }

export const Group = z.object({ name: groupName, role: roleName.nullable() })
export type Group = z.infer<typeof Group>

export const SessionInfo = z.object({
  id: sessionId,
  name: sessionName,
  role: roleName,
  groups: z.array(Group).max(32),
  status: z.enum(STATUSES),
  summary: z.string().max(1024),
  cwd: z.string().max(4096),
  member: z.string().regex(/^[0-9a-f]{64}$/),
  /** what the announcing daemon calls its member: never shown, the view's label is */
  label: z.string().max(LIMITS.displayName),
  since: z.number().int().nonnegative(),
  proof: sessionProof.optional(),
  /** how this session gets messages (older daemons do not say) */
  receives: z.enum(RECEIVES).optional()
})
export type SessionInfo = z.infer<typeof SessionInfo>

/** An attachment as a message carries it: the key opens its sealed bytes and travels nowhere else. */
export const AttachmentRef = z.object({
  id: z.string().regex(/^[0-9a-f]{32}$/),
  name: z.string().min(1).max(LIMITS.fileName),
  size: z.number().int().nonnegative(),
  mime: z.string().min(1).max(255),
  key: z.string().regex(/^[0-9a-f]{64}$/),
  expiresAt: z.number().int().nonnegative()
})
export type AttachmentRef = z.infer<typeof AttachmentRef>

export const MessageFrame = z.object({
  t: z.literal('msg'),
  id: z.string().regex(/^[0-9a-f]{32}$/),
  from: z.object({ id: sessionId, name: sessionName, member: z.string().regex(/^[0-9a-f]{64}$/), proof: sessionProof.optional() }),
  to: z.array(sessionId).min(1).max(256),
  group: groupName.nullable(),
  priority: z.enum(PRIORITIES),
  content: z.string().max(LIMITS.message),
  at: z.number().int().nonnegative(),
  files: z.array(AttachmentRef).max(LIMITS.attachments).optional(),
  /** the message this one answers, and the first message of their thread (absent: it starts one) */
  replyTo: z.string().regex(/^[0-9a-f]{32}$/).optional(),
  thread: z.string().regex(/^[0-9a-f]{32}$/).optional()
})
export type MessageFrame = z.infer<typeof MessageFrame>

export const Frame = z.discriminatedUnion('t', [
  z.object({ t: z.literal('presence'), sessions: z.array(SessionInfo).max(1024) }),
  z.object({ t: z.literal('session'), session: SessionInfo }),
  z.object({ t: z.literal('gone'), id: sessionId }),
  MessageFrame,
  z.object({ t: z.literal('status'), id: z.string().regex(/^[0-9a-f]{32}$/), session: sessionId, status: z.enum(['held', 'delivered', 'read', 'dropped']), via: z.enum(VIAS).optional() })
])
export type Frame = z.infer<typeof Frame>

/** `name` or `name:role`, as typed in --groups or CLAUDEMESH_GROUPS. */
export function parseGroup (value: string, field = 'groups'): Group {
  const at = value.indexOf(':')
  const name = at === -1 ? value.trim() : value.slice(0, at).trim()
  const role = at === -1 ? null : value.slice(at + 1).trim()
  const parsed = Group.safeParse({ name, role: role === '' ? null : role })
  if (!parsed.success) throw MeshError.BAD_INPUT(field, `"${value}": group ${parsed.error.issues[0].message}`)
  return parsed.data
}

export function parseGroups (value: string | string[] | undefined, field = 'groups'): Group[] {
  if (value === undefined) return []
  const parts = Array.isArray(value) ? value : value.split(',')
  const groups = parts.map((p) => p.trim()).filter((p) => p !== '').map((p) => parseGroup(p, field))
  const seen = new Set<string>()
  return groups.filter((g) => !seen.has(g.name) && (seen.add(g.name), true))
}

function claimParts (meshKey: Buffer, member: string, id: string): Buffer[] {
  return [meshKey, fromHex(member), fromHex(id)]
}

/** The proof that session `id` (its public key) belongs to `member` in this mesh, signed with the session's secret key. */
export function signSessionClaim (meshKey: Buffer, member: string, session: { publicKey: Buffer, secretKey: Buffer }): string {
  return toHex(sign('sessionClaim', claimParts(meshKey, member, toHex(session.publicKey)), session.secretKey))
}

export function verifySessionClaim (meshKey: Buffer, member: string, id: string, proof: string | undefined): boolean {
  if (proof === undefined) return false
  return verify('sessionClaim', claimParts(meshKey, member, id), fromHex(proof), fromHex(id))
}
