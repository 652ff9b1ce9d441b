// Sessions of one mesh: the local ones registered over IPC, the remote ones learnt from other
// daemons' presence, and the messages between them with honest per-recipient delivery status.
import fs from 'node:fs'
import path from 'node:path'
import { EventEmitter } from 'node:events'
import type { NoiseSocket } from 'hyperdht'
import { JsonChannel } from '../../protocol/channel.js'
import { MeshError } from '../../protocol/errors.js'
import { keyPair, randomBytes, toHex } from '../../protocol/crypto.js'
import { LIMITS } from '../../protocol/limits.js'
import {
  SESSION_PROTOCOL, MAX_FRAME, HEARTBEAT_MS, HEARTBEATS_MISSED, OFFLINE_TTL_MS, Frame, parseTarget,
  type SessionInfo, type MessageFrame, type Priority, type DeliveryStatus, type SessionStatus, type Group, type AttachmentRef
} from '../../protocol/session-wire.js'
import type { AttachmentKeys } from './attachment-keys.js'
import type { Mesh } from '../mesh/mesh.js'
import type { StateEntry } from '../mesh/apply.js'
import type { Author } from '../../protocol/ops.js'
import type { IpcConnection } from './ipc.js'
import { writeFileAtomic, readJson } from './home.js'

export interface LocalSession {
  info: SessionInfo
  conn: IpcConnection
  /** the session's Claude Code receives channel notifications */
  channel: boolean
  claudePid: number | null
  inbox: MessageFrame[]
}

interface RemoteSession { info: SessionInfo, peer: PeerChannel, seen: number }

interface PeerChannel { json: JsonChannel, remoteKey: string }

interface Recipient { name: string, status: DeliveryStatus, at: number }

interface Outgoing { id: string, from: string, createdAt: number, recipients: Map<string, Recipient> }

interface Queued { frame: MessageFrame, toName: string, expires: number }

interface Persisted { names: string[], outbox: Queued[] }

export interface SendResult { id: string, recipients: Array<{ name: string, id: string | null, status: DeliveryStatus }>, queuedFor: string[] }

export interface StateChange { mesh: string, key: string, value: unknown, deleted: boolean, by: Author, at: number }

export interface AttachmentInfo { id: string, name: string, size: number, mime: string }

export interface Delivered { id: string, from: { id: string, name: string }, mesh: string, priority: Priority, group: string | null, content: string, at: number, files: AttachmentInfo[] }

/** Uploads a message's attachments once its recipients are known (session ids, or `name:` of queued ones). */
export type Attach = (audience: string[]) => Promise<AttachmentRef[]>

export class MeshSessions extends EventEmitter {
  readonly mesh: Mesh
  readonly local = new Map<string, LocalSession>()
  readonly remote = new Map<string, RemoteSession>()
  private readonly peers = new Set<PeerChannel>()
  private readonly paired = new WeakSet<NoiseSocket>()
  /** connections of peers not yet in the view, attached once their join op arrives */
  private readonly pending = new Map<NoiseSocket, string>()
  private saveTimer: NodeJS.Timeout | null = null
  private readonly outgoing = new Map<string, Outgoing>()
  private readonly file: string
  private readonly names: Set<string>
  private outbox: Queued[]
  private readonly timer: NodeJS.Timeout
  readonly counters = { malformedFrames: 0 }
  private readonly self: { swarmKey: string, label: string }

  readonly keys: AttachmentKeys

  /** the daemon's clock (tests move it to reach heartbeat and queue expiry) */
  private readonly now: () => number

  constructor (mesh: Mesh, dir: string, self: { swarmKey: string, label: string }, keys: AttachmentKeys, now: () => number = Date.now) {
    super()
    this.now = now
    this.mesh = mesh
    this.self = self
    this.keys = keys
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
    this.file = path.join(dir, `${mesh.keyHex.slice(0, 16)}.json`)
    const saved = readJson<Persisted>(this.file, { names: [], outbox: [] })
    this.names = new Set(saved.names)
    this.outbox = saved.outbox
    for (const q of this.outbox) this.track(q.frame, [{ id: `queued:${q.toName}`, name: q.toName, status: 'queued' }])
    this.timer = setInterval(() => this.tick(), HEARTBEAT_MS)
    this.timer.unref()
    this.on('roster', () => this.flushOutbox())
    this.onmembers = () => { for (const [conn, key] of [...this.pending]) this.attach(conn, key) }
    mesh.on('members', this.onmembers)
    this.onstate = (_key: string, entry: StateEntry) => { this.pushState(entry) }
    mesh.on('state', this.onstate)
  }

  private readonly onstate: (key: string, entry: StateEntry) => void

  /** A state change by anyone reaches every local session with a channel, except the session that made it. */
  private pushState (entry: StateEntry): void {
    const data: StateChange = { mesh: this.mesh.name, key: entry.key, value: entry.value, deleted: entry.deleted === true, by: entry.by, at: entry.at }
    for (const session of this.local.values()) {
      if (!session.channel || entry.by.sessionId === session.info.id) continue
      session.conn.send({ event: 'state', data })
    }
  }

  private readonly onmembers: () => void

  // ---------------------------------------------------------------------------------------------
  // peers

  /**
   * Opens the session channel on a connection to a member daemon (again, if the remote reopens it).
   * Only members in the mesh view get sessions: a peer the relay merely vouches for waits until its
   * join op has replicated, so a relay cannot slip a daemon of its own into anyone's roster.
   */
  attach (conn: NoiseSocket, remoteKey: string): void {
    if (!this.mesh.isMember(remoteKey)) {
      this.pending.set(conn, remoteKey)
      conn.once('close', () => this.pending.delete(conn))
      return
    }
    this.pending.delete(conn)
    if (!this.paired.has(conn)) {
      this.paired.add(conn)
      JsonChannel.onRemoteOpen(conn, SESSION_PROTOCOL, this.mesh.topic, () => this.attach(conn, remoteKey))
    }
    const peer: PeerChannel = { json: null as unknown as JsonChannel, remoteKey }
    const json = JsonChannel.open(conn, {
      protocol: SESSION_PROTOCOL,
      id: this.mesh.topic,
      maxFrame: MAX_FRAME,
      onopen: () => {
        this.peers.add(peer)
        json?.send({ t: 'presence', sessions: this.localInfos() })
      },
      onframe: (frame) => this.onframe(peer, frame),
      onmalformed: () => { this.counters.malformedFrames++; this.emit('malformed', remoteKey) },
      onclose: () => this.detach(peer)
    })
    if (json === null) return
    peer.json = json
  }

  private detach (peer: PeerChannel): void {
    if (!this.peers.delete(peer)) return
    let changed = false
    for (const [id, r] of this.remote) {
      if (r.peer === peer) {
        this.remote.delete(id)
        changed = true
      }
    }
    if (changed) this.emit('roster')
  }

  private onframe (peer: PeerChannel, value: unknown): void {
    const parsed = Frame.safeParse(value)
    if (!parsed.success) {
      this.counters.malformedFrames++
      this.emit('malformed', peer.remoteKey)
      peer.json.close()
      return
    }
    const frame = parsed.data
    switch (frame.t) {
      case 'presence': {
        for (const [id, r] of this.remote) if (r.peer === peer) this.remote.delete(id)
        for (const info of frame.sessions) this.addRemote(peer, info)
        this.emit('roster')
        break
      }
      case 'session':
        this.addRemote(peer, frame.session)
        this.emit('roster')
        break
      case 'gone':
        if (this.remote.get(frame.id)?.peer === peer) {
          this.remote.delete(frame.id)
          this.emit('roster')
        }
        break
      case 'msg':
        this.receive(frame, peer)
        break
      case 'status':
        if (this.remote.get(frame.session)?.peer === peer) this.setStatus(frame.id, frame.session, frame.status) // only the recipient's daemon reports
        break
    }
  }

  private addRemote (peer: PeerChannel, info: SessionInfo): void {
    if (info.member !== peer.remoteKey) return // a daemon speaks only for its own sessions
    this.remote.set(info.id, { info, peer, seen: this.now() })
    this.learnName(info.name)
  }

  private broadcast (frame: Frame): void {
    for (const peer of this.peers) peer.json.send(frame)
  }

  /** Every heartbeat: presence out; silent remote sessions, expired queued messages and attachment keys dropped. */
  tick (): void {
    this.broadcast({ t: 'presence', sessions: this.localInfos() })
    const deadline = this.now() - HEARTBEAT_MS * HEARTBEATS_MISSED
    let changed = false
    for (const [id, r] of this.remote) {
      if (r.seen < deadline) {
        this.remote.delete(id)
        changed = true
      }
    }
    if (changed) this.emit('roster')
    this.expireOutbox()
    this.keys.prune()
    // statuses outlive the offline queue by a day, so a sender can still see a message expire
    for (const [id, out] of this.outgoing) if (out.createdAt < this.now() - 2 * OFFLINE_TTL_MS) this.outgoing.delete(id)
  }

  // ---------------------------------------------------------------------------------------------
  // local sessions

  localInfos (): SessionInfo[] {
    return [...this.local.values()].map((s) => s.info)
  }

  roster (): SessionInfo[] {
    return [...this.localInfos(), ...[...this.remote.values()].map((r) => r.info)]
  }

  register (conn: IpcConnection, opts: { name: string, role: string, groups: Group[], cwd: string, channel: boolean, claudePid: number | null }): LocalSession {
    const id = toHex(keyPair().publicKey)
    const session: LocalSession = {
      info: { id, name: opts.name, role: opts.role, groups: opts.groups, status: 'idle', summary: '', cwd: opts.cwd, member: this.self.swarmKey, label: this.self.label, since: this.now() },
      conn,
      channel: opts.channel,
      claudePid: opts.claudePid,
      inbox: []
    }
    this.local.set(id, session)
    this.learnName(opts.name)
    this.broadcast({ t: 'session', session: session.info })
    this.emit('roster')
    return session
  }

  unregister (session: LocalSession): void {
    if (!this.local.delete(session.info.id)) return
    this.broadcast({ t: 'gone', id: session.info.id })
    this.emit('roster')
  }

  update (session: LocalSession, patch: { status?: SessionStatus, summary?: string, groups?: Group[] }): void {
    const before = session.info.status
    session.info = { ...session.info, ...patch }
    this.broadcast({ t: 'session', session: session.info })
    this.emit('roster')
    if (before !== 'idle' && session.info.status === 'idle') this.pushHeld(session, ['next'])
  }

  // ---------------------------------------------------------------------------------------------
  // sending

  /** Resolves `to` against the live roster and sends; names seen before but offline are queued. */
  async send (from: LocalSession, to: string[], content: string, priority: Priority, attach?: Attach): Promise<SendResult> {
    if (Buffer.byteLength(content) > LIMITS.message) throw MeshError.BAD_INPUT('message', `must be at most ${LIMITS.message} bytes (it is ${Buffer.byteLength(content)}); share large content as a file instead`)
    if (content.trim() === '' && attach === undefined) throw MeshError.BAD_INPUT('message', 'must not be empty')
    const roster = this.roster()
    const targets = new Map<string, SessionInfo>()
    const offlineNames: string[] = []
    let group: string | null = null
    const multicast = to.length > 1 || to.some((t) => { const k = parseTarget(t).kind; return k === 'all' || k === 'group' })
    for (const raw of to) {
      const target = parseTarget(raw)
      if (target.kind === 'all') {
        for (const s of roster) targets.set(s.id, s)
      } else if (target.kind === 'group') {
        const members = roster.filter((s) => s.groups.some((g) => g.name === target.name))
        if (members.filter((s) => s.id !== from.info.id).length === 0) throw this.notFound(`nobody online is in group @${target.name}`, from)
        for (const s of members) targets.set(s.id, s)
        if (to.length === 1) group = target.name
      } else {
        const found = this.findOne(target, roster)
        if (found !== null) targets.set(found.id, found)
        else if (target.kind === 'name' && this.names.has(target.name)) offlineNames.push(target.name)
        else throw this.notFound(target.kind === 'id' ? `no online session id starts with ${target.prefix}` : `no session named ${target.name} has been seen in ${this.mesh.name}`, from)
      }
    }
    if (multicast) targets.delete(from.info.id)
    if (targets.size === 0 && offlineNames.length === 0) throw this.notFound('nobody else is online to receive it', from)
    const files = attach === undefined ? undefined : await attach([...targets.keys(), ...offlineNames.map((n) => `name:${n}`)])

    const frame: MessageFrame = {
      t: 'msg',
      id: toHex(randomBytes(16)),
      from: { id: from.info.id, name: from.info.name, member: this.self.swarmKey },
      to: [],
      group,
      priority,
      content,
      at: this.now(),
      ...(files === undefined ? {} : { files })
    }
    const out = this.track(frame, [...targets.values()].map((s) => ({ id: s.id, name: s.name, status: 'queued' as const })))
    for (const name of offlineNames) {
      out.recipients.set(`queued:${name}`, { name, status: 'queued', at: this.now() })
      this.outbox.push({ frame, toName: name, expires: frame.at + OFFLINE_TTL_MS })
    }
    if (offlineNames.length > 0) this.save()
    this.dispatch(frame, [...targets.values()])
    return this.result(out, offlineNames)
  }

  private findOne (target: { kind: 'name', name: string } | { kind: 'id', prefix: string }, roster: SessionInfo[]): SessionInfo | null {
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

  private notFound (why: string, from: LocalSession): MeshError {
    const online = this.roster().filter((s) => s.id !== from.info.id).map((s) => `${s.name} (${s.id.slice(0, 8)})`)
    return MeshError.BAD_INPUT('to', `${why}. Online now: ${online.length > 0 ? online.join(', ') : 'nobody else'}`)
  }

  private track (frame: MessageFrame, recipients: Array<{ id: string, name: string, status: DeliveryStatus }>): Outgoing {
    let out = this.outgoing.get(frame.id)
    if (out === undefined) {
      out = { id: frame.id, from: frame.from.id, createdAt: frame.at, recipients: new Map() }
      this.outgoing.set(frame.id, out)
    }
    for (const r of recipients) out.recipients.set(r.id, { name: r.name, status: r.status, at: this.now() })
    return out
  }

  /** Hands a message to each target: local ones directly, remote ones one frame per daemon. */
  private dispatch (frame: MessageFrame, targets: SessionInfo[]): void {
    const byPeer = new Map<PeerChannel, string[]>()
    for (const target of targets) {
      const local = this.local.get(target.id)
      if (local !== undefined) {
        this.setStatus(frame.id, target.id, this.deliverLocal(local, { ...frame, to: [target.id] }))
        continue
      }
      const remote = this.remote.get(target.id)
      if (remote === undefined) continue
      const ids = byPeer.get(remote.peer) ?? []
      ids.push(target.id)
      byPeer.set(remote.peer, ids)
    }
    for (const [peer, ids] of byPeer) peer.json.send({ ...frame, to: ids })
  }

  private receive (frame: MessageFrame, peer: PeerChannel): void {
    if (frame.from.member !== peer.remoteKey) return
    for (const id of frame.to) {
      const session = this.local.get(id)
      if (session === undefined) continue
      const status = this.deliverLocal(session, { ...frame, to: [id] })
      peer.json.send({ t: 'status', id: frame.id, session: id, status })
    }
  }

  /** The recipient side's gate: `now` pushes at once, `next` when idle, `low` only on request. */
  private deliverLocal (session: LocalSession, frame: MessageFrame): 'held' | 'delivered' {
    for (const f of frame.files ?? []) this.keys.received(f.id, f.key, f.expiresAt, session.info.id)
    const push = session.channel && (frame.priority === 'now' || (frame.priority === 'next' && session.info.status === 'idle'))
    if (push) {
      this.push(session, frame)
      return 'delivered'
    }
    session.inbox.push(frame)
    return 'held'
  }

  private push (session: LocalSession, frame: MessageFrame): void {
    session.conn.send({ event: 'message', data: this.delivered(frame) })
  }

  delivered (frame: MessageFrame): Delivered {
    return { id: frame.id, from: { id: frame.from.id, name: frame.from.name }, mesh: this.mesh.name, priority: frame.priority, group: frame.group, content: frame.content, at: frame.at, files: (frame.files ?? []).map((f) => ({ id: f.id, name: f.name, size: f.size, mime: f.mime })) }
  }

  /** Pushes held messages of the given priorities (when a channel session turns idle). */
  private pushHeld (session: LocalSession, priorities: Priority[]): void {
    if (!session.channel) return
    const keep: MessageFrame[] = []
    for (const frame of session.inbox) {
      if (priorities.includes(frame.priority)) {
        this.push(session, frame)
        this.report(frame, session.info.id, 'delivered')
      } else keep.push(frame)
    }
    session.inbox = keep
  }

  /** Hands over held messages (check_messages, hooks): they count as delivered from now on. */
  drain (session: LocalSession, priorities: Priority[] = ['now', 'next', 'low']): Delivered[] {
    const out: Delivered[] = []
    const keep: MessageFrame[] = []
    for (const frame of session.inbox) {
      if (!priorities.includes(frame.priority)) { keep.push(frame); continue }
      out.push(this.delivered(frame))
      this.report(frame, session.info.id, 'delivered')
    }
    session.inbox = keep
    return out
  }

  /** Tells the sender's daemon (or ourselves) how a message stands for one recipient. */
  private report (frame: MessageFrame, sessionId: string, status: 'held' | 'delivered'): void {
    if (frame.from.member === this.self.swarmKey) {
      this.setStatus(frame.id, sessionId, status)
      return
    }
    for (const peer of this.peers) {
      if (peer.remoteKey === frame.from.member) peer.json.send({ t: 'status', id: frame.id, session: sessionId, status })
    }
  }

  private setStatus (id: string, sessionId: string, status: DeliveryStatus): void {
    const out = this.outgoing.get(id)
    const r = out?.recipients.get(sessionId)
    if (out === undefined || r === undefined) return
    if (r.status === 'delivered' || r.status === 'expired') return
    r.status = status
    r.at = this.now()
    this.emit('status', id)
  }

  status (id: string): SendResult | null {
    const out = this.outgoing.get(id)
    return out === undefined ? null : this.result(out, [])
  }

  private result (out: Outgoing, queuedFor: string[]): SendResult {
    return {
      id: out.id,
      recipients: [...out.recipients.entries()].map(([id, r]) => ({ name: r.name, id: id.startsWith('queued:') ? null : id, status: r.status })),
      queuedFor
    }
  }

  // ---------------------------------------------------------------------------------------------
  // the offline queue

  /** Remembers a name as seen (so messages to it queue while it is offline); saved in batches. */
  private learnName (name: string): void {
    if (this.names.has(name)) return
    this.names.add(name)
    if (this.saveTimer !== null) return
    this.saveTimer = setTimeout(() => this.save(), 250)
    this.saveTimer.unref()
  }

  /** Sends queued messages whose recipient name is now online. */
  private flushOutbox (): void {
    if (this.outbox.length === 0) return
    const roster = this.roster()
    const keep: Queued[] = []
    for (const q of this.outbox) {
      const target = roster.find((s) => s.name === q.toName)
      if (target === undefined || q.expires <= this.now()) { keep.push(q); continue }
      const out = this.outgoing.get(q.frame.id)
      out?.recipients.delete(`queued:${q.toName}`)
      this.track(q.frame, [{ id: target.id, name: target.name, status: 'queued' }])
      this.dispatch(q.frame, [target])
    }
    if (keep.length !== this.outbox.length) {
      this.outbox = keep
      this.save()
    }
    this.expireOutbox()
  }

  private expireOutbox (): void {
    const now = this.now()
    const expired = this.outbox.filter((q) => q.expires <= now)
    if (expired.length === 0) return
    for (const q of expired) this.setStatus(q.frame.id, `queued:${q.toName}`, 'expired')
    this.outbox = this.outbox.filter((q) => q.expires > now)
    this.save()
  }

  private save (): void {
    if (this.saveTimer !== null) clearTimeout(this.saveTimer)
    this.saveTimer = null
    writeFileAtomic(this.file, JSON.stringify({ names: [...this.names], outbox: this.outbox } satisfies Persisted))
  }

  close (): void {
    clearInterval(this.timer)
    this.mesh.off('members', this.onmembers)
    this.mesh.off('state', this.onstate)
    this.pending.clear()
    if (this.saveTimer !== null) this.save()
    for (const peer of this.peers) peer.json.close()
    this.peers.clear()
  }
}
