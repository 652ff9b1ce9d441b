// The daemon's API, one entry per method: its parameters (zod, checked by the IPC server before a
// handler runs, with errors that name the field and the rule), the name its errors use, whether the
// dashboard may call it, and its result type. The IPC server, the IPC client, the CLI, the MCP server,
// the dashboard and the test helpers all take their types from here; adding a method is one entry
// here and one handler.
import { z } from 'zod'
import { nameSchema } from '../../protocol/schema.js'
import { LIMITS, DEFAULT_INVITE_EXPIRY_MS } from '../../protocol/limits.js'
import { stateKey, memoryContent, memoryTags, memoryId, fileId, fileName, fileTags, claimId, claimNote, claimTtl } from '../../protocol/ops.js'
import { CLAIM_LIMITS, CLAIM_MODES } from '../../protocol/claims.js'
import type { ClaimEntry } from '../mesh/claims-apply.js'
import type { MeshHistory } from '../mesh/mesh.js'
import { Schemas, STATUSES, PRIORITIES, RECEIVES } from '../../protocol/session-wire.js'
import type { SessionInfo, Receives } from '../../protocol/session-wire.js'
import type { InviteInfo } from '../../protocol/relay-wire.js'
import type { MemberRecord, Author } from '../../protocol/ops.js'
import type { StateEntry, MemoryEntry, FileEntry, FileAccess } from '../mesh/apply.js'
import type { RecallHit } from '../mesh/memory-index.js'
import type { Fetched } from '../mesh/files.js'
import type { SendResult } from './outbox.js'
import type { StateChange } from './state-notify.js'
import type { Delivered, AttachmentInfo } from './sessions.js'
import type { LoggedMessage, MessageLogSettings } from './message-log.js'

export type { SessionInfo, Receives, InviteInfo, MemberRecord, Author, StateEntry, MemoryEntry, FileEntry, FileAccess, RecallHit, Fetched, SendResult, StateChange, Delivered, AttachmentInfo, LoggedMessage, MessageLogSettings }

const ADMIT_TIMEOUT_MS = 30_000
const meshName = z.string().max(LIMITS.meshName, `must be at most ${LIMITS.meshName} characters`).optional().nullable()
const messageId = z.string().regex(/^[0-9a-f]{32}$/, 'must be a 32-character message id as returned by send_message')
const absolutePath = z.string().min(1, 'must not be empty').max(4096, 'must be at most 4096 characters').refine((p) => p.startsWith('/'), 'must be an absolute path')
const progressToken = z.string().min(1).max(64).optional().nullable()
const none = z.object({})
const MeshOnly = z.object({ mesh: meshName })

// --- results --------------------------------------------------------------------------------

export interface MemberSummary {
  label: string
  role: string
  writerKey: string
  swarmKey: string
  joinedAt: number
  self: boolean
  connected: boolean
  online: boolean
}

export interface MeshSummary {
  name: string
  key: string
  owner: boolean
  relay: { addresses: string[], embedded: boolean, connected: boolean }
  members: MemberSummary[]
  online: number
}

export interface MeshStatus {
  name: string
  key: string
  owner: boolean
  writable: boolean
  relay: { addresses: string[], publicKey: string, embedded: boolean, connected: boolean }
  peers: string[]
  sessions: number
  malformedFrames: number
  /** session announcements refused (another member's session, no proof, over the per-member cap) */
  refusedSessions: number
  /** messages refused (a sender that is not the member's) */
  refusedMessages: number
  /** cores a peer asked for that it may not have (any mesh on this network) */
  refusedCores: number
  strict: boolean
  /** this member's own writer in the mesh's log: its key and how many blocks it holds */
  writer: { key: string, length: number }
  members: number
  refusedConnections: number
  tcpLinks: { port: number | null, active: number, refused: number }
  /** files channels closed for a malformed frame (direct transfers; any mesh on this network) */
  malformedFileFrames: number
  /** the mesh's log as this daemon has it: blocks of the view, how many of them are settled, and who settles */
  history: MeshHistory
}


export interface DaemonStatus {
  pid: number
  version: string
  home: string
  socket: string
  swarmKey: string
  ownerKey: string
  label: string
  uptimeMs: number
  embeddedRelay: { addresses: string[], publicKey: string } | null
  meshes: MeshStatus[]
}

export interface CreatedInvite { id: string, link: string, expires: number, uses: number, role: string, mesh: string }

export interface Registered { session: SessionInfo, mesh: string, warning: string | null }

export interface FileStatus { file: FileEntry, accesses: FileAccess[] }

export interface HookAnswer { matched: boolean, sessionId?: string, additionalContext?: string | null }

/** How this daemon reaches a member: itself, a swarm connection (direct or through the relay), a TCP link on top, or not at all. */
export type Connection = 'self' | 'direct' | 'tcp-link' | 'relayed' | 'offline'

export interface MemberView extends MemberSummary { connection: Connection }

export interface SessionView extends SessionInfo {
  /** its live claims */
  claims: ClaimView[]
  /** a session of this daemon */
  local: boolean
  /** when this daemon last heard of it (its own sessions: now) */
  lastSeen: number
}

export interface MeshOverview { name: string, key: string, owner: boolean, self: string, members: MemberView[], sessions: SessionView[] }

export interface DashboardInfo { url: string, port: number }

/** A claim and how it stands: granted (settled), pending (not settled yet: it may still lose), denied */
export type ClaimStatus = 'granted' | 'pending' | 'denied'
export interface ClaimView extends ClaimEntry { status: ClaimStatus }
export interface ClaimAnswer { claim: ClaimView, status: ClaimStatus, renewed: boolean }
export interface ClaimCheck { holder: ClaimView | null, decision: 'ask' | 'deny', repo: string | null, path: string | null }
export type { ClaimEntry }

// --- methods --------------------------------------------------------------------------------

interface Spec<P extends z.ZodType, R> {
  /** the name errors use for the parameters: `set_state.key: must not be empty` */
  label: string
  params: P
  /** the dashboard (a person at this machine, in a browser) may call it */
  web: boolean
  /** phantom: the result type */
  result: R
}

function method<R> () {
  return <P extends z.ZodType>(label: string, params: P, opts: { web?: boolean } = {}): Spec<P, R> =>
    ({ label, params, web: opts.web === true, result: undefined as unknown as R })
}

export const CONTRACT = {
  // the daemon and its meshes
  status: method<DaemonStatus>()('status', none),
  create: method<MeshSummary>()('create', z.object({
    name: nameSchema(LIMITS.meshName),
    relay: z.string().max(256).optional().nullable(),
    relayListen: z.string().max(256).optional().nullable()
  })),
  'invite.create': method<CreatedInvite>()('invite', z.object({
    mesh: meshName,
    uses: z.number().int().min(1, 'must be at least 1').max(LIMITS.inviteUses, `must be at most ${LIMITS.inviteUses}`).default(1),
    expiresMs: z.number().int().min(1000, 'must be at least 1s').max(LIMITS.inviteMaxExpiryMs, 'must be at most 365d').default(DEFAULT_INVITE_EXPIRY_MS),
    role: z.enum(['member', 'admin']).default('member')
  })),
  'invite.list': method<InviteInfo[]>()('invite list', MeshOnly),
  'invite.revoke': method<InviteInfo>()('invite revoke', z.object({ mesh: meshName, id: z.string().min(4, 'must be at least 4 characters of the invite id').max(64).regex(/^[0-9a-fA-F]+$/, 'must be hex') })),
  join: method<MeshSummary>()('join', z.object({
    link: z.string().min(1, 'must not be empty').max(4096, 'is too long to be an invite link'),
    timeoutMs: z.number().int().min(1000, 'must be at least 1s').max(3_600_000, 'must be at most 1h').default(ADMIT_TIMEOUT_MS)
  })),
  list: method<MeshSummary[]>()('list', none, { web: true }),
  leave: method<{ left: string }>()('leave', z.object({ mesh: z.string().min(1, 'must name the mesh to leave').max(LIMITS.meshName), force: z.boolean().default(false) })),
  kick: method<{ mesh: string, removed: MemberRecord, relayUpdated: boolean }>()('kick', z.object({ mesh: meshName, member: z.string().min(1, 'must not be empty').max(128) })),
  'relay.ping': method<{ mesh: string, rttMs: number, skewMs: number }>()('relay ping', MeshOnly),
  'mesh.overview': method<MeshOverview[]>()('overview', MeshOnly, { web: true }),
  /** for tests and scripts: resolves once every condition holds (event-driven in the daemon) */
  wait: method<MeshSummary>()('wait', z.object({
    mesh: meshName,
    members: z.number().int().min(0).optional(),
    connected: z.number().int().min(0).optional(),
    refused: z.number().int().min(0).optional(),
    refusedLinks: z.number().int().min(0).optional(),
    relay: z.boolean().optional(),
    sessions: z.number().int().min(0).optional(),
    malformed: z.number().int().min(0).optional(),
    refusedSessions: z.number().int().min(0).optional(),
    refusedMessages: z.number().int().min(0).optional(),
    refusedCores: z.number().int().min(0).optional(),
    state: z.number().int().min(0).optional(),
    memory: z.number().int().min(0).optional(),
    files: z.number().int().min(0).optional(),
    accesses: z.object({ id: fileId, count: z.number().int().min(0) }).optional(),
    delivered: messageId.optional(),
    status: z.object({ id: messageId, is: z.string() }).optional(),
    peer: z.object({ name: z.string(), status: z.string().optional(), summary: z.string().optional(), group: z.string().optional(), receives: z.string().optional() }).optional(),
    logged: z.number().int().min(0).optional(),
    /** live claims (by this daemon's clock), and members indexing besides the owner */
    claims: z.number().int().min(0).optional(),
    indexers: z.number().int().min(0).optional(),
    timeoutMs: z.number().int().min(1).max(600_000).default(30_000)
  })),
  'clock.advance': method<{ now: number }>()('clock', z.object({ ms: z.number().int().min(0, 'must not be negative').max(365 * 24 * 3600 * 1000, 'must be at most a year') })),
  stop: method<{ stopping: true, pid: number }>()('stop', none),
  /** tests only (CLAUDEMESH_TEST_CLOCK=1): cut this daemon off from every member, or let it back */
  'test.isolate': method<{ isolated: boolean }>()('isolate', z.object({ on: z.boolean() })),
  'dashboard.url': method<DashboardInfo>()('dashboard', none),

  // a Claude Code session (its MCP server), on the connection that registered it
  'session.register': method<Registered>()('session', z.object({
    name: Schemas.sessionName.optional().nullable(),
    role: Schemas.roleName.optional().nullable(),
    groups: z.union([z.string().max(4096), z.array(z.string().max(200)).max(32)]).optional().nullable(),
    mesh: meshName,
    cwd: z.string().min(1).max(4096),
    channel: z.boolean().default(false),
    /** how its Claude gets messages; default: channel with `channel`, else hooks */
    receives: z.enum(RECEIVES).optional(),
    claudePid: z.number().int().positive().optional().nullable(),
    /** a session registering again (its MCP server reconnected): its id and the proof this daemon gave it */
    id: Schemas.sessionId.optional(),
    proof: z.string().regex(/^[0-9a-f]{128}$/, 'must be the 128-character proof session.register returned').optional()
  })),
  'session.update': method<SessionInfo>()('session', z.object({ status: z.enum(STATUSES).optional(), summary: z.string().max(1024, 'must be at most 1024 characters').optional() })),
  'session.join_group': method<SessionInfo>()('group', z.object({ name: Schemas.groupName, role: Schemas.roleName.optional().nullable() })),
  'session.leave_group': method<SessionInfo>()('group', z.object({ name: Schemas.groupName })),
  'session.receives': method<SessionInfo>()('session.receives', z.object({ receives: z.enum(RECEIVES), why: z.string().max(1024).optional().nullable() })),
  'message.send': method<SendResult>()('send_message', z.object({
    to: z.union([z.string().min(1, 'must not be empty').max(200), z.array(z.string().min(1).max(200)).min(1, 'must name at least one recipient').max(64)]),
    message: z.string(),
    priority: z.enum(PRIORITIES).default('next'),
    files: z.array(absolutePath).max(LIMITS.attachments, `must be at most ${LIMITS.attachments} files`).optional().nullable(),
    reply_to: z.string().regex(/^[0-9a-f]{32}$/, 'must be the 32-character id of a message this session received').optional().nullable()
  })),
  /** the MCP server of a session with a Claude Code inbox says what the inbox took, and what it could not give it */
  'message.delivered': method<{ ok: true }>()('message.delivered', z.object({ ids: z.array(messageId).min(1).max(1024) })),
  'message.undelivered': method<{ ok: true }>()('message.undelivered', z.object({ ids: z.array(messageId).min(1).max(1024) })),
  'message.check': method<Delivered[]>()('check_messages', z.object({ thread: messageId.optional().nullable() })),
  'message.status': method<SendResult>()('message_status', z.object({ id: messageId })),
  'peers.list': method<{ self: string, mesh: string, sessions: SessionInfo[], claims: ClaimView[] }>()('list_peers', z.object({ group: Schemas.groupName.optional().nullable() })),
  'sessions.list': method<Array<{ mesh: string, sessions: SessionInfo[] }>>()('sessions', none, { web: true }),
  hook: method<HookAnswer>()('hook', z.object({
    event: z.enum(['SessionStart', 'UserPromptSubmit', 'Stop', 'SessionEnd']),
    pids: z.array(z.number().int().positive()).max(64),
    cwd: z.string().max(4096).optional().nullable(),
    claudeSessionId: z.string().max(256).optional().nullable()
  })),

  // shared state and memory: from a session (as itself) or a person (CLI, dashboard: as this member)
  'state.set': method<StateEntry>()('set_state', z.object({ key: stateKey, value: z.unknown().refine((v) => v !== undefined, 'is required'), mesh: meshName }), { web: true }),
  'state.get': method<{ key: string, entry: StateEntry | null }>()('get_state', z.object({ key: stateKey, mesh: meshName }), { web: true }),
  'state.list': method<StateEntry[]>()('list_state', z.object({ prefix: z.string().max(LIMITS.stateKey).optional().nullable(), mesh: meshName }), { web: true }),
  'state.delete': method<{ key: string, deleted: true }>()('delete_state', z.object({ key: stateKey, mesh: meshName }), { web: true }),
  'memory.remember': method<MemoryEntry>()('remember', z.object({ content: memoryContent, tags: memoryTags.optional().nullable(), mesh: meshName })),
  'memory.recall': method<RecallHit[]>()('recall', z.object({
    query: z.string().min(1, 'must not be empty').max(1024, 'must be at most 1024 characters'),
    limit: z.number().int().min(1, 'must be at least 1').max(100, 'must be at most 100').default(10),
    tags: memoryTags.optional().nullable(),
    mesh: meshName
  }), { web: true }),
  'memory.forget': method<{ id: string, forgotten: true }>()('forget', z.object({ id: memoryId, mesh: meshName }), { web: true }),
  'memory.list': method<MemoryEntry[]>()('memory list', MeshOnly, { web: true }),

  // files: a session sees the mesh's files and its own attachments; a person those of this daemon
  'files.share': method<FileEntry>()('share_file', z.object({ path: absolutePath, name: fileName.optional().nullable(), tags: fileTags.optional().nullable(), mesh: meshName, progress: progressToken })),
  'files.get': method<Fetched & { name: string, size: number, mime: string }>()('get_file', z.object({
    id: fileId,
    saveTo: absolutePath,
    overwrite: z.boolean().default(false),
    timeoutSeconds: z.number().int().min(1, 'must be at least 1').max(86_400, 'must be at most 86400').default(60),
    mesh: meshName,
    progress: progressToken
  })),
  'files.list': method<FileEntry[]>()('list_files', z.object({
    query: z.string().max(256, 'must be at most 256 characters').optional().nullable(),
    from: z.string().max(200, 'must be at most 200 characters').optional().nullable(),
    tags: fileTags.optional().nullable(),
    mesh: meshName
  }), { web: true }),
  /** every file a person here can fetch, with who fetched it (the dashboard's Files page) */
  'files.overview': method<Array<FileEntry & { accesses: FileAccess[] }>>()('files', MeshOnly, { web: true }),
  'files.status': method<FileStatus>()('file_status', z.object({ id: fileId, mesh: meshName }), { web: true }),
  'files.delete': method<{ id: string, name: string, deleted: true }>()('delete_file', z.object({ id: fileId, mesh: meshName }), { web: true }),

  // claims: a session claims paths or resources; anyone here may list them
  'claims.claim': method<ClaimAnswer>()('claim', z.object({
    paths: z.array(z.string().min(1, 'must not be empty').max(4096, 'must be at most 4096 characters')).min(1, 'must name at least one path or resource').max(CLAIM_LIMITS.paths, `must be at most ${CLAIM_LIMITS.paths} paths`),
    mode: z.enum(CLAIM_MODES).default('exclusive'),
    ttlMs: claimTtl.default(CLAIM_LIMITS.defaultTtlMs),
    note: claimNote.default('')
  })),
  'claims.release': method<{ released: string[] }>()('release', z.object({ ids: z.array(claimId).max(CLAIM_LIMITS.releaseIds).optional().nullable(), all: z.boolean().default(false), mesh: meshName })),
  'claims.list': method<ClaimView[]>()('list_claims', z.object({
    path: z.string().max(4096).optional().nullable(),
    holder: z.string().max(200).optional().nullable(),
    mine: z.boolean().default(false),
    mesh: meshName
  }), { web: true }),
  /** the PreToolUse hook: may this session edit this file? */
  'claims.check': method<ClaimCheck>()('claims.check', z.object({ pids: z.array(z.number().int().positive()).max(64), path: z.string().min(1).max(4096), cwd: z.string().max(4096).optional().nullable() })),

  // the opt-in log of messages this daemon's sessions sent and received (kept on this machine only)
  'messages.log': method<{ settings: MessageLogSettings, messages: LoggedMessage[] }>()('messages', z.object({
    mesh: meshName,
    thread: messageId.optional().nullable(),
    session: z.string().max(200).optional().nullable(),
    limit: z.number().int().min(1, 'must be at least 1').max(1000, 'must be at most 1000').default(200)
  }), { web: true }),
  'messages.configure': method<MessageLogSettings>()('message log', z.object({
    enabled: z.boolean().optional(),
    retentionDays: z.number().int().min(1, 'must be at least 1 day').max(365, 'must be at most 365 days').optional()
  }), { web: true })
} as const

export type Contract = typeof CONTRACT
export type Method = keyof Contract
/** What a caller passes (defaults may be left out). */
export type Params<M extends Method> = z.input<Contract[M]['params']>
/** What a handler gets: checked, defaults filled in. */
export type Parsed<M extends Method> = z.output<Contract[M]['params']>
export type Result<M extends Method> = Contract[M]['result']
/** Methods that take no parameters: their params may be left out. */
export type NoParams = { [M in Method]: {} extends Params<M> ? M : never }[Method]

export const METHODS = Object.keys(CONTRACT) as Method[]

export function isMethod (name: string): name is Method {
  return Object.hasOwn(CONTRACT, name)
}
