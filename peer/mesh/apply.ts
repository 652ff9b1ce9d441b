// The mesh's apply(): deterministic, reads no clock, touches only the view and the host.
// A writer is admitted only through a verified `join`; anything else from a non-writer is ignored.
//
// Two rule sets, chosen by the log itself: a mesh whose genesis op names its relay (or whose owner
// appended `mesh.upgrade`) is *strict*: joins need the relay's signed admission, an invite the owner
// revoked admits nobody, no two members share a swarm key, and a `file.add` must point at the
// writer's claimed drive. Meshes made before that keep the old rules for the ops before the upgrade,
// so replaying their history gives the same view it always did.
import type { ApplyNode, Host } from 'autobase'
import b4a from 'b4a'
import {
  readOp, verifyJoin, verifyMemberRemove, verifyMeshUpgrade, verifyInviteRevoke, verifyDriveClaim,
  type JoinOp, type MemberRecord, type Author, type FileAddOp, type DriveClaimOp
} from '../../protocol/ops.js'
import { fromHex, toHex } from '../../protocol/crypto.js'
import { driveKeysFor } from './drive-keys.js'
import { applyClaim, applyRelease, dropClaimsOf, ClaimsTable } from './claims-apply.js'
import type { View } from './view.js'
import { KEYS } from './view.js'

export interface OwnerRecord {
  signingKey: string
  writerKey: string
  swarmKey: string
  meshName: string
  createdAt: number
  /** the relay whose admissions the mesh accepts; absent: a mesh from before admissions, not upgraded yet */
  relayKey?: string
}
export interface InviteUse { uses: number, by: string[] }
export interface RemovedRecord { swarmKey: string, at: number, label?: string }
export interface MemoryEntry { id: string, content: string, tags: string[], by: Author, at: number, writer: string }

/** A file the mesh can fetch: the file.add op as applied, with the writer that added it. */
export type FileEntry = Omit<FileAddOp, 'type' | 'v'> & { writer: string }
export interface FileAccess { by: Author, at: number, writer: string }
/** What is left of a deleted file: enough for its uploader (and any cache) to clear the blocks. */
export interface FileTombstone { id: string, at: number, by: Author, reason: 'deleted' | 'expired', writer: string, blobs: string, blob: FileEntry['blob'], path: string }

/** A state entry; a deleted key keeps a tombstone so every peer knows who deleted it and when. */
export interface StateEntry { key: string, value: unknown, by: Author, at: number, writer: string, deleted?: true }

export async function apply (nodes: Array<ApplyNode<unknown>>, view: View, host: Host): Promise<void> {
  const claims = new ClaimsTable(view)
  for (const node of nodes) {
    if (node.value === null) continue
    const op = readOp(node.value)
    if (op === null) continue
    if (node.optimistic) {
      if (op.type === 'join') await applyJoin(op, node.from.key, view, host)
      continue
    }
    const writer = toHex(node.from.key)
    switch (op.type) {
      case 'init': {
        if (!b4a.equals(node.from.key, host.key) || (await view.get(KEYS.owner)) !== null) break
        const owner: OwnerRecord = { signingKey: op.ownerKey, writerKey: writer, swarmKey: op.swarmKey, meshName: op.meshName, createdAt: op.at, ...(op.relayKey === undefined ? {} : { relayKey: op.relayKey }) }
        await view.put(KEYS.owner, owner)
        const member: MemberRecord = { writerKey: owner.writerKey, swarmKey: op.swarmKey, signingKey: op.ownerKey, role: 'owner', label: op.label, joinedAt: op.at, invite: null }
        await view.put(KEYS.member(owner.writerKey), member)
        if (owner.relayKey !== undefined) await view.put(KEYS.swarm(op.swarmKey), owner.writerKey)
        break
      }
      case 'join':
        await applyJoin(op, node.from.key, view, host)
        break
      case 'mesh.upgrade': {
        const owner = await ownerOf(view)
        if (owner === null || writer !== owner.writerKey || owner.relayKey !== undefined) break
        if (!verifyMeshUpgrade(host.key, op, fromHex(owner.signingKey))) break
        await view.put(KEYS.owner, { ...owner, relayKey: op.relayKey } satisfies OwnerRecord)
        // the swarm key index strict meshes keep, built from the members so far
        const members: MemberRecord[] = []
        for await (const e of view.createReadStream(KEYS.membersRange)) members.push(e.value as MemberRecord)
        for (const m of members) await view.put(KEYS.swarm(m.swarmKey), m.writerKey)
        break
      }
      case 'invite.revoke': {
        const owner = await ownerOf(view)
        if (owner === null || writer !== owner.writerKey) break
        if (!verifyInviteRevoke(host.key, op, fromHex(owner.signingKey))) break
        await view.put(KEYS.revokedInvite(op.invitePublicKey), { at: op.at })
        break
      }
      case 'member.remove': {
        const owner = await ownerOf(view)
        if (owner === null || writer !== owner.writerKey) break
        if (!verifyMemberRemove(host.key, op, fromHex(owner.signingKey))) break
        if (op.writerKey === owner.writerKey) break
        const existing = await memberOf(view, op.writerKey)
        if (existing === null) break
        await view.del(KEYS.member(op.writerKey))
        if ((await view.get(KEYS.swarm(existing.swarmKey)))?.value === op.writerKey) await view.del(KEYS.swarm(existing.swarmKey))
        const removed: RemovedRecord = { swarmKey: existing.swarmKey, at: op.at, label: existing.label }
        await view.put(KEYS.removed(op.writerKey), removed)
        await dropClaimsOf(op.writerKey, claims)
        const indexers = ((await view.get(KEYS.indexers))?.value as string[] | undefined) ?? []
        if (indexers.includes(op.writerKey)) await view.put(KEYS.indexers, indexers.filter((w) => w !== op.writerKey))
        const key = fromHex(op.writerKey)
        if (host.removeable(key)) await host.removeWriter(key)
        break
      }
      case 'indexers': {
        const owner = await ownerOf(view)
        if (owner === null || writer !== owner.writerKey) break
        const before = ((await view.get(KEYS.indexers))?.value as string[] | undefined) ?? []
        const after: string[] = []
        for (const w of op.writers) if (w !== owner.writerKey && !after.includes(w) && (await memberOf(view, w)) !== null) after.push(w)
        for (const w of before) if (!after.includes(w) && (await memberOf(view, w)) !== null) await host.addWriter(fromHex(w), { indexer: false })
        for (const w of after) if (!before.includes(w)) await host.addWriter(fromHex(w), { indexer: true })
        await view.put(KEYS.indexers, after)
        break
      }
      case 'claim': {
        if ((await memberOf(view, writer)) === null) break
        await applyClaim(op, writer, await authorOf(view, writer, op.by), claims)
        break
      }
      case 'claim.release':
        await applyRelease(op, writer, (await ownerOf(view))?.writerKey ?? null, claims)
        break
      case 'drive.claim':
        await applyDriveClaim(op, writer, view, host)
        break
      case 'state.set': {
        // last write in the linearized order wins: the same on every peer
        const entry: StateEntry = { key: op.key, value: op.value, by: await authorOf(view, writer, op.by), at: op.at, writer }
        await view.put(KEYS.state(op.key), entry)
        break
      }
      case 'memory.add': {
        if ((await view.get(KEYS.forgotten(op.id))) !== null) break // forgotten entries never come back
        const entry: MemoryEntry = { id: op.id, content: op.content, tags: op.tags, by: await authorOf(view, writer, op.by), at: op.at, writer }
        await view.put(KEYS.memory(op.id), entry)
        break
      }
      case 'memory.forget':
        await view.del(KEYS.memory(op.id))
        await view.put(KEYS.forgotten(op.id), { at: op.at, by: await authorOf(view, writer, op.by) })
        break
      case 'file.add': {
        if ((await view.get(KEYS.fileDeleted(op.id))) !== null || (await view.get(KEYS.file(op.id))) !== null) break
        if (!(await ownDrive(view, writer, op))) break
        const { type: _t, v: _v, ...fields } = op
        const entry: FileEntry = { ...fields, by: await authorOf(view, writer, op.by), writer }
        await view.put(KEYS.file(op.id), entry)
        break
      }
      case 'file.access': {
        if ((await view.get(KEYS.file(op.id))) === null) break
        const access: FileAccess = { by: await authorOf(view, writer, op.by), at: op.at, writer }
        await view.put(KEYS.access(op.id, writer, op.at), access)
        break
      }
      case 'file.delete': {
        // the uploader (the writer that added it) or the owner only
        const entry = (await view.get(KEYS.file(op.id)))?.value as FileEntry | undefined
        if (entry === undefined) break
        const owner = await ownerOf(view)
        if (writer !== entry.writer && writer !== owner?.writerKey) break
        const accessKeys: string[] = []
        for await (const a of view.createReadStream(KEYS.accessRange(op.id))) accessKeys.push(a.key)
        for (const key of accessKeys) await view.del(key)
        await view.del(KEYS.file(op.id))
        const tombstone: FileTombstone = { id: op.id, at: op.at, by: await authorOf(view, writer, op.by), reason: op.reason, writer: entry.writer, blobs: entry.blobs, blob: entry.blob, path: entry.path }
        await view.put(KEYS.fileDeleted(op.id), tombstone)
        break
      }
      case 'state.delete': {
        const tombstone: StateEntry = { key: op.key, value: null, by: await authorOf(view, writer, op.by), at: op.at, writer, deleted: true }
        await view.put(KEYS.state(op.key), tombstone)
        break
      }
    }
  }
}

async function ownerOf (view: View): Promise<OwnerRecord | null> {
  return ((await view.get(KEYS.owner))?.value as OwnerRecord | undefined) ?? null
}

async function memberOf (view: View, writerKey: string): Promise<MemberRecord | null> {
  return ((await view.get(KEYS.member(writerKey)))?.value as MemberRecord | undefined) ?? null
}

/** The author as the view knows it: the session is what the writer's daemon says, the member label is the view's. */
async function authorOf (view: View, writer: string, by: Author): Promise<Author> {
  const member = await memberOf(view, writer)
  return member === null ? by : { ...by, member: member.label }
}

async function applyJoin (op: JoinOp, from: Buffer, view: View, host: Host): Promise<void> {
  const owner = await ownerOf(view)
  if (owner === null) return
  const used = (await view.get(KEYS.invite(op.cert.invitePublicKey)))?.value as InviteUse | undefined
  const strict = owner.relayKey !== undefined
  const swarmOwner = strict && op.admission !== undefined ? (await view.get(KEYS.swarm(op.admission.swarmKey)))?.value ?? null : null
  const verdict = verifyJoin(op, {
    meshKey: host.key,
    ownerKey: fromHex(owner.signingKey),
    from,
    usesSoFar: used?.uses ?? 0,
    alreadyMember: (await memberOf(view, toHex(from))) !== null,
    relayKey: strict ? fromHex(owner.relayKey as string) : null,
    revoked: (await view.get(KEYS.revokedInvite(op.cert.invitePublicKey))) !== null,
    swarmKeyInUse: () => swarmOwner !== null
  })
  if (!verdict.ok) return
  const use: InviteUse = { uses: (used?.uses ?? 0) + 1, by: [...(used?.by ?? []), verdict.member.writerKey] }
  await view.put(KEYS.invite(op.cert.invitePublicKey), use)
  await view.put(KEYS.member(verdict.member.writerKey), verdict.member)
  if (strict) await view.put(KEYS.swarm(verdict.member.swarmKey), verdict.member.writerKey)
  await view.del(KEYS.removed(verdict.member.writerKey))
  await host.addWriter(from, { indexer: false })
}

/** A member names its drive once; a drive (or its blobs core) another member claimed is not taken over. */
async function applyDriveClaim (op: DriveClaimOp, writer: string, view: View, host: Host): Promise<void> {
  const member = await memberOf(view, writer)
  if (member === null || member.drive !== undefined) return
  if (!verifyDriveClaim(host.key, writer, op)) return
  const keys = driveKeysFor(op.signer)
  if ((await view.get(KEYS.drive(keys.drive))) !== null || (await view.get(KEYS.drive(keys.blobs))) !== null) return
  await view.put(KEYS.drive(keys.drive), writer)
  await view.put(KEYS.drive(keys.blobs), writer)
  await view.put(KEYS.member(writer), { ...member, drive: keys.drive, blobs: keys.blobs } satisfies MemberRecord)
}

/**
 * Whether a file.add points at the writer's own drive: in a strict mesh the drive it claimed; in an
 * older mesh also an unclaimed one, but never a drive or blobs core another member claimed.
 */
async function ownDrive (view: View, writer: string, op: FileAddOp): Promise<boolean> {
  const member = await memberOf(view, writer)
  if (member?.drive !== undefined) return member.drive === op.drive && member.blobs === op.blobs
  const owner = await ownerOf(view)
  if (owner?.relayKey !== undefined) return false
  for (const key of [op.drive, op.blobs]) {
    const claimant = (await view.get(KEYS.drive(key)))?.value
    if (claimant !== undefined && claimant !== writer) return false
  }
  return true
}
