// The mesh's apply(): deterministic, reads no clock, touches only the view and the host.
// A writer is admitted only through a verified `join`; anything else from a non-writer is ignored.
import type { ApplyNode, Host } from 'autobase'
import b4a from 'b4a'
import { readOp, verifyJoin, verifyMemberRemove, type JoinOp, type MemberRecord, type Author, type FileAddOp } from '../../protocol/ops.js'
import { fromHex, toHex } from '../../protocol/crypto.js'
import type { View } from './view.js'
import { KEYS } from './view.js'

export interface OwnerRecord { signingKey: string, writerKey: string, swarmKey: string, meshName: string, createdAt: number }
export interface InviteUse { uses: number, by: string[] }
export interface RemovedRecord { swarmKey: string, at: number }
export interface MemoryEntry { id: string, content: string, tags: string[], by: Author, at: number, writer: string }

/** A state entry; a deleted key keeps a tombstone so every peer knows who deleted it and when. */
/** A file the mesh can fetch: the file.add op as applied, with the writer that added it. */
export type FileEntry = Omit<FileAddOp, 'type' | 'v'> & { writer: string }
export interface FileAccess { by: Author, at: number, writer: string }
/** What is left of a deleted file: enough for its uploader (and any cache) to clear the blocks. */
export interface FileTombstone { id: string, at: number, by: Author, reason: 'deleted' | 'expired', writer: string, blobs: string, blob: FileEntry['blob'], path: string }

export interface StateEntry { key: string, value: unknown, by: Author, at: number, writer: string, deleted?: true }

export async function apply (nodes: Array<ApplyNode<unknown>>, view: View, host: Host): Promise<void> {
  for (const node of nodes) {
    if (node.value === null) continue
    const op = readOp(node.value)
    if (op === null) continue
    if (node.optimistic) {
      if (op.type === 'join') await applyJoin(op, node.from.key, view, host)
      continue
    }
    switch (op.type) {
      case 'init': {
        if (!b4a.equals(node.from.key, host.key) || (await view.get(KEYS.owner)) !== null) break
        const owner: OwnerRecord = { signingKey: op.ownerKey, writerKey: toHex(node.from.key), swarmKey: op.swarmKey, meshName: op.meshName, createdAt: op.at }
        await view.put(KEYS.owner, owner)
        const member: MemberRecord = { writerKey: owner.writerKey, swarmKey: op.swarmKey, signingKey: op.ownerKey, role: 'owner', label: op.label, joinedAt: op.at, invite: null }
        await view.put(KEYS.member(owner.writerKey), member)
        break
      }
      case 'join':
        await applyJoin(op, node.from.key, view, host)
        break
      case 'member.remove': {
        const owner = (await view.get(KEYS.owner))?.value as OwnerRecord | undefined
        if (owner === undefined || toHex(node.from.key) !== owner.writerKey) break
        if (!verifyMemberRemove(host.key, op, fromHex(owner.signingKey))) break
        if (op.writerKey === owner.writerKey) break
        const existing = (await view.get(KEYS.member(op.writerKey)))?.value as MemberRecord | undefined
        if (existing === undefined) break
        await view.del(KEYS.member(op.writerKey))
        const removed: RemovedRecord = { swarmKey: existing.swarmKey, at: op.at }
        await view.put(KEYS.removed(op.writerKey), removed)
        const key = fromHex(op.writerKey)
        if (host.removeable(key)) await host.removeWriter(key)
        break
      }
      case 'state.set': {
        // last write in the linearized order wins: the same on every peer
        const entry: StateEntry = { key: op.key, value: op.value, by: op.by, at: op.at, writer: toHex(node.from.key) }
        await view.put(KEYS.state(op.key), entry)
        break
      }
      case 'memory.add': {
        if ((await view.get(KEYS.forgotten(op.id))) !== null) break // forgotten entries never come back
        const entry: MemoryEntry = { id: op.id, content: op.content, tags: op.tags, by: op.by, at: op.at, writer: toHex(node.from.key) }
        await view.put(KEYS.memory(op.id), entry)
        break
      }
      case 'memory.forget':
        await view.del(KEYS.memory(op.id))
        await view.put(KEYS.forgotten(op.id), { at: op.at, by: op.by })
        break
      case 'file.add': {
        if ((await view.get(KEYS.fileDeleted(op.id))) !== null || (await view.get(KEYS.file(op.id))) !== null) break
        const { type: _t, v: _v, ...fields } = op
        const entry: FileEntry = { ...fields, writer: toHex(node.from.key) }
        await view.put(KEYS.file(op.id), entry)
        break
      }
      case 'file.access': {
        if ((await view.get(KEYS.file(op.id))) === null) break
        const writer = toHex(node.from.key)
        const access: FileAccess = { by: op.by, at: op.at, writer }
        await view.put(KEYS.access(op.id, writer, op.at), access)
        break
      }
      case 'file.delete': {
        // the uploader (the writer that added it) or the owner only
        const entry = (await view.get(KEYS.file(op.id)))?.value as FileEntry | undefined
        if (entry === undefined) break
        const writer = toHex(node.from.key)
        const owner = (await view.get(KEYS.owner))?.value as OwnerRecord | undefined
        if (writer !== entry.writer && writer !== owner?.writerKey) break
        const accessKeys: string[] = []
        for await (const a of view.createReadStream(KEYS.accessRange(op.id))) accessKeys.push(a.key)
        for (const key of accessKeys) await view.del(key)
        await view.del(KEYS.file(op.id))
        const tombstone: FileTombstone = { id: op.id, at: op.at, by: op.by, reason: op.reason, writer: entry.writer, blobs: entry.blobs, blob: entry.blob, path: entry.path }
        await view.put(KEYS.fileDeleted(op.id), tombstone)
        break
      }
      case 'state.delete': {
        const tombstone: StateEntry = { key: op.key, value: null, by: op.by, at: op.at, writer: toHex(node.from.key), deleted: true }
        await view.put(KEYS.state(op.key), tombstone)
        break
      }
    }
  }
}

async function applyJoin (op: JoinOp, from: Buffer, view: View, host: Host): Promise<void> {
  const owner = (await view.get(KEYS.owner))?.value as OwnerRecord | undefined
  if (owner === undefined) return
  const used = (await view.get(KEYS.invite(op.cert.invitePublicKey)))?.value as InviteUse | undefined
  const verdict = verifyJoin(op, {
    meshKey: host.key,
    ownerKey: fromHex(owner.signingKey),
    from,
    usesSoFar: used?.uses ?? 0,
    alreadyMember: (await view.get(KEYS.member(toHex(from)))) !== null
  })
  if (!verdict.ok) return
  const use: InviteUse = { uses: (used?.uses ?? 0) + 1, by: [...(used?.by ?? []), verdict.member.writerKey] }
  await view.put(KEYS.invite(op.cert.invitePublicKey), use)
  await view.put(KEYS.member(verdict.member.writerKey), verdict.member)
  await view.del(KEYS.removed(verdict.member.writerKey))
  await host.addWriter(from, { indexer: false })
}
