// Ops of the shared log (autobase) and the deterministic checks apply() runs on them. No I/O, no clock.
import { z } from 'zod'
import b4a from 'b4a'
import { verifyReceipt } from 'blind-pairing-core'
import { hexKey, hexSignature, timestamp, nameSchema } from './schema.js'
import { LIMITS } from './limits.js'
import { verifyInviteCert, decodeMemberKeys, type InviteCert } from './invite.js'
import { sign, verify, toHex } from './crypto.js'
import { MeshError } from './errors.js'

const label = z.string().min(1).max(LIMITS.displayName)
const role = z.enum(['member', 'admin'])

export const InitOp = z.object({
  type: z.literal('init'),
  v: z.literal(1),
  at: timestamp,
  meshName: nameSchema(LIMITS.meshName),
  ownerKey: hexKey,
  swarmKey: hexKey,
  label
})

export const InviteCertSchema = z.object({
  invitePublicKey: hexKey,
  role,
  uses: z.number().int().min(1).max(LIMITS.inviteUses),
  expires: timestamp,
  signature: hexSignature
})

export const JoinOp = z.object({
  type: z.literal('join'),
  v: z.literal(1),
  at: timestamp,
  label,
  cert: InviteCertSchema,
  receipt: z.string().regex(/^[0-9a-f]+$/).max(1024)
})

export const MemberRemoveOp = z.object({
  type: z.literal('member.remove'),
  v: z.literal(1),
  at: timestamp,
  writerKey: hexKey,
  signature: hexSignature
})

/** Who wrote a state entry: the session (when a session did) and the member's label. */
export const Author = z.object({
  session: z.string().max(LIMITS.displayName).nullable(),
  sessionId: z.string().regex(/^[0-9a-f]{64}$/).nullable(),
  member: z.string().max(LIMITS.displayName)
})
export type Author = z.infer<typeof Author>

export const stateKey = z.string()
  .min(1, 'must not be empty')
  .max(LIMITS.stateKey, `must be at most ${LIMITS.stateKey} characters`)
  .refine((k) => !/[\u0000-\u001f\u007f]/.test(k), 'must not contain control characters')

export const StateSetOp = z.object({
  type: z.literal('state.set'),
  v: z.literal(1),
  at: timestamp,
  key: stateKey,
  value: z.unknown().refine((v) => v !== undefined, 'is required'),
  by: Author
})

export const StateDeleteOp = z.object({
  type: z.literal('state.delete'),
  v: z.literal(1),
  at: timestamp,
  key: stateKey,
  by: Author
})

export const memoryId = z.string().regex(/^[0-9a-f]{32}$/, 'must be a 32-character memory id as returned by remember')
export const memoryTags = z.array(z.string().min(1, 'must not be empty').max(LIMITS.memoryTag, `must be at most ${LIMITS.memoryTag} characters`))
  .max(LIMITS.memoryTags, `must be at most ${LIMITS.memoryTags} tags`)
export const memoryContent = z.string()
  .min(1, 'must not be empty')
  .refine((c) => Buffer.byteLength(c) <= LIMITS.memoryEntry, `must be at most ${LIMITS.memoryEntry} bytes`)

export const MemoryAddOp = z.object({
  type: z.literal('memory.add'),
  v: z.literal(1),
  at: timestamp,
  id: memoryId,
  content: memoryContent,
  tags: memoryTags,
  by: Author
})

export const MemoryForgetOp = z.object({
  type: z.literal('memory.forget'),
  v: z.literal(1),
  at: timestamp,
  id: memoryId,
  by: Author
})

export const fileId = z.string().regex(/^[0-9a-f]{32}$/, 'must be a 32-character file id as returned by share_file or a message')
export const fileName = z.string()
  .min(1, 'must not be empty')
  .max(LIMITS.fileName, `must be at most ${LIMITS.fileName} characters`)
  .refine((n) => !/[\/\\\u0000-\u001f\u007f]/.test(n), 'must not contain "/", "\\" or control characters')
  .refine((n) => n !== '.' && n !== '..', 'must not be "." or ".."')
export const fileTags = z.array(z.string().min(1, 'must not be empty').max(LIMITS.fileTag, `must be at most ${LIMITS.fileTag} characters`))
  .max(LIMITS.fileTags, `must be at most ${LIMITS.fileTags} tags`)
const count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER)
export const BlobPointer = z.object({ blockOffset: count, blockLength: count, byteOffset: count, byteLength: count })
export const FILE_KINDS = ['persistent', 'attachment'] as const

/** A file in a member's own hyperdrive, indexed for the mesh: what it is and where its bytes are. */
export const FileAddOp = z.object({
  type: z.literal('file.add'),
  v: z.literal(1),
  at: timestamp,
  id: fileId,
  name: fileName,
  size: count,
  mime: z.string().min(1).max(255),
  tags: fileTags,
  by: Author,
  kind: z.enum(FILE_KINDS),
  /** attachments: the recipients (session ids, or names queued while offline); null for persistent files */
  audience: z.array(z.string().min(1).max(200)).max(256).nullable(),
  expiresAt: timestamp.nullable(),
  drive: hexKey,
  blobs: hexKey,
  path: z.string().min(1).max(300),
  version: count,
  blob: BlobPointer,
  /** sha256 of the bytes as stored (sealed bytes for attachments) */
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  encrypted: z.boolean()
})

export const FileAccessOp = z.object({ type: z.literal('file.access'), v: z.literal(1), at: timestamp, id: fileId, by: Author })

export const FileDeleteOp = z.object({ type: z.literal('file.delete'), v: z.literal(1), at: timestamp, id: fileId, by: Author, reason: z.enum(['deleted', 'expired']) })

export const Op = z.discriminatedUnion('type', [InitOp, JoinOp, MemberRemoveOp, StateSetOp, StateDeleteOp, MemoryAddOp, MemoryForgetOp, FileAddOp, FileAccessOp, FileDeleteOp])
export type FileAddOp = z.infer<typeof FileAddOp>
export type Op = z.infer<typeof Op>
export type StateSetOp = z.infer<typeof StateSetOp>
export type StateDeleteOp = z.infer<typeof StateDeleteOp>

/** A state value must be JSON that survives a round trip, within the size limit. Returns its text. */
export function checkStateValue (value: unknown): string {
  let text: string | undefined
  try {
    text = JSON.stringify(value)
  } catch (err) {
    throw MeshError.BAD_INPUT('value', `must be JSON-serialisable (${(err as Error).message})`)
  }
  if (text === undefined) throw MeshError.BAD_INPUT('value', 'must be a JSON value (not undefined, a function or a symbol)')
  if (Buffer.byteLength(text) > LIMITS.stateValue) throw MeshError.BAD_INPUT('value', `must be at most ${LIMITS.stateValue} bytes as JSON (it is ${Buffer.byteLength(text)})`)
  return text
}
export type InitOp = z.infer<typeof InitOp>
export type JoinOp = z.infer<typeof JoinOp>
export type MemberRemoveOp = z.infer<typeof MemberRemoveOp>

/** Returns the op if it is well-formed, else null: apply() ignores what it cannot read. */
export function readOp (value: unknown): Op | null {
  const result = Op.safeParse(value)
  return result.success ? result.data : null
}

export interface MemberRecord {
  writerKey: string
  swarmKey: string
  signingKey: string
  role: 'owner' | 'member' | 'admin'
  label: string
  joinedAt: number
  invite: string | null
}

export type JoinVerdict = { ok: true, member: MemberRecord } | { ok: false, reason: string }

export interface JoinContext {
  meshKey: Buffer
  ownerKey: Buffer
  /** writer key of the node that carries the op */
  from: Buffer
  /** how many times this invite was used earlier in the view */
  usesSoFar: number
  alreadyMember: boolean
}

/** The deterministic check of a `join` op: owner cert, receipt bound to the writer, uses left. */
export function verifyJoin (op: JoinOp, ctx: JoinContext): JoinVerdict {
  if (ctx.alreadyMember) return { ok: false, reason: 'already a member' }
  const cert: InviteCert = op.cert
  if (!verifyInviteCert(ctx.meshKey, cert, ctx.ownerKey)) return { ok: false, reason: 'certificate not signed by the owner' }
  if (ctx.usesSoFar >= cert.uses) return { ok: false, reason: 'invite already used' }
  let userData: Buffer | null = null
  try {
    userData = verifyReceipt(b4a.from(op.receipt, 'hex'), b4a.from(cert.invitePublicKey, 'hex'))
  } catch {
    userData = null
  }
  const keys = decodeMemberKeys(userData)
  if (keys === null) return { ok: false, reason: 'receipt not signed by the invite' }
  if (!b4a.equals(keys.writerKey, ctx.from)) return { ok: false, reason: 'receipt is for another writer' }
  return {
    ok: true,
    member: {
      writerKey: toHex(keys.writerKey),
      swarmKey: toHex(keys.swarmKey),
      signingKey: toHex(keys.signingKey),
      role: cert.role,
      label: op.label,
      joinedAt: op.at,
      invite: cert.invitePublicKey
    }
  }
}

function removeParts (meshKey: Buffer, writerKey: string, at: number): Buffer[] {
  return [meshKey, b4a.from(writerKey, 'hex'), b4a.from(String(at))]
}

export function signMemberRemove (meshKey: Buffer, writerKey: string, at: number, ownerSecretKey: Buffer): MemberRemoveOp {
  return { type: 'member.remove', v: 1, at, writerKey, signature: toHex(sign('memberRemove', removeParts(meshKey, writerKey, at), ownerSecretKey)) }
}

export function verifyMemberRemove (meshKey: Buffer, op: MemberRemoveOp, ownerKey: Buffer): boolean {
  return verify('memberRemove', removeParts(meshKey, op.writerKey, op.at), b4a.from(op.signature, 'hex'), ownerKey)
}
