// What Claude reads of the mesh: tool results, the hooks' context, channel notifications. Every
// field another member wrote goes through protocol/display.ts: one-line fields stay on one line,
// bodies sit in a block they cannot close, and a sender is named by the member the view knows.
import { humanBytes } from '../cli/output.js'
import { oneLine, block, body, memberName } from '../../protocol/display.js'
import type { SessionInfo } from '../../protocol/session-wire.js'
import type { SendResult, Delivered, StateChange, AttachmentInfo, StateEntry, FileEntry, FileAccess, RecallHit, Author, ClaimView, ClaimAnswer } from '../daemon/contract.js'
import { CLAIM_LIMITS } from '../../protocol/claims.js'

export const MESSAGE_TAG = 'claudemesh-message'

function who (by: Author): string {
  return `${oneLine(by.session ?? 'a person')} on ${oneLine(by.member)}`
}

export function formatAttachments (files: AttachmentInfo[]): string {
  if (files.length === 0) return ''
  return '\n' + files.map((f) => `[attachment ${f.id}: ${oneLine(f.name)}, ${humanBytes(f.size)} (${f.size} bytes); fetch with get_file]`).join('\n')
}

/** One message as a block: who sent it (session, member as the view knows it), then its text. */
export function formatMessage (m: Delivered): string {
  return block(MESSAGE_TAG, {
    from: m.from.name,
    from_id: m.from.id,
    member: memberName(m.from.label, m.from.member),
    priority: m.priority,
    id: m.id,
    thread: m.thread !== m.id ? m.thread : null,
    reply_to: m.replyTo,
    group: m.group
  }, m.content + formatAttachments(m.files))
}

export function formatMessages (messages: Delivered[]): string {
  if (messages.length === 0) return 'No new messages.'
  return `${messages.length} message${messages.length === 1 ? '' : 's'} (reply with send_message to the sender's name or from_id):\n${messages.map(formatMessage).join('\n')}`
}

/** Held messages as text Claude reads at the start of a turn (hooks). */
export function formatForContext (messages: Delivered[]): string {
  return `Messages from other sessions in mesh ${oneLine(messages[0].mesh)} (reply with claudemesh's send_message to the sender's name or from_id):\n${messages.map(formatMessage).join('\n')}`
}

/**
 * A message as it goes into the session's Claude Code inbox (which adds that another Claude session
 * sent it): the mark the transcript is searched for, the block, and how to answer on the mesh.
 */
export function inboxText (m: Delivered): string {
  return `claudemesh message ${m.id} (mesh ${oneLine(m.mesh)}):\n${formatMessage(m)}\n` +
    `Reply on the mesh with claudemesh's send_message (to: "${m.from.name}", reply_to: "${m.id}"), not SendMessage: SendMessage cannot reach claudemesh sessions.`
}

/** A channel notification's content and meta for one message. */
export function messageNotification (m: Delivered): { content: string, meta: Record<string, string> } {
  const meta: Record<string, string> = {
    from_name: m.from.name,
    from_id: m.from.id,
    from_member: memberName(m.from.label, m.from.member),
    mesh: oneLine(m.mesh),
    priority: m.priority,
    message_id: m.id,
    thread: m.thread
  }
  if (m.replyTo !== null) meta.reply_to = m.replyTo
  if (m.group !== null) meta.group = m.group
  if (m.files.length > 0) meta.attachments = JSON.stringify(m.files.map((f) => ({ id: f.id, name: oneLine(f.name), size: f.size })))
  return { content: body(m.content + formatAttachments(m.files), 'channel'), meta }
}

export function stateNotification (s: StateChange): { content: string, meta: Record<string, string> } {
  const by = oneLine(s.by.session ?? s.by.member)
  const key = oneLine(s.key)
  const content = s.deleted ? `${by} deleted state "${key}"` : `${by} set state "${key}" = ${JSON.stringify(s.value)}`
  return {
    content: body(content, 'channel'),
    meta: { kind: 'state_change', key, value: JSON.stringify(s.value), by, by_member: oneLine(s.by.member), mesh: oneLine(s.mesh), deleted: String(s.deleted) }
  }
}

export function formatHits (hits: RecallHit[]): string {
  if (hits.length === 0) return 'Nothing found.'
  return hits.map((h) => block('memory', {
    id: h.id,
    score: String(h.score),
    tags: h.tags.length > 0 ? h.tags.join(', ') : null,
    by: who(h.by),
    at: new Date(h.at).toISOString()
  }, h.content)).join('\n')
}

export function formatEntry (e: StateEntry): string {
  return `${oneLine(e.key)} = ${JSON.stringify(e.value)} (set by ${who(e.by)}, ${new Date(e.at).toISOString()})`
}

export function formatGroups (s: SessionInfo): string {
  return s.groups.length === 0 ? 'none' : s.groups.map((g) => g.role === null ? `@${g.name}` : `@${g.name}:${oneLine(g.role)}`).join(', ')
}

export function formatSend (r: SendResult): string {
  const lines = r.recipients.map((x) => `- ${oneLine(x.name)}${x.id !== null ? ` (${x.id})` : ''}: ${x.status}${x.via !== null ? ` (${x.via})` : ''}`)
  return `Message ${r.id}${r.thread !== r.id ? ` (thread ${r.thread})` : ''}\n${lines.join('\n')}${r.queuedFor.length > 0 ? `\nQueued for 24 h until online: ${r.queuedFor.join(', ')}.` : ''}`
}

export function formatFile (f: FileEntry): string {
  const kind = f.kind === 'attachment' ? `attachment, expires ${new Date(f.expiresAt ?? 0).toISOString()}` : 'shared'
  return `- ${f.id} ${oneLine(f.name)} (${humanBytes(f.size)}, ${oneLine(f.mime)}${f.tags.length > 0 ? `, tags ${oneLine(f.tags.join(', '))}` : ''}; ${kind}; by ${who(f.by)}, ${new Date(f.at).toISOString()})`
}

export function formatFiles (files: FileEntry[]): string {
  return files.length === 0 ? 'No files.' : `Files:\n${files.map(formatFile).join('\n')}`
}

export function formatFileStatus (r: { file: FileEntry, accesses: FileAccess[] }): string {
  const fetched = r.accesses.length === 0 ? 'Nobody has fetched it yet.' : `Fetched by:\n${r.accesses.map((a) => `- ${who(a.by)}, ${new Date(a.at).toISOString()}`).join('\n')}`
  return `${formatFile(r.file).slice(2)}\n${fetched}`
}

/** One line per session; every field a member wrote is kept to one line. */
export function formatPeers (r: { self: string, mesh: string, sessions: SessionInfo[], claims?: ClaimView[] }): string {
  if (r.sessions.length === 0) return `Nobody is online in ${oneLine(r.mesh)}.`
  const lines = r.sessions.map((s) => {
    const held = (r.claims ?? []).filter((c) => c.session.id === s.id && c.verdict === 'granted')
    const summary = (s.summary !== '' ? `; ${oneLine(s.summary)}` : '') + (held.length > 0 ? `; claims ${held.map((c) => `${claimPaths(c)} (${c.mode})`).join('; ')}` : '')
    const receives = s.receives !== undefined ? `, receives by ${s.receives}` : ''
    return `- ${s.name}${s.id === r.self ? ' (you)' : ''} ${s.id} role ${oneLine(s.role)}, ${s.status}${receives}, groups ${formatGroups(s)}${summary}; cwd ${oneLine(s.cwd)}; member ${memberName(s.label, s.member)}`
  })
  return `Sessions in ${oneLine(r.mesh)}:\n${lines.join('\n')}`
}

function iso (at: number): string {
  return new Date(at).toISOString()
}

function claimPaths (c: ClaimView): string {
  return c.paths.map((p) => oneLine(p)).join(', ')
}

/** One claim on one line: what, how, whose, until when, and how it stands. */
export function describeClaim (c: ClaimView): string {
  const note = c.note !== '' ? `: ${oneLine(c.note)}` : ''
  return `${c.id} ${claimPaths(c)} (${c.mode}, ${c.status}) in ${oneLine(c.repo)} by ${oneLine(c.session.name)} on ${oneLine(c.by.member)} until ${iso(c.expiresAt)}${note}`
}

function conflictText (c: ClaimView): string {
  const k = c.conflict
  if (k === null) return `this member holds too many claims (${CLAIM_LIMITS.perMember}); release some first`
  return `${claimPaths(c)} overlap${c.paths.length === 1 ? 's' : ''} claim ${k.id} of ${oneLine(k.session)} on ${oneLine(k.member)} (${k.paths.map(oneLine).join(', ')}, ${k.mode}) until ${iso(k.expiresAt)}`
}

export function formatClaimAnswer (a: ClaimAnswer): string {
  const c = a.claim
  if (a.status === 'granted') return `${a.renewed ? 'Renewed' : 'Granted'}: claim ${c.id} on ${claimPaths(c)} (${c.mode}) in ${oneLine(c.repo)} until ${iso(c.expiresAt)}. Claim again to renew; release it when done.`
  if (a.status === 'denied') return `Denied: ${conflictText(c)}. Work on something else, or ask its holder with send_message.`
  return `Pending: claim ${c.id} on ${claimPaths(c)} (${c.mode}) is in the log but not settled yet (the mesh's indexers have not confirmed it; another session's overlapping claim may still win). You will be told when it is granted or denied; until then treat these paths as not yours.`
}

export function formatClaims (claims: ClaimView[]): string {
  return claims.length === 0 ? 'No live claims.' : `Claims:\n${claims.map((c) => `- ${describeClaim(c)}`).join('\n')}`
}

/** What a session is told when its pending claim settled. */
export function claimNoticeText (n: { claim: ClaimView, status: string }): string {
  const c = n.claim
  if (n.status === 'granted') return `claudemesh: your pending claim ${c.id} on ${claimPaths(c)} is now granted (until ${iso(c.expiresAt)}).`
  return `claudemesh: your pending claim ${c.id} on ${claimPaths(c)} was DENIED once the mesh settled: ${conflictText(c)}. Stop editing those paths; coordinate with its holder.`
}
