// One joined mesh: an encrypted autobase with a hyperbee view of its members.
import { SettleNudge } from './settle-nudge.js'
import { EventEmitter } from 'node:events'
import Autobase from 'autobase'
import type Corestore from 'corestore'
import { apply, type OwnerRecord, type StateEntry, type MemoryEntry } from './apply.js'
import type { MemoryIndex, RecallHit } from './memory-index.js'
import { MemorySync } from './memory-sync.js'
import { StateSync } from './state-sync.js'
import { MeshFiles, type Clock } from './files.js'
import { openView, KEYS, type View } from './view.js'
import { MeshCores } from './mesh-cores.js'
import type { MemberRecord, JoinOp, Author, ClaimOp } from '../../protocol/ops.js'
import type { ClaimEntry } from './claims-apply.js'
import { CLAIM_LIMITS } from '../../protocol/claims.js'
import { signMemberRemove, signMeshUpgrade, signInviteRevoke, signDriveClaim, checkStateValue, stateKey, memoryContent, memoryTags, memoryId } from '../../protocol/ops.js'
import { randomBytes } from '../../protocol/crypto.js'
import { parse } from '../../protocol/schema.js'
import { fromHex, toHex, meshTopic, driveEncryptionKey, discoveryKey, type KeyPair } from '../../protocol/crypto.js'
import { LIMITS } from '../../protocol/limits.js'
import { MeshError } from '../../protocol/errors.js'
import { background } from '../background.js'

/** most ops appended at once */
const MAX_BATCH = 256

export interface MeshConfig {
  name: string
  /** corestore namespace this mesh's cores live in */
  namespace: string
  key: string | null
  encryptionKey: string
  relay: { publicKey: string, addresses: string[], embedded: boolean }
  owner: boolean
  createdAt: number
}

export interface MeshIdentity {
  signing: KeyPair
  swarmKey: Buffer
  label: string
}

export interface MeshOptions {
  /** file of the memory index snapshot (the daemon's mesh folder); null: rebuilt at every start */
  memorySnapshot?: string | null
  /** file where the daemon keeps when it first saw other members' attachments (their expiry runs from then); null: memory only */
  attachmentsSeen?: string | null
  log?: (line: string) => void
  clock?: Clock
  /** largest file this daemon shares */
  maxFileBytes?: number
}

/** the mesh's log as this daemon has it: blocks of the view, how many are settled, and who settles them */
export interface MeshHistory {
  length: number
  settled: number
  /** writers the mesh settles with (the owner's among them) */
  indexers: number
  /** this member is one of them */
  indexing: boolean
}

export class Mesh extends EventEmitter {
  readonly config: MeshConfig
  readonly base: Autobase<unknown, View>
  private readonly identity: MeshIdentity
  private memberList: MemberRecord[] = []
  private memberSwarmKeys = new Set<string>()
  private removedSwarmKeys = new Set<string>()
  private membersFingerprint = ''
  /** the claims as last read, and the view they were read from */
  private claimsRead: { fork: number, length: number, list: ClaimEntry[] } | null = null
  private ownerRecord: OwnerRecord | null = null
  private readonly stateSync = new StateSync()
  private readonly memorySync: MemorySync
  private memoryLoading: Promise<void> | null = null
  private refreshing: Promise<void> | null = null
  private refreshAgain = false
  closed = false
  private readonly nudge: SettleNudge

  readonly files: MeshFiles
  /** every core this mesh opened (its autobase's, its drives'), by discovery key: what replication may carry for it */
  readonly cores = new MeshCores()
  /** discovery keys the view names (writers, drives, files), for cores a peer asks for that are not open here */
  private named: { version: number, keys: Set<string> } | null = null

  private readonly log: (line: string) => void
  private claiming: Promise<void> | null = null

  constructor (store: Corestore, config: MeshConfig, identity: MeshIdentity, opts: MeshOptions = {}) {
    super()
    this.config = config
    this.identity = identity
    this.log = opts.log ?? noop
    this.memorySync = new MemorySync({
      file: opts.memorySnapshot ?? null,
      requestSync: () => { this.refresh().catch(background(this.log, 'refreshing the view')) },
      log: opts.log
    })
    this.clock = opts.clock ?? { now: Date.now }
    this.files = new MeshFiles(this.cores.session(store, config.namespace).namespace('files'), driveEncryptionKey(fromHex(config.encryptionKey)), {
      view: () => this.base.view,
      append: async (op) => { await this.append(op) },
      writable: () => this.base.writable,
      localWriter: () => this.localWriter,
      ownerWriter: () => this.ownerRecord?.writerKey ?? null,
      claimDrive: async () => { await this.claimDrive() },
      clock: this.clock,
      log: (line) => this.log(line),
      maxBytes: opts.maxFileBytes ?? LIMITS.file,
      seenFile: opts.attachmentsSeen ?? null
    })
    this.base = new Autobase<unknown, View>(this.cores.session(store, config.namespace), config.key === null ? null : fromHex(config.key), {
      open: openView,
      apply,
      valueEncoding: 'json',
      optimistic: true,
      ackInterval: 1000,
      encryptionKey: fromHex(config.encryptionKey)
    })
    this.nudge = new SettleNudge(this.base, (line) => this.log(`${this.name}: ${line}`))
    this.base.on('update', () => {
      this.nudge.check()
      this.refresh().catch(background(this.log, 'refreshing the view'))
      this.files.onupdate().catch(background(this.log, 'following the files of the view'))
    })
    this.base.on('error', noop)
  }

  async ready (): Promise<void> {
    await this.base.ready()
    // a truncation (autobase reordered the log) sends every follower of the view back to a full read
    this.base.view.core.on('truncate', () => { for (const c of [this.memorySync.cursor, this.stateSync.cursor, this.files.cursor]) c.truncated = true })
    // a restarted member is writable only once the base has re-read its local state (no network needed)
    await this.base.update()
    if (this.config.key === null) this.config.key = toHex(this.base.key)
    await this.refresh()
    await this.files.ready()
    // an owner of a mesh made before admissions turns its rules strict; a member names its drive
    this.upgrade().catch((err) => this.log(`could not upgrade the mesh's rules: ${(err as Error).message}`))
    this.claimDrive().catch((err) => this.log(`could not claim this member's file drive: ${(err as Error).message}`))
    // the memory index loads (or is rebuilt) in the background: recall waits for it, nothing else does
    this.memoryLoading = (async () => {
      await this.memorySync.load(this.base.view)
      await this.refresh()
      this.emit('memory', this.memory.size)
    })()
    this.memoryLoading.catch(background(this.log, 'loading the memory index'))
  }

  /** The memory index: empty until it has loaded (see memoryReady()). */
  get memory (): MemoryIndex {
    return this.memorySync.index
  }

  /** Resolves once the memory index reflects the view (loaded from the snapshot or rebuilt). */
  async memoryReady (): Promise<void> {
    await this.memoryLoading
  }

  /** the daemon's clock: the time claims are made at (tests move it) */
  readonly clock: Clock

  get name (): string { return this.config.name }
  get key (): Buffer { return this.base.key }
  get keyHex (): string { return toHex(this.base.key) }
  get topic (): Buffer { return meshTopic(this.base.key) }
  get writable (): boolean { return this.base.writable }
  /** our writer key (hex) */
  get localWriter (): string { return toHex(this.base.local.key) }
  get owner (): OwnerRecord | null { return this.ownerRecord }
  get members (): MemberRecord[] { return this.memberList }
  get isOwner (): boolean { return this.config.owner }

  isMember (swarmKey: string): boolean {
    return this.memberSwarmKeys.has(swarmKey)
  }

  /**
   * Whether a core that is not open here belongs to this mesh: a writer's (members, removed ones),
   * a member's drive, a shared file's blobs. Read from the view, once per view version.
   */
  async holdsCore (discoveryKeyHex: string): Promise<boolean> {
    const view = this.base.view
    if (this.named === null || this.named.version !== view.version) {
      const keys = new Set<string>([toHex(this.base.discoveryKey)])
      const add = (key: string | undefined): void => { if (key !== undefined) keys.add(toHex(discoveryKey(fromHex(key)))) }
      for await (const e of view.createReadStream(KEYS.membersRange)) {
        const m = e.value as MemberRecord
        add(m.writerKey); add(m.drive); add(m.blobs)
      }
      for await (const e of view.createReadStream(KEYS.removedRange)) add(e.key.slice('removed/'.length))
      for await (const e of view.createReadStream(KEYS.filesRange)) {
        const f = e.value as { drive: string, blobs: string }
        add(f.drive); add(f.blobs)
      }
      for await (const e of view.createReadStream(KEYS.filesDeletedRange)) add((e.value as { blobs: string }).blobs)
      this.named = { version: view.version, keys }
    }
    return this.named.keys.has(discoveryKeyHex)
  }

  /** The current member with this swarm key, as the view knows it. */
  memberBySwarmKey (swarmKey: string): MemberRecord | null {
    return this.memberList.find((m) => m.swarmKey === swarmKey) ?? null
  }

  /** Whether the log's rules are strict (joins need the relay's admission, files the writer's claimed drive). */
  get strict (): boolean {
    return this.ownerRecord?.relayKey !== undefined
  }

  /** Swarm keys of members the owner removed (and who did not rejoin). */
  get removed (): string[] {
    return [...this.removedSwarmKeys].filter((k) => !this.memberSwarmKeys.has(k))
  }

  isRemoved (swarmKey: string): boolean {
    return this.removedSwarmKeys.has(swarmKey) && !this.memberSwarmKeys.has(swarmKey)
  }

  /** Re-reads members from the view; emits 'members' when the set changed. Coalesces bursts. */
  async refresh (): Promise<void> {
    if (this.refreshing !== null) {
      this.refreshAgain = true
      return this.refreshing
    }
    this.refreshing = (async () => {
      do {
        this.refreshAgain = false
        await this.readMembers()
        await this.readState()
        await this.readMemory()
        if (!this.closed) this.emit('claims')
      } while (this.refreshAgain && !this.closed)
    })()
    try {
      await this.refreshing
    } finally {
      this.refreshing = null
    }
  }

  private async readMembers (): Promise<void> {
    if (this.closed) return
    const view = this.base.view
    const owner = await view.get(KEYS.owner)
    this.ownerRecord = (owner?.value as OwnerRecord | undefined) ?? null
    const members: MemberRecord[] = []
    for await (const entry of view.createReadStream(KEYS.membersRange)) members.push(entry.value as MemberRecord)
    const removed = new Set<string>()
    for await (const entry of view.createReadStream(KEYS.removedRange)) removed.add((entry.value as { swarmKey: string }).swarmKey)
    // any change of a member record counts (a label, a drive claim), not only who is in
    this.indexerList = ((await view.get(KEYS.indexers))?.value as string[] | undefined) ?? []
    const fingerprint = JSON.stringify(members) + JSON.stringify([...removed].sort()) + JSON.stringify(owner?.value ?? null) + JSON.stringify(this.indexerList)
    this.memberList = members
    this.memberSwarmKeys = new Set(members.map((m) => m.swarmKey))
    this.removedSwarmKeys = removed
    if (fingerprint !== this.membersFingerprint) {
      this.membersFingerprint = fingerprint
      if (this.isOwner) this.keepIndexers(members).catch((err) => this.log(`could not change the indexers: ${(err as Error).message}`))
      this.emit('members', members)
    }
  }

  /** Emits 'state' (key, entry) for every entry that changed since the last look. */
  private async readState (): Promise<void> {
    if (this.closed) return
    await this.stateSync.sync(this.base.view, (key, entry) => this.emit('state', key, entry))
  }

  /** How many state entries (not deleted) the view held at the last refresh. */
  get stateCount (): number {
    return this.stateSync.count
  }

  private async readMemory (): Promise<void> {
    if (this.closed) return
    if (await this.memorySync.sync(this.base.view)) this.emit('memory', this.memory.size)
  }

  async remember (content: string, tags: string[], by: Author): Promise<MemoryEntry> {
    parse(memoryContent, content, 'content')
    parse(memoryTags, tags, 'tags')
    const id = toHex(randomBytes(16))
    await this.append({ type: 'memory.add', v: 1, at: Date.now(), id, content, tags, by })
    const node = await this.base.view.get(KEYS.memory(id))
    if (node === null) throw new MeshError('INTERNAL', `memory ${id} was written but is not in the view`)
    return node.value as MemoryEntry
  }

  async recall (query: string, limit: number, tags: string[] = []): Promise<RecallHit[]> {
    if (query.trim() === '') throw MeshError.BAD_INPUT('query', 'must not be empty')
    await this.memoryReady()
    return this.memory.recall(query, limit, tags)
  }

  /** Appends a claim (or its renewal: the same id) and returns it as the view decided it. */
  async claim (op: Omit<ClaimOp, 'type' | 'v' | 'at'>): Promise<ClaimEntry> {
    await this.append({ type: 'claim', v: 1, at: this.clock.now(), ...op })
    const entry = await this.getClaim(op.id)
    if (entry === null) throw new MeshError('INTERNAL', `claim ${op.id} was written but is not in the view`)
    return entry
  }

  async releaseClaims (ids: string[], by: Author): Promise<void> {
    for (let i = 0; i < ids.length; i += CLAIM_LIMITS.releaseIds) await this.append({ type: 'claim.release', v: 1, at: this.clock.now(), ids: ids.slice(i, i + CLAIM_LIMITS.releaseIds), by })
  }

  async getClaim (id: string): Promise<ClaimEntry | null> {
    return ((await this.base.view.get(KEYS.claim(id)))?.value as ClaimEntry | undefined) ?? null
  }

  /**
   * Every claim in the view (ones past their time included until an op after it sweeps them).
   * Read again only when the view changed (the guard asks before every edit; 1,000 claims take ~10 ms to read).
   */
  async listClaims (): Promise<ClaimEntry[]> {
    const core = this.base.view.core
    const at = { fork: core.fork, length: core.length }
    const cached = this.claimsRead
    if (cached !== null && cached.fork === at.fork && cached.length === at.length) return cached.list.slice()
    const out: ClaimEntry[] = []
    for await (const e of this.base.view.createReadStream(KEYS.claimsRange)) out.push(e.value as ClaimEntry)
    out.sort((a, b) => a.at - b.at)
    this.claimsRead = { ...at, list: out }
    return out.slice()
  }

  /**
   * Whether the claim's verdict is part of the mesh's settled history: the view's block that holds
   * it is below what a majority of the indexers signed, so no reordering can change it any more.
   */
  async claimSettled (id: string): Promise<boolean> {
    const node = await this.base.view.get(KEYS.claim(id))
    return node !== null && node.seq < this.base.view.core.signedLength
  }

  /** how much of the log this daemon holds is settled, and by how many indexers */
  get history (): MeshHistory {
    const core = this.base.view.core
    return { length: core.length, settled: core.signedLength, indexers: this.base.system?.indexers.length ?? 0, indexing: this.base.ackable }
  }

  /** the members indexing with the owner, as the view had them at the last refresh */
  private indexerList: string[] = []
  get indexerWriters (): string[] { return this.indexerList }

  /** the members indexing with the owner, as the view has them */
  async indexers (): Promise<string[]> {
    return ((await this.base.view.get(KEYS.indexers))?.value as string[] | undefined) ?? []
  }

  /**
   * The owner keeps two members as indexers besides itself (the two that joined first), once there
   * are two: then any two of the three settle history, the owner's machine among them or not. With
   * fewer members the owner indexes alone (a second indexer would need both online).
   */
  private async keepIndexers (members: MemberRecord[]): Promise<void> {
    if (!this.base.writable || this.closed) return
    const others = members.filter((m) => m.writerKey !== this.localWriter).sort((a, b) => a.joinedAt - b.joinedAt || a.writerKey.localeCompare(b.writerKey))
    const wanted = others.length >= 2 ? others.slice(0, 2).map((m) => m.writerKey) : []
    const now = await this.indexers()
    if (JSON.stringify(now) === JSON.stringify(wanted)) return
    await this.append({ type: 'indexers', v: 1, at: Date.now(), writers: wanted })
  }

  async forget (id: string, by: Author): Promise<void> {
    parse(memoryId, id, 'id')
    if ((await this.base.view.get(KEYS.memory(id))) === null) throw MeshError.BAD_INPUT('id', `no memory ${id} in ${this.name} (already forgotten, or never remembered)`)
    await this.append({ type: 'memory.forget', v: 1, at: Date.now(), id, by })
  }

  async listMemory (): Promise<MemoryEntry[]> {
    const out: MemoryEntry[] = []
    for await (const e of this.base.view.createReadStream(KEYS.memoryRange)) out.push(e.value as MemoryEntry)
    return out.sort((a, b) => a.at - b.at)
  }

  async setState (key: string, value: unknown, by: Author): Promise<StateEntry> {
    parse(stateKey, key, 'key')
    checkStateValue(value)
    await this.append({ type: 'state.set', v: 1, at: Date.now(), key, value, by })
    const entry = await this.getState(key)
    if (entry === null) throw new MeshError('INTERNAL', `state ${key} was written but is not in the view`)
    return entry
  }

  async deleteState (key: string, by: Author): Promise<void> {
    parse(stateKey, key, 'key')
    if ((await this.getState(key)) === null) throw MeshError.BAD_INPUT('key', `no state entry named "${key}"`)
    await this.append({ type: 'state.delete', v: 1, at: Date.now(), key, by })
  }

  /** Reads from the local view: never waits for the network. */
  async getState (key: string): Promise<StateEntry | null> {
    const node = await this.base.view.get(KEYS.state(key))
    const entry = node === null ? null : node.value as StateEntry
    return entry === null || entry.deleted === true ? null : entry
  }

  async listState (prefix = ''): Promise<StateEntry[]> {
    const out: StateEntry[] = []
    for await (const e of this.base.view.createReadStream(KEYS.stateRange(prefix))) {
      if (!e.key.startsWith('state/' + prefix)) break
      const entry = e.value as StateEntry
      if (entry.deleted !== true) out.push(entry)
    }
    return out
  }

  /**
   * Appends an op of ours and waits until the local view has applied it. Ops appended while a batch
   * is on its way wait for it and then go together: one base.append of an array, one update, one refresh.
   */
  private async append (op: object): Promise<void> {
    if (!this.base.writable) throw MeshError.NOT_A_MEMBER('this daemon cannot write to the mesh (it was removed, or is not admitted yet)')
    return await new Promise<void>((resolve, reject) => {
      this.appendQueue.push({ op, resolve, reject })
      if (!this.appending) this.flushAppends().catch(background(this.log, 'appending to the log'))
    })
  }

  private readonly appendQueue: Array<{ op: object, resolve: () => void, reject: (err: Error) => void }> = []
  private appending = false

  private async flushAppends (): Promise<void> {
    this.appending = true
    try {
      while (this.appendQueue.length > 0) {
        const batch = this.appendQueue.splice(0, MAX_BATCH)
        try {
          if (this.closed) throw new MeshError('INTERNAL', 'the mesh was closed before the write was appended')
          await this.base.append(batch.length === 1 ? batch[0].op : batch.map((b) => b.op))
          await this.base.update()
          await this.refresh()
          for (const b of batch) b.resolve()
        } catch (err) {
          for (const b of batch) b.reject(err as Error)
        }
      }
    } finally {
      this.appending = false
    }
  }

  /** The owner's genesis op: it names the relay whose admissions the mesh accepts. */
  async init (): Promise<void> {
    await this.base.append({
      type: 'init',
      v: 1,
      at: Date.now(),
      meshName: this.config.name,
      ownerKey: toHex(this.identity.signing.publicKey),
      swarmKey: toHex(this.identity.swarmKey),
      label: this.identity.label,
      relayKey: this.config.relay.publicKey
    })
    await this.refresh()
    await this.claimDrive()
  }

  /** Owner of a mesh from before admissions: appends `mesh.upgrade`, which makes its rules strict. */
  private async upgrade (): Promise<void> {
    const owner = this.ownerRecord
    if (owner === null || owner.relayKey !== undefined || owner.writerKey !== this.localWriter || !this.base.writable) return
    await this.append(signMeshUpgrade(this.base.key, this.config.relay.publicKey, Date.now(), this.identity.signing.secretKey))
    this.log('rules upgraded: joins now need the relay\'s admission, files the member\'s own drive')
  }

  /**
   * Names this member's file drive in the log (once), so that its file.add ops are accepted. Runs
   * when the mesh opens, after joining, and before a first share; concurrent calls share one append.
   */
  async claimDrive (): Promise<void> {
    if (this.claiming !== null) return await this.claiming
    const me = this.memberList.find((m) => m.writerKey === this.localWriter)
    if (me === undefined || !this.base.writable) return
    const own = this.files.drives.driveKey
    if (me.drive === own) return
    if (me.drive !== undefined) throw new MeshError('INTERNAL', `this member's drive in the log (${me.drive.slice(0, 8)}) is not the one in this store (${own.slice(0, 8)}); files cannot be shared from here`)
    this.claiming = (async () => {
      await this.append(signDriveClaim(this.base.key, this.localWriter, Date.now(), this.files.drives.signer))
    })()
    try {
      await this.claiming
    } finally {
      this.claiming = null
    }
  }

  /**
   * Appends our join op optimistically and waits until apply() admitted us. The op is appended only
   * once the view holds the owner record, so it causally follows `init` and every peer can verify it.
   */
  async join (op: JoinOp, signal?: AbortSignal): Promise<void> {
    await this.until(() => this.ownerRecord !== null, signal)
    const writable = this.base.writable ? Promise.resolve() : new Promise<void>((resolve, reject) => {
      const onwritable = (): void => { cleanup(); resolve() }
      const onabort = (): void => { cleanup(); reject(MeshError.TIMEOUT('waiting for the mesh to admit this member')) }
      const cleanup = (): void => { this.base.off('writable', onwritable); signal?.removeEventListener('abort', onabort) }
      this.base.on('writable', onwritable)
      signal?.addEventListener('abort', onabort)
    })
    await this.base.append(op, { optimistic: true })
    await writable
    await this.refresh()
    await this.claimDrive()
  }

  /** Owner only: removes a member's writer, records it, and revokes the invite it joined with. */
  async remove (writerKey: string): Promise<MemberRecord> {
    if (!this.isOwner) throw MeshError.NOT_OWNER('remove members')
    const member = this.memberList.find((m) => m.writerKey === writerKey)
    if (member === undefined) throw MeshError.MEMBER_UNKNOWN(writerKey.slice(0, 12))
    if (member.role === 'owner') throw MeshError.BAD_INPUT('member', 'the owner cannot be removed')
    const at = Date.now()
    const remove = this.append(signMemberRemove(this.base.key, writerKey, at, this.identity.signing.secretKey))
    const revoke = member.invite === null ? null : this.append(signInviteRevoke(this.base.key, member.invite, at, this.identity.signing.secretKey))
    await remove
    await revoke
    return member
  }

  /** Owner only: no join with this invite is admitted after this op, whatever the relay says. */
  async revokeInvite (invitePublicKey: string): Promise<void> {
    if (!this.isOwner) throw MeshError.NOT_OWNER('revoke invites')
    await this.append(signInviteRevoke(this.base.key, invitePublicKey, Date.now(), this.identity.signing.secretKey))
  }

  /** Resolves when pred() holds, re-checked on every view update. */
  async until (pred: () => boolean, signal?: AbortSignal): Promise<void> {
    if (pred()) return
    await new Promise<void>((resolve, reject) => {
      const check = (): void => { if (pred()) { cleanup(); resolve() } }
      const onabort = (): void => { cleanup(); reject(MeshError.TIMEOUT('waiting for the mesh view')) }
      const cleanup = (): void => { this.off('members', check); signal?.removeEventListener('abort', onabort) }
      this.on('members', check)
      signal?.addEventListener('abort', onabort)
      check()
    })
  }

  /**
   * Waits, up to `ms`, until a connected peer holds every block this member wrote. A stopping
   * daemon hands off what it appended last (the releases of its sessions' claims): a block whose
   * length the indexers saw but could not fetch would keep them from settling until it returns.
   */
  async handOff (ms: number): Promise<'handed' | 'no peer' | 'late'> {
    const local = this.base.local
    const deadline = Date.now() + ms
    for (;;) {
      if (local.length === 0 || local.peers.some((p) => p.remoteContiguousLength >= local.length)) return 'handed'
      if (local.peers.length === 0) return 'no peer'
      if (Date.now() >= deadline) return 'late'
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }

  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.files.close()
    this.memorySync.close()
    await this.memoryLoading?.catch(noop)
    while (this.refreshing !== null) await this.refreshing.catch(noop)
    await this.memorySync.save(this.base.view).catch(noop) // changes since the last save; failures are logged
    this.nudge.close()
    await this.base.close()
  }
}

function noop (): void {}
