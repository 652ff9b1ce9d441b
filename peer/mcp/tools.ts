// Every MCP tool of claudemesh, one entry each: its name, title, description, hints, input
// schema (built from the protocol's own limits, so Claude sees them and bad input is refused with
// the field and the rule), the daemon method it calls (typed by the daemon's contract), how its
// answer reads (text, escaped by format.ts) and what it carries as structuredContent. The server
// registers tools from this table, the instructions list them from it, and a test checks the
// README's table against it.
import path from 'node:path'
import { z } from 'zod'
import { LIMITS } from '../../protocol/limits.js'
import { stateKey, memoryContent, memoryTags, memoryId, fileId, fileName, fileTags } from '../../protocol/ops.js'
import { Schemas, STATUSES, PRIORITIES } from '../../protocol/session-wire.js'
import { oneLine } from '../../protocol/display.js'
import { humanBytes } from '../cli/output.js'
import type { Method, Params, Result, StateEntry } from '../daemon/contract.js'
import { formatHits, formatEntry, formatGroups, formatSend, formatMessages, formatFiles, formatFileStatus, formatPeers, formatClaimAnswer, formatClaims } from './format.js'
import { CLAIM_LIMITS, CLAIM_MODES } from '../../protocol/claims.js'

export interface ToolContext { cwd: string }

export interface Annotations { readOnlyHint: boolean, destructiveHint: boolean, idempotentHint: boolean, openWorldHint: false }

export interface Tool<M extends Method = Method, S extends z.ZodRawShape = z.ZodRawShape> {
  name: string
  title: string
  description: string
  /** what the tool does to the mesh: read only; or destructive (deletes what others see) */
  annotations: Annotations
  input: S
  /** its line in the instructions Claude reads, after its signature */
  guide: string
  method: M
  params: (args: z.output<z.ZodObject<S>>, ctx: ToolContext) => Params<M>
  format: (result: Result<M>, args: z.output<z.ZodObject<S>>) => string
  /** the answer as data (the text is added as `text`) */
  structured: (result: Result<M>) => Record<string, unknown>
}

const READ: Annotations = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false }
const WRITE: Annotations = { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false }
const SETS: Annotations = { ...WRITE, idempotentHint: true }
const DELETES: Annotations = { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false }

function tool<M extends Method, S extends z.ZodRawShape> (t: Tool<M, S>): Tool<M, S> {
  return t
}

const target = z.string().min(1, 'must not be empty').max(200, 'must be at most 200 characters')
const messageId = z.string().regex(/^[0-9a-f]{32}$/, 'must be a 32-character message id as returned by send_message')
const pathArg = z.string().min(1, 'must not be empty').max(4096, 'must be at most 4096 characters')
const resolve = (ctx: ToolContext, p: string): string => path.resolve(ctx.cwd, p)

export const TOOLS = [
  tool({
    name: 'send_message',
    title: 'Send a message',
    description: 'Send a message to other Claude Code sessions in the mesh. `to`: a session name, a session id (or unique prefix), "@group", "@all" or "*", or an array of these. Returns the message id and each recipient\'s delivery status.',
    annotations: WRITE,
    input: {
      to: z.union([target, z.array(target).min(1, 'must name at least one recipient').max(64, 'must be at most 64 recipients')]).describe('recipient(s): name, session id or prefix, @group, @all or *'),
      message: z.string().max(LIMITS.message, `must be at most ${LIMITS.message} bytes`).refine((m) => Buffer.byteLength(m) <= LIMITS.message, `must be at most ${LIMITS.message} bytes`).describe('the message text (up to 64 KiB)'),
      priority: z.enum(PRIORITIES).optional().describe('now: interrupt even in dnd; next (default): when the recipient is idle; low: when it checks'),
      file: pathArg.optional().describe('path of a file to attach (only the recipients can read it; it expires after 24 h)'),
      files: z.array(pathArg).max(LIMITS.attachments, `must be at most ${LIMITS.attachments} files`).optional().describe('paths of files to attach (up to 16)'),
      reply_to: messageId.optional().describe('the id of the message you are answering: the reply joins its thread, and its sender sees it was read')
    },
    guide: 'message other sessions; attach files (paths) only its recipients can read (they expire after 24 h). "to" is a session name, a session id or unique prefix, "@group", "@all" or "*", or an array of these (each session gets a message once; you never get your own multicast). A name that is offline but was seen before is queued for 24 h.',
    method: 'message.send',
    params: (a, ctx) => {
      const paths = [...(a.file === undefined ? [] : [a.file]), ...(a.files ?? [])].map((p) => resolve(ctx, p))
      return { to: a.to, message: a.message, priority: a.priority, ...(paths.length > 0 ? { files: paths } : {}), ...(a.reply_to !== undefined ? { reply_to: a.reply_to } : {}) }
    },
    format: formatSend,
    structured: (r) => ({ ...r })
  }),
  tool({
    name: 'check_messages',
    title: 'Check messages',
    description: 'Fetch the messages waiting for this session (held while it worked, and every low-priority one), or only those of one thread. Each is handed over once.',
    annotations: { ...WRITE, readOnlyHint: false },
    input: { thread: messageId.optional().describe('only messages of this thread (its first message\'s id)') },
    guide: 'fetch messages waiting for you (held while you work, and all "low" priority ones); `thread` takes only that conversation\'s.',
    method: 'message.check',
    params: (a) => ({ thread: a.thread ?? null }),
    format: formatMessages,
    structured: (messages) => ({ messages })
  }),
  tool({
    name: 'message_status',
    title: 'Message status',
    description: 'Delivery status of a message you sent, per recipient: queued, held, delivered (and by which path), read (the recipient acted on it), dropped or expired.',
    annotations: READ,
    input: { id: messageId.describe('the message id returned by send_message') },
    guide: 'per recipient: queued (not reachable yet), held (waiting for the recipient to be idle), delivered (and how), read (the recipient acted on it), dropped, expired.',
    method: 'message.status',
    params: (a) => ({ id: a.id }),
    format: formatSend,
    structured: (r) => ({ ...r })
  }),
  tool({
    name: 'list_peers',
    title: 'List sessions',
    description: 'List the sessions online in the mesh (optionally one group): name, id, role, groups, status, summary and working directory.',
    annotations: READ,
    input: { group: Schemas.groupName.optional().describe('only sessions in this group') },
    guide: 'who is online: name, id, role, groups, status, summary, working directory.',
    method: 'peers.list',
    params: (a) => ({ group: a.group ?? null }),
    format: formatPeers,
    structured: (r) => ({ ...r })
  }),
  tool({
    name: 'set_summary',
    title: 'Set your summary',
    description: 'Set the one-line summary other sessions see for you: what you are working on now.',
    annotations: SETS,
    input: { summary: z.string().max(1024, 'must be at most 1024 characters').describe('up to 1024 characters') },
    guide: 'one line on what you are doing now, so others can route work to you. Keep it current.',
    method: 'session.update',
    params: (a) => ({ summary: a.summary }),
    format: () => 'Summary updated.',
    structured: (session) => ({ session })
  }),
  tool({
    name: 'set_status',
    title: 'Set your status',
    description: 'Set your status: idle (messages arrive), working (`next` messages wait until you are idle), dnd (only `now` messages reach you).',
    annotations: SETS,
    input: { status: z.enum(STATUSES) },
    guide: 'idle, working or dnd (do not disturb: only "now" messages reach you).',
    method: 'session.update',
    params: (a) => ({ status: a.status }),
    format: (_s, a) => `Status: ${a.status}.`,
    structured: (session) => ({ session })
  }),
  tool({
    name: 'join_group',
    title: 'Join a group',
    description: 'Join a group (created on first use), optionally with a role such as lead, member or observer. Others can then message the group as @name.',
    annotations: SETS,
    input: { name: Schemas.groupName.describe('group name'), role: Schemas.roleName.optional().describe('your role in the group') },
    guide: 'groups are how work is split: @backend, @review, ...; joining again changes your role.',
    method: 'session.join_group',
    params: (a) => ({ name: a.name, role: a.role ?? null }),
    format: (s) => `Groups: ${formatGroups(s)}.`,
    structured: (session) => ({ session })
  }),
  tool({
    name: 'leave_group',
    title: 'Leave a group',
    description: 'Leave a group.',
    annotations: SETS,
    input: { name: Schemas.groupName.describe('group name') },
    guide: 'leave one.',
    method: 'session.leave_group',
    params: (a) => ({ name: a.name }),
    format: (s) => `Groups: ${formatGroups(s)}.`,
    structured: (session) => ({ session })
  }),
  tool({
    name: 'set_state',
    title: 'Set shared state',
    description: 'Set a shared state entry for the whole mesh (live coordination: who owns what, build status, the current plan). Any JSON value up to 64 KiB; the last write wins everywhere. Every other session is notified.',
    annotations: SETS,
    input: { key: stateKey.describe('up to 256 characters, e.g. "deploy/status"'), value: z.unknown().refine((v) => v !== undefined, 'is required').describe('any JSON value') },
    guide: 'shared facts for the whole mesh (who owns what, build status, the plan). Last write wins; everyone else is notified of changes. Prefer state over messages for facts others need later.',
    method: 'state.set',
    params: (a) => ({ key: a.key, value: a.value }),
    format: (e) => `Set "${oneLine(e.key)}" = ${JSON.stringify(e.value)}.`,
    structured: (entry) => ({ entry })
  }),
  tool({
    name: 'get_state',
    title: 'Get shared state',
    description: 'Read one shared state entry: its value, who set it and when. Answers from this machine\'s copy, also offline.',
    annotations: READ,
    input: { key: stateKey },
    guide: 'one entry: its value, who set it and when.',
    method: 'state.get',
    params: (a) => ({ key: a.key }),
    format: (r) => r.entry === null ? `"${oneLine(r.key)}" is not set.` : formatEntry(r.entry),
    structured: (r) => ({ ...r })
  }),
  tool({
    name: 'list_state',
    title: 'List shared state',
    description: 'List shared state entries, optionally only keys starting with a prefix.',
    annotations: READ,
    input: { prefix: z.string().max(LIMITS.stateKey, `must be at most ${LIMITS.stateKey} characters`).optional() },
    guide: 'every entry, or those under a key prefix.',
    method: 'state.list',
    params: (a) => ({ prefix: a.prefix ?? null }),
    format: (entries: StateEntry[]) => entries.length === 0 ? 'No state entries.' : entries.map(formatEntry).join('\n'),
    structured: (entries) => ({ entries })
  }),
  tool({
    name: 'delete_state',
    title: 'Delete shared state',
    description: 'Delete a shared state entry for everyone.',
    annotations: DELETES,
    input: { key: stateKey },
    guide: 'remove an entry for everyone.',
    method: 'state.delete',
    params: (a) => ({ key: a.key }),
    format: (r) => `Deleted "${oneLine(r.key)}".`,
    structured: (r) => ({ ...r })
  }),
  tool({
    name: 'remember',
    title: 'Remember',
    description: 'Store a piece of knowledge in the mesh\'s shared memory (decisions, conventions, where things are, gotchas), so any session, now or later, can recall it. Returns its id.',
    annotations: WRITE,
    input: { content: memoryContent.describe('up to 16 KiB'), tags: memoryTags.optional().describe('up to 20 tags of 64 characters') },
    guide: 'the mesh\'s long-term memory: remember decisions, conventions and gotchas worth keeping.',
    method: 'memory.remember',
    params: (a) => ({ content: a.content, tags: a.tags ?? [] }),
    format: (e) => `Remembered ${e.id}.`,
    structured: (entry) => ({ entry })
  }),
  tool({
    name: 'recall',
    title: 'Recall',
    description: 'Search the mesh\'s shared memory: ranked results with fuzzy and prefix matching (tags weigh more). Use it before starting work that others may have done or decided on.',
    annotations: READ,
    input: {
      query: z.string().min(1, 'must not be empty').max(1024, 'must be at most 1024 characters'),
      limit: z.number().int().min(1, 'must be at least 1').max(100, 'must be at most 100').optional().describe('default 10'),
      tags: memoryTags.optional().describe('only entries with all these tags')
    },
    guide: 'search it, best first, typos forgiven. Recall before you start something others may have decided.',
    method: 'memory.recall',
    params: (a) => ({ query: a.query, limit: a.limit ?? 10, tags: a.tags ?? [] }),
    format: formatHits,
    structured: (hits) => ({ hits })
  }),
  tool({
    name: 'forget',
    title: 'Forget',
    description: 'Remove a memory entry for everyone (it never comes back in results).',
    annotations: DELETES,
    input: { id: memoryId.describe('the id returned by remember or recall') },
    guide: 'remove an entry that is wrong or stale, for everyone.',
    method: 'memory.forget',
    params: (a) => ({ id: a.id }),
    format: (r) => `Forgot ${r.id}.`,
    structured: (r) => ({ ...r })
  }),
  tool({
    name: 'claim',
    title: 'Claim files',
    description: 'Claim files (globs relative to the repository, e.g. "src/api/**") or free-form resources (e.g. "staging-db") before working on them, so other sessions, on any machine, do not edit them meanwhile. Exclusive (default) conflicts with any overlapping claim; shared ones overlap each other. Decided in the mesh\'s log, first come first served: the answer is granted (settled), pending (not settled yet: you are told later) or denied (naming the holder and until when). Claim the same paths again to renew.',
    annotations: SETS,
    input: {
      paths: z.preprocess((v) => typeof v === 'string' ? [v] : v, z.array(z.string().min(1, 'must not be empty').max(CLAIM_LIMITS.path, `must be at most ${CLAIM_LIMITS.path} characters`)).min(1, 'must name at least one path or resource').max(CLAIM_LIMITS.paths, `must be at most ${CLAIM_LIMITS.paths} paths`)).describe('file globs relative to the repository root (or absolute paths inside it), or resource names'),
      mode: z.enum(CLAIM_MODES).optional().describe('exclusive (default): nobody else; shared: others may claim shared too'),
      ttl_minutes: z.number().int().min(1, 'must be at least 1').max(1440, 'must be at most 1440 (24 h)').optional().describe('how long it lasts (default 30); claim again to renew'),
      note: z.string().max(CLAIM_LIMITS.note, `must be at most ${CLAIM_LIMITS.note} characters`).optional().describe('what you are doing, shown to others')
    },
    guide: 'before editing files others might touch, claim them (globs relative to the repo, or resource names); work on them only once granted. Denied names the holder: pick other work or ask it. Renew by claiming again; release when done.',
    method: 'claims.claim',
    params: (a) => ({ paths: a.paths, mode: a.mode, ttlMs: (a.ttl_minutes ?? 30) * 60_000, note: a.note ?? '' }),
    format: formatClaimAnswer,
    structured: (r) => ({ ...r })
  }),
  tool({
    name: 'release',
    title: 'Release claims',
    description: 'Release claims you hold, by id, or all of this session\'s (`all: true`). Claims also end at their time, and when this session ends.',
    annotations: DELETES,
    input: { ids: z.array(z.string().regex(/^[0-9a-f]{32}$/, 'must be a 32-character claim id as returned by claim')).max(CLAIM_LIMITS.releaseIds).optional(), all: z.boolean().optional().describe('every claim of this session') },
    guide: 'give claims back when the work is done (ids, or all).',
    method: 'claims.release',
    params: (a) => ({ ids: a.ids ?? null, all: a.all ?? false }),
    format: (r) => r.released.length === 0 ? 'No claims to release.' : `Released ${r.released.length} claim${r.released.length === 1 ? '' : 's'}: ${r.released.join(', ')}.`,
    structured: (r) => ({ ...r })
  }),
  tool({
    name: 'list_claims',
    title: 'List claims',
    description: 'Live claims in the mesh: paths, mode, holder (session and member), until when, and whether each is granted or still pending. Filter by a path (claims covering it), a holder (session name, member label or session id prefix), or only yours.',
    annotations: READ,
    input: { path: z.string().max(4096).optional(), holder: z.string().max(200).optional(), mine: z.boolean().optional() },
    guide: 'who holds what: by path, holder, or your own.',
    method: 'claims.list',
    params: (a) => ({ path: a.path ?? null, holder: a.holder ?? null, mine: a.mine ?? false }),
    format: formatClaims,
    structured: (claims) => ({ claims })
  }),
  tool({
    name: 'share_file',
    title: 'Share a file',
    description: 'Share a file with the whole mesh (every current and future member): it stays in your machine\'s drive and others fetch it from you (or from whoever already has it) with get_file. Up to 1 GiB. Returns its id. To send a file to some sessions only, attach it to send_message instead.',
    annotations: WRITE,
    input: {
      path: pathArg.describe('the file to share (relative to your working directory, or absolute)'),
      name: fileName.optional().describe('name others see (default: the file\'s name)'),
      tags: fileTags.optional().describe('up to 20 tags of 64 characters')
    },
    guide: 'files for the whole mesh (up to 1 GiB each), fetched peer to peer. Share artefacts others need instead of pasting them into messages.',
    method: 'files.share',
    params: (a, ctx) => ({ path: resolve(ctx, a.path), name: a.name ?? null, tags: a.tags ?? [] }),
    format: (e) => `Shared ${oneLine(e.name)} (${humanBytes(e.size)}) as ${e.id}.`,
    structured: (file) => ({ file })
  }),
  tool({
    name: 'get_file',
    title: 'Get a file',
    description: 'Fetch a file shared in the mesh or attached to a message you received, verify it and save it. The file appears complete or not at all; an existing file is kept unless overwrite is true.',
    annotations: { ...WRITE, idempotentHint: true },
    input: {
      id: fileId.describe('the file id from list_files or a message'),
      save_to: pathArg.describe('where to write it (relative to your working directory, or absolute)'),
      overwrite: z.boolean().optional().describe('replace an existing file (default false)')
    },
    guide: 'fetch one (shared, or attached to a message to you), verified, to a path.',
    method: 'files.get',
    params: (a, ctx) => ({ id: a.id, saveTo: resolve(ctx, a.save_to), overwrite: a.overwrite ?? false }),
    format: (r) => `Saved ${oneLine(r.name)} (${humanBytes(r.bytes)}, verified) to ${r.path}.`,
    structured: (r) => ({ ...r })
  }),
  tool({
    name: 'list_files',
    title: 'List files',
    description: 'List the files you can fetch: everything shared with the mesh, plus attachments sent to you or by you. Filter by a query (name or tag), by who shared it, or by tags.',
    annotations: READ,
    input: {
      query: z.string().max(256, 'must be at most 256 characters').optional(),
      from: z.string().max(200, 'must be at most 200 characters').optional().describe('session name, member label or session id prefix'),
      tags: fileTags.optional().describe('only files with all these tags')
    },
    guide: 'what you can fetch, by name, tag or who shared it.',
    method: 'files.list',
    params: (a) => ({ query: a.query ?? null, from: a.from ?? null, tags: a.tags ?? [] }),
    format: formatFiles,
    structured: (files) => ({ files })
  }),
  tool({
    name: 'file_status',
    title: 'File status',
    description: 'One file: what it is, who shared it, and who fetched it when.',
    annotations: READ,
    input: { id: fileId },
    guide: 'one file and who fetched it when.',
    method: 'files.status',
    params: (a) => ({ id: a.id }),
    format: formatFileStatus,
    structured: (r) => ({ ...r })
  }),
  tool({
    name: 'delete_file',
    title: 'Delete a file',
    description: 'Delete a file for everyone (only its uploader or the mesh owner can); the uploader\'s copy of the bytes is cleared.',
    annotations: DELETES,
    input: { id: fileId },
    guide: 'remove one for everyone (its uploader or the mesh owner).',
    method: 'files.delete',
    params: (a) => ({ id: a.id }),
    format: (r) => `Deleted ${oneLine(r.name)} (${r.id}).`,
    structured: (r) => ({ ...r })
  })
] as const

export type AnyTool = Tool<Method, z.ZodRawShape>

export const TOOL_LIST = TOOLS as unknown as readonly AnyTool[]

export function toolNamed (name: string): AnyTool | undefined {
  return TOOL_LIST.find((t) => t.name === name)
}

/** `send_message(to, message, priority?, ...)`: its arguments, optional ones marked. */
export function signature (t: AnyTool): string {
  const args = Object.entries(t.input).map(([name, schema]) => (schema as z.ZodType).safeParse(undefined).success ? `${name}?` : name)
  return `${t.name}(${args.join(', ')})`
}

/** The JSON Schema clients see: the input with its limits (refinements such as byte counts are checked on call). */
export function inputJsonSchema (t: AnyTool): Record<string, unknown> {
  const schema = z.toJSONSchema(z.object(t.input), { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>
  delete schema.$schema
  return schema
}

/** What the hints say, as the README's table puts it. */
export function hintsOf (t: AnyTool): string {
  return t.annotations.readOnlyHint ? 'read-only' : t.annotations.destructiveHint ? 'destructive' : 'writes'
}
