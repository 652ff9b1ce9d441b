// Ops of the shared log (autobase) and the deterministic checks apply() runs on them. No I/O, no clock.
import { z } from 'zod'
import b4a from 'b4a'
import { verifyReceipt } from 'blind-pairing-core'
import { hexKey, hexSignature, timestamp, nameSchema } from './schema.js'
import { LIMITS } from './limits.js'
import { verifyInviteCert, decodeMemberKeys, type InviteCert } from './invite.js'
import { AdmissionSchema, verifyAdmission } from './admission.js'
import { sign, verify, toHex, fromHex } from './crypto.js'
import { MeshError } from './errors.js'
import { CLAIM_LIMITS, CLAIM_MODES, badPattern } from './claims.js'

/** No C0 controls, DEL, or line and paragraph separators: text that a peer writes and a person or Claude reads on one line. */
export function hasControl (s: string): boolean {
  return /[\u0000-\u001f\u007f\u2028\u2029]/.test(s)
}

const label = z.string().min(1, 'must not be empty').max(LIMITS.displayName, `must be at most ${LIMITS.displayName} characters`).refine((s) => !hasControl(s), 'must not contain control characters')
const role = z.enum(['member', 'admin'])

export const InitOp = z.object({
  type: z.literal('init'),
  v: z.literal(1),
  at: timestamp,
  meshName: nameSchema(LIMITS.meshName),
  ownerKey: hexKey,
  swarmKey: hexKey,
  label,
  /** the relay whose admissions this mesh accepts; absent in meshes made before admissions (see mesh.upgrade) */
  relayKey: hexKey.optional()
})

export const InviteCertSchema = z.object({
  invitePublicKey: hexKey,
  role,
  uses: z.number().int().min(1).max(LIMITS.inviteUses),
  expires: timestamp,
  signature: hexSignature
})

/**
 * A new member's first op. v2 carries the relay's signed admission; v1 (a receipt the joiner makes
 * itself with the invite seed) is accepted only by meshes that have no relay key yet.
 */
export const JoinOp = z.object({
  type: z.literal('join'),
  v: z.union([z.literal(1), z.literal(2)]),
  at: timestamp,
  label,
  cert: InviteCertSchema,
  receipt: z.string().regex(/^[0-9a-f]+$/).max(1024).optional(),
  admission: AdmissionSchema.optional()
}).refine((op) => op.v === 1 ? op.receipt !== undefined : op.admission !== undefined, 'a v1 join carries a receipt, a v2 join an admission')

/** Owner only: from now on joins need the relay's admission and files the writer's claimed drive. */
export const MeshUpgradeOp = z.object({
  type: z.literal('mesh.upgrade'),
  v: z.literal(1),
  at: timestamp,
  relayKey: hexKey,
  signature: hexSignature
})

/** Owner only: no join with this invite is admitted after this op. */
export const InviteRevokeOp = z.object({
  type: z.literal('invite.revoke'),
  v: z.literal(1),
  at: timestamp,
  invitePublicKey: hexKey,
  signature: hexSignature
})

/**
 * A member names its own file drive: the public key that signs the drive's cores, with a signature
 * by that key over (mesh, writer). Only the holder of the drive's secret key can claim it, so a
 * `file.add` can be held to the writer's own drive.
 */
export const DriveClaimOp = z.object({
  type: z.literal('drive.claim'),
  v: z.literal(1),
  at: timestamp,
  signer: hexKey,
  proof: hexSignature
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
  session: z.string().max(LIMITS.displayName).regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'must be a session name').nullable(),
  sessionId: z.string().regex(/^[0-9a-f]{64}$/).nullable(),
  member: z.string().max(LIMITS.displayName).refine((s) => !hasControl(s), 'must not contain control characters')
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
  value: z.unknown().refine((v) => v !== undefined, 'is required').refine((v) => stateValueBytes(v) <= LIMITS.stateValue, `must be at most ${LIMITS.stateValue} bytes as JSON`),
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
export const memoryTags = z.array(z.string().min(1, 'must not be empty').max(LIMITS.memoryTag, `must be at most ${LIMITS.memoryTag} characters`).refine((s) => !hasControl(s), 'must not contain control characters'))
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
export const fileTags = z.array(z.string().min(1, 'must not be empty').max(LIMITS.fileTag, `must be at most ${LIMITS.fileTag} characters`).refine((s) => !hasControl(s), 'must not contain control characters'))
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
  mime: z.string().min(1).max(255).refine((m) => !hasControl(m), 'must not contain control characters'),
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

export const claimId = z.string().regex(/^[0-9a-f]{32}$/, 'must be a 32-character claim id as returned by claim')
export const claimPattern = z.string().superRefine((p, ctx) => {
  const why = badPattern(p)
  if (why !== null) ctx.addIssue({ code: 'custom', message: why })
})
export const claimPaths = z.array(claimPattern).min(1, 'must name at least one path or resource').max(CLAIM_LIMITS.paths, `must be at most ${CLAIM_LIMITS.paths} paths`)
export const claimNote = z.string().max(CLAIM_LIMITS.note, `must be at most ${CLAIM_LIMITS.note} characters`).refine((s) => !hasControl(s), 'must not contain control characters')
export const claimTtl = z.number().int().min(CLAIM_LIMITS.minTtlMs, 'must be at least 1 minute').max(CLAIM_LIMITS.maxTtlMs, 'must be at most 24 hours')

/**
 * A session claims paths (globs relative to a repository) or resources. Decided in apply(): among
 * overlapping live claims the first in the log's order wins. The same id again from the same
 * writer renews it (a new expiry from this op's time).
 */
export const ClaimOp = z.object({
  type: z.literal('claim'),
  v: z.literal(1),
  at: timestamp,
  id: claimId,
  repo: z.string().min(1).max(CLAIM_LIMITS.repo).refine((s) => !hasControl(s), 'must not contain control characters'),
  paths: claimPaths,
  mode: z.enum(CLAIM_MODES),
  ttlMs: claimTtl,
  note: claimNote,
  session: z.object({ id: z.string().regex(/^[0-9a-f]{64}$/), name: z.string().min(1).max(LIMITS.displayName) }),
  by: Author
})

/** Claims end before their time: only their writer (or the owner) can end them. */
export const ClaimReleaseOp = z.object({
  type: z.literal('claim.release'),
  v: z.literal(1),
  at: timestamp,
  ids: z.array(claimId).min(1).max(CLAIM_LIMITS.releaseIds),
  by: Author
})

/** Owner only: the members (writer keys) that index the mesh with the owner; a majority of all of them settles history. */
export const IndexersOp = z.object({
  type: z.literal('indexers'),
  v: z.literal(1),
  at: timestamp,
  writers: z.array(hexKey).max(8)
})

export const Op = z.discriminatedUnion('type', [
  InitOp, JoinOp, MemberRemoveOp, MeshUpgradeOp, InviteRevokeOp, DriveClaimOp,
  StateSetOp, StateDeleteOp, MemoryAddOp, MemoryForgetOp, FileAddOp, FileAccessOp, FileDeleteOp,
  ClaimOp, ClaimReleaseOp, IndexersOp
])
export type ClaimOp = z.infer<typeof ClaimOp>
export type ClaimReleaseOp = z.infer<typeof ClaimReleaseOp>
export type IndexersOp = z.infer<typeof IndexersOp>
export type FileAddOp = z.infer<typeof FileAddOp>
export type Op = z.infer<typeof Op>
export type StateSetOp = z.infer<typeof StateSetOp>
export type StateDeleteOp = z.infer<typeof StateDeleteOp>

/** The size of a value as JSON; Infinity for what is not JSON. */
function stateValueBytes (value: unknown): number {
  try {
    const text = JSON.stringify(value)
    return text === undefined ? Infinity : Buffer.byteLength(text)
  } catch {
    return Infinity
  }
}

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
export type MeshUpgradeOp = z.infer<typeof MeshUpgradeOp>
export type InviteRevokeOp = z.infer<typeof InviteRevokeOp>
export type DriveClaimOp = z.infer<typeof DriveClaimOp>

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
  /** the member's own file drive and its blobs core, once it claimed them (drive.claim) */
  drive?: string
  blobs?: string
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
  /** the relay whose admissions the mesh accepts; null or absent: a mesh from before admissions (v1 receipts) */
  relayKey?: Buffer | null
  /** the owner revoked this invite earlier in the view */
  revoked?: boolean
  /** whether a current member (the owner included) already has this swarm key */
  swarmKeyInUse?: (swarmKey: string) => boolean
}

/**
 * The deterministic check of a `join` op: owner cert, uses left, not revoked, and either the
 * relay's admission (writer, expiry, a swarm key no member has) or, in a mesh without a relay key,
 * a receipt bound to the writer.
 */
export function verifyJoin (op: JoinOp, ctx: JoinContext): JoinVerdict {
  if (ctx.alreadyMember) return { ok: false, reason: 'already a member' }
  const cert: InviteCert = op.cert
  if (!verifyInviteCert(ctx.meshKey, cert, ctx.ownerKey)) return { ok: false, reason: 'certificate not signed by the owner' }
  if (ctx.revoked === true) return { ok: false, reason: 'invite revoked' }
  if (ctx.usesSoFar >= cert.uses) return { ok: false, reason: 'invite already used' }
  const relayKey = ctx.relayKey ?? null
  if (relayKey !== null) return verifyAdmitted(op, cert, relayKey, ctx)
  if (op.receipt === undefined) return { ok: false, reason: 'this mesh takes v1 joins (a receipt) only' }
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

function verifyAdmitted (op: JoinOp, cert: InviteCert, relayKey: Buffer, ctx: JoinContext): JoinVerdict {
  const a = op.admission
  if (op.v !== 2 || a === undefined) return { ok: false, reason: 'this mesh admits only joins the relay signed (v2)' }
  if (!verifyAdmission(a, relayKey)) return { ok: false, reason: 'admission not signed by the mesh\'s relay' }
  if (a.meshKey !== toHex(ctx.meshKey)) return { ok: false, reason: 'admission is for another mesh' }
  if (a.invitePublicKey !== cert.invitePublicKey) return { ok: false, reason: 'admission is for another invite' }
  if (a.writerKey !== toHex(ctx.from)) return { ok: false, reason: 'admission is for another writer' }
  if (a.at > cert.expires) return { ok: false, reason: 'invite had expired when the relay paired it' }
  if (ctx.swarmKeyInUse?.(a.swarmKey) === true) return { ok: false, reason: 'swarm key already used by a member' }
  return {
    ok: true,
    member: { writerKey: a.writerKey, swarmKey: a.swarmKey, signingKey: a.signingKey, role: cert.role, label: op.label, joinedAt: op.at, invite: cert.invitePublicKey }
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

function keyAtParts (meshKey: Buffer, key: string, at: number): Buffer[] {
  return [meshKey, fromHex(key), b4a.from(JSON.stringify([at]))]
}

export function signMeshUpgrade (meshKey: Buffer, relayKey: string, at: number, ownerSecretKey: Buffer): MeshUpgradeOp {
  return { type: 'mesh.upgrade', v: 1, at, relayKey, signature: toHex(sign('meshUpgrade', keyAtParts(meshKey, relayKey, at), ownerSecretKey)) }
}

export function verifyMeshUpgrade (meshKey: Buffer, op: MeshUpgradeOp, ownerKey: Buffer): boolean {
  return verify('meshUpgrade', keyAtParts(meshKey, op.relayKey, op.at), fromHex(op.signature), ownerKey)
}

export function signInviteRevoke (meshKey: Buffer, invitePublicKey: string, at: number, ownerSecretKey: Buffer): InviteRevokeOp {
  return { type: 'invite.revoke', v: 1, at, invitePublicKey, signature: toHex(sign('inviteRevoke', keyAtParts(meshKey, invitePublicKey, at), ownerSecretKey)) }
}

export function verifyInviteRevoke (meshKey: Buffer, op: InviteRevokeOp, ownerKey: Buffer): boolean {
  return verify('inviteRevoke', keyAtParts(meshKey, op.invitePublicKey, op.at), fromHex(op.signature), ownerKey)
}

/** Signed with the drive's own key pair: proves the writer holds that drive. */
export function signDriveClaim (meshKey: Buffer, writerKey: string, at: number, driveKeyPair: { publicKey: Buffer, secretKey: Buffer }): DriveClaimOp {
  return { type: 'drive.claim', v: 1, at, signer: toHex(driveKeyPair.publicKey), proof: toHex(sign('driveClaim', [meshKey, fromHex(writerKey)], driveKeyPair.secretKey)) }
}

export function verifyDriveClaim (meshKey: Buffer, writerKey: string, op: DriveClaimOp): boolean {
  return verify('driveClaim', [meshKey, fromHex(writerKey)], fromHex(op.proof), fromHex(op.signer))
}
