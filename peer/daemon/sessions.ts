// Sessions of one mesh: the local ones registered over IPC, the remote ones other daemons announce
// (the roster), and the messages between them. This file is the session channel with each member's
// daemon and the wiring; who a remote session belongs to is the roster's (roster.ts), who a message
// goes to the resolver's (protocol/targets.ts), what is held for a local session the inbox's
// (delivery.ts), and what was sent, queued and how it stands the outbox's (outbox.ts).
import path from 'node:path'
import { EventEmitter } from 'node:events'
import type { NoiseSocket } from 'hyperdht'
import { JsonChannel } from '../../protocol/channel.js'
import { MeshError } from '../../protocol/errors.js'
import { keyPair, randomBytes, toHex } from '../../protocol/crypto.js'
import { LIMITS, CAPS } from '../../protocol/limits.js'
import {
  SESSION_PROTOCOL, MAX_FRAME, HEARTBEAT_MS, HEARTBEATS_MISSED, Frame, signSessionClaim, verifySessionClaim,
  type SessionInfo, type MessageFrame, type Priority, type DeliveryStatus, type SessionStatus, type Group, type AttachmentRef, type Receives, type Via
} from '../../protocol/session-wire.js'
import { resolveTargets } from '../../protocol/targets.js'
import type { AttachmentKeys } from './attachment-keys.js'
import type { Mesh } from '../mesh/mesh.js'
import type { IpcConnection } from './ipc.js'
import { Roster } from './roster.js'
import { Inbox, HeldStore, pushesNow } from './delivery.js'
import { Outbox, type SendResult } from './outbox.js'
import { StateNotifier, type StateChange } from './state-notify.js'

export type { SendResult, StateChange }

export interface LocalSession {
  info: SessionInfo
  conn: IpcConnection
  /** how its Claude gets messages: its Claude Code inbox, channel notifications, or hooks and check_messages */
  receives: Receives
  /** the session's Claude Code receives channel notifications */
  channel: boolean
  claudePid: number | null
  inbox: Inbox
  /** handed to Claude and not read yet (for read receipts), oldest first */
  unread: Map<string, MessageFrame>
  /** what claudemesh itself tells a hooks session at its next hook (a claim that settled) */
  notices: string[]
}

/** most delivered messages a session remembers for read receipts */
const UNREAD_KEPT = 1024

interface PeerChannel { json: JsonChannel, remoteKey: string }

export interface AttachmentInfo { id: string, name: string, size: number, mime: string }

/** A message as Claude gets it: the sender's session, and its member as the mesh's view knows it. */
export interface Delivered {
  id: string
  /** the first message of its thread (its own id when it starts one), and the message it answers */
  thread: string
  replyTo: string | null
  from: { id: string, name: string, member: string, label: string }
  mesh: string
  priority: Priority
  group: string | null
  content: string
  at: number
  files: AttachmentInfo[]
}

/** Uploads a message's attachments once its recipients are known (session ids, or `name:` of queued ones). */
export type Attach = (audience: string[]) => Promise<AttachmentRef[]>

export class MeshSessions extends EventEmitter {
  readonly mesh: Mesh
  readonly local = new Map<string, LocalSession>()
  readonly roster: Roster
  readonly keys: AttachmentKeys
  readonly counters = { malformedFrames: 0, refusedMessages: 0 }
  /** the live session channel with each member's daemon */
  private readonly channels = new Map<string, PeerChannel>()
  private readonly paired = new WeakSet<NoiseSocket>()
  /** connections of peers not yet in the view, attached once their join op arrives */
  private readonly pending = new Map<NoiseSocket, string>()
  private readonly outbox: Outbox
  private readonly held: HeldStore
  private readonly state: StateNotifier
  private readonly timer: NodeJS.Timeout
  private readonly self: { swarmKey: string }
  /** the daemon's clock (tests move it to reach heartbeat and queue expiry) */
  private readonly now: () => number
  private readonly onmembers: () => void

  constructor (mesh: Mesh, dir: string, self: { swarmKey: string }, keys: AttachmentKeys, now: () => number = Date.now) {
    super()
    this.now = now
    this.mesh = mesh
    this.self = self
    this.keys = keys
    this.roster = new Roster({ meshKey: mesh.key, labelOf: (key) => mesh.memberBySwarmKey(key)?.label ?? null, now })
    this.outbox = new Outbox(dir, mesh.keyHex, now)
    this.held = new HeldStore(path.join(dir, `${mesh.keyHex.slice(0, 16)}.held.json`), now)
    this.held.track(() => [...this.local.values()].map((s) => [s.info.id, s.inbox] as [string, Inbox]))
    this.state = new StateNotifier(mesh, () => this.local.values())
    this.timer = setInterval(() => this.tick(), HEARTBEAT_MS)
    this.timer.unref()
    this.on('roster', () => this.flushOutbox())
    this.onmembers = () => {
      for (const [conn, key] of [...this.pending]) this.attach(conn, key)
      this.roster.relabel()
    }
    mesh.on('members', this.onmembers)
  }

  static dir (home: string): string {
    return path.join(home, 'messages')
  }

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
        this.channels.get(remoteKey)?.json.close()
        this.channels.set(remoteKey, peer)
        json?.send({ t: 'presence', sessions: this.localInfos() })
        for (const report of this.unsent.get(remoteKey) ?? []) json?.send(report)
        this.unsent.delete(remoteKey)
      },
      onframe: (frame) => this.onframe(peer, frame),
      onmalformed: () => { this.counters.malformedFrames++; this.emit('malformed', remoteKey) },
      onclose: () => this.detach(peer)
    })
    if (json === null) return
    peer.json = json
  }

  private detach (peer: PeerChannel): void {
    if (this.channels.get(peer.remoteKey) !== peer) return
    this.channels.delete(peer.remoteKey)
    if (this.roster.drop(peer.remoteKey)) this.emit('roster')
  }

  private onframe (peer: PeerChannel, value: unknown): void {
    if (this.channels.get(peer.remoteKey) !== peer) return
    const parsed = Frame.safeParse(value)
    if (!parsed.success) {
      this.counters.malformedFrames++
      this.emit('malformed', peer.remoteKey)
      peer.json.close()
      return
    }
    const frame = parsed.data
    switch (frame.t) {
      case 'presence':
        this.roster.replace(peer.remoteKey, frame.sessions)
        for (const info of frame.sessions) this.learnName(info, peer.remoteKey)
        this.emit('roster')
        break
      case 'session': {
        const verdict = this.roster.announce(peer.remoteKey, frame.session)
        if (verdict === 'added' || verdict === 'updated') {
          this.learnName(frame.session, peer.remoteKey)
          this.emit('roster')
        } else this.emit('refused', peer.remoteKey)
        break
      }
      case 'gone':
        if (this.roster.gone(peer.remoteKey, frame.id)) this.emit('roster')
        break
      case 'msg':
        this.receive(frame, peer)
        break
      case 'status':
        // only the daemon of the session the message went to reports on it
        if (this.roster.ownerOf(frame.session) === peer.remoteKey && this.outbox.sentTo(frame.id, frame.session)) this.setStatus(frame.id, frame.session, frame.status, frame.via)
        break
    }
  }

  private learnName (info: SessionInfo, owner: string): void {
    if (this.roster.get(info.id)?.owner === owner) this.outbox.learn(info.name, owner)
  }

  private broadcast (frame: Frame): void {
    for (const peer of this.channels.values()) peer.json.send(frame)
  }

  /** Every heartbeat: presence out; silent remote sessions, expired queued messages and attachment keys dropped. */
  tick (): void {
    this.broadcast({ t: 'presence', sessions: this.localInfos() })
    if (this.roster.expire(this.now() - HEARTBEAT_MS * HEARTBEATS_MISSED)) this.emit('roster')
    for (const id of this.outbox.expire()) this.emit('status', id)
    this.keys.prune()
    this.held.prune()
  }

  // ---------------------------------------------------------------------------------------------
  // local sessions

  localInfos (): SessionInfo[] {
    return [...this.local.values()].map((s) => s.info)
  }

  /** Every session of the mesh this daemon knows: its own, then the remote ones. */
  sessions (): SessionInfo[] {
    return [...this.localInfos(), ...this.roster.sessions()]
  }

  /**
   * Registers a session of this daemon. A new session gets a fresh key pair; one that registers
   * again (its MCP server reconnected) brings its id and the proof this daemon signed for it.
   */
  register (conn: IpcConnection, opts: { name: string, role: string, groups: Group[], cwd: string, receives: Receives, claudePid: number | null, id?: string, proof?: string }): LocalSession {
    let id: string
    let proof: string
    if (opts.id !== undefined && opts.proof !== undefined) {
      if (!verifySessionClaim(this.mesh.key, this.self.swarmKey, opts.id, opts.proof)) throw MeshError.BAD_INPUT('session.proof', 'does not prove this session belongs to this member in this mesh')
      if (this.local.has(opts.id)) throw MeshError.BAD_INPUT('session.id', 'a session with this id is registered already')
      id = opts.id
      proof = opts.proof
    } else {
      const pair = keyPair()
      id = toHex(pair.publicKey)
      proof = signSessionClaim(this.mesh.key, this.self.swarmKey, pair)
    }
    const label = this.mesh.memberBySwarmKey(this.self.swarmKey)?.label ?? ''
    const session: LocalSession = {
      info: { id, name: opts.name, role: opts.role, groups: opts.groups, status: 'idle', summary: '', cwd: opts.cwd, member: this.self.swarmKey, label, since: this.now(), proof, receives: opts.receives },
      conn,
      receives: opts.receives,
      channel: opts.receives === 'channel',
      claudePid: opts.claudePid,
      // a session registering again gets back what was held for it
      inbox: this.held.claim(id),
      unread: new Map(),
      notices: []
    }
    this.local.set(id, session)
    this.outbox.learn(opts.name, this.self.swarmKey)
    this.broadcast({ t: 'session', session: session.info })
    this.emit('roster')
    this.pushHeld(session, ['now', 'next'])
    return session
  }

  /** Tells a session something from claudemesh itself: pushed to a channel or inbox, held for a hooks session's next hook. */
  notify (session: LocalSession, text: string, meta: Record<string, string>): void {
    if (session.receives === 'hooks') {
      session.notices.push(text)
      if (session.notices.length > 64) session.notices.shift()
      return
    }
    session.conn.send({ event: 'notice', data: { text, meta } })
  }

  unregister (session: LocalSession): void {
    if (this.local.get(session.info.id) !== session) return
    this.local.delete(session.info.id)
    this.emit('ended', session)
    session.inbox.unpush() // what its inbox did not confirm is still held
    this.held.release(session.info.id, session.inbox)
    this.broadcast({ t: 'gone', id: session.info.id })
    this.emit('roster')
  }

  /** The session's path changed (its inbox failed, say): it receives the other way from now on. */
  setReceives (session: LocalSession, receives: Receives): void {
    if (session.receives === receives) return
    session.receives = receives
    session.channel = receives === 'channel'
    this.update(session, { receives })
  }

  /** The session's Claude Code inbox took these messages: delivered. */
  confirmed (session: LocalSession, ids: string[]): void {
    for (const id of ids) {
      const frame = session.inbox.confirm(id)
      if (frame !== null) this.handedOver(session, frame, 'inbox')
    }
    this.held.changed()
  }

  /** These did not reach the session's inbox: held, for its hooks or check_messages. */
  unconfirmed (session: LocalSession, ids: string[]): void {
    for (const id of ids) session.inbox.unpush(id)
  }

  update (session: LocalSession, patch: { status?: SessionStatus, summary?: string, groups?: Group[], receives?: Receives }): void {
    const before = session.info.status
    session.info = { ...session.info, ...patch }
    this.broadcast({ t: 'session', session: session.info })
    this.emit('roster')
    if (before !== 'idle' && session.info.status === 'idle') this.pushHeld(session, ['next'])
  }

  // ---------------------------------------------------------------------------------------------
  // sending

  /** Resolves `to` against the live roster and sends; names seen before but offline are queued. */
  async send (from: LocalSession, to: string[], content: string, priority: Priority, attach?: Attach, replyTo?: string): Promise<SendResult> {
    if (Buffer.byteLength(content) > LIMITS.message) throw MeshError.BAD_INPUT('message', `must be at most ${LIMITS.message} bytes (it is ${Buffer.byteLength(content)}); share large content as a file instead`)
    if (content.trim() === '' && attach === undefined) throw MeshError.BAD_INPUT('message', 'must not be empty')
    if (replyTo !== undefined && !from.unread.has(replyTo) && !this.outbox.sentTo(replyTo, from.info.id) && !this.received(from, replyTo)) {
      throw MeshError.BAD_INPUT('reply_to', `${replyTo} is not a message this session received`)
    }
    const thread = replyTo === undefined ? undefined : this.threadOf(replyTo)
    const { targets, offline, group } = resolveTargets(to, this.sessions(), { self: from.info.id, mesh: this.mesh.name, seen: (name) => this.outbox.seen(name) })
    // answering a sender means having read what it sent
    this.read(from, (f) => f.id === replyTo || targets.some((s) => s.id === f.from.id))
    const files = attach === undefined ? undefined : await attach([...targets.map((s) => s.id), ...offline.map((n) => `name:${n}`)])
    const frame: MessageFrame = {
      t: 'msg',
      id: toHex(randomBytes(16)),
      from: { id: from.info.id, name: from.info.name, member: this.self.swarmKey, proof: from.info.proof },
      to: [],
      group,
      priority,
      content,
      at: this.now(),
      ...(files === undefined ? {} : { files }),
      ...(replyTo === undefined ? {} : { replyTo, thread })
    }
    this.noteThread(frame)
    this.outbox.track(frame, targets.map((s) => ({ id: s.id, name: s.name, status: 'queued' as const })))
    this.outbox.queue(frame, offline)
    this.emit('sent', { frame, from: from.info, to: [...targets.map((s) => s.name), ...offline], replyTo: replyTo ?? null })
    this.dispatch(frame, targets)
    return this.outbox.status(frame.id, offline) as SendResult
  }

  /** Hands a message to each target: local ones directly, remote ones one frame per daemon. */
  private dispatch (frame: MessageFrame, targets: SessionInfo[]): void {
    const byPeer = new Map<PeerChannel, string[]>()
    for (const target of targets) {
      const local = this.local.get(target.id)
      if (local !== undefined) {
        const status = this.deliverLocal(local, { ...frame, to: [target.id] })
        this.setStatus(frame.id, target.id, status, status === 'delivered' ? 'channel' : undefined)
        continue
      }
      const owner = this.roster.get(target.id)?.owner
      const peer = owner === undefined ? undefined : this.channels.get(owner)
      if (peer === undefined) continue
      const ids = byPeer.get(peer) ?? []
      ids.push(target.id)
      byPeer.set(peer, ids)
    }
    for (const [peer, ids] of byPeer) peer.json.send({ ...frame, to: ids })
  }

  /**
   * A message from another daemon: taken only from the member that owns the sending session (the
   * roster's binding, or the session's proof when the session is not in the roster, as for a
   * message queued while it was away), and only for sessions of ours.
   */
  private receive (frame: MessageFrame, peer: PeerChannel): void {
    const owner = this.roster.ownerOf(frame.from.id)
    const genuine = frame.from.member === peer.remoteKey && (owner === null ? this.roster.proves(peer.remoteKey, frame.from.id, frame.from.proof) : owner === peer.remoteKey)
    if (!genuine) {
      this.counters.refusedMessages++
      this.emit('refused', peer.remoteKey)
      return
    }
    const name = this.roster.get(frame.from.id)?.info.name ?? frame.from.name
    for (const id of frame.to) {
      const session = this.local.get(id)
      if (session === undefined) continue
      const status = this.deliverLocal(session, { ...frame, from: { ...frame.from, name }, to: [id] })
      // `held` only once it is on disk: a restart of this daemon loses nothing it said it holds
      if (status === 'held') this.held.save().then(() => peer.json.send({ t: 'status', id: frame.id, session: id, status }), () => {})
      else peer.json.send({ t: 'status', id: frame.id, session: id, status, via: 'channel' })
    }
  }

  /**
   * The recipient side's gate: `now` pushes at once, `next` when idle, `low` only on request. A
   * session with a Claude Code inbox gets `now` and `next` at once (Claude Code queues them while
   * its session works) and counts as delivered once its MCP server says the inbox took it.
   */
  private deliverLocal (session: LocalSession, frame: MessageFrame): 'held' | 'delivered' {
    this.noteThread(frame)
    this.emit('received', { frame, session: session.info })
    // the sender's clock says how long the attachment lasts, not until when: our clock counts it down
    for (const f of frame.files ?? []) this.keys.received(f.id, f.key, f.expiresAt - frame.at, session.info.id, frame.from.member)
    if (session.receives !== 'inbox' && pushesNow(frame, { channel: session.channel, status: session.info.status })) {
      this.push(session, frame)
      this.remember(session, frame)
      return 'delivered'
    }
    for (const gone of session.inbox.hold(frame)) this.report(gone, session.info.id, 'dropped')
    if (session.receives === 'inbox' && frame.priority !== 'low') this.pushInbox(session, session.inbox.push([frame.priority]).filter((f) => f.id === frame.id))
    this.held.changed()
    return 'held'
  }

  private push (session: LocalSession, frame: MessageFrame): void {
    session.conn.send({ event: 'message', data: this.delivered(frame) })
  }

  /** To the session's MCP server, which writes them to its Claude Code inbox and says which it took. */
  private pushInbox (session: LocalSession, frames: MessageFrame[]): void {
    for (const frame of frames) session.conn.send({ event: 'message', data: { ...this.delivered(frame), confirm: true } })
  }

  /** A path handed it to Claude: delivered, and remembered until it is read. */
  private handedOver (session: LocalSession, frame: MessageFrame, via: Via): void {
    this.remember(session, frame)
    this.report(frame, session.info.id, 'delivered', via)
  }

  private remember (session: LocalSession, frame: MessageFrame): void {
    session.unread.set(frame.id, frame)
    if (session.unread.size > UNREAD_KEPT) session.unread.delete(session.unread.keys().next().value as string)
  }

  /** Claude acted on these: read. */
  private read (session: LocalSession, which: (frame: MessageFrame) => boolean): void {
    for (const [id, frame] of session.unread) {
      if (!which(frame)) continue
      session.unread.delete(id)
      this.noteRead(session, id)
      this.report(frame, session.info.id, 'read')
    }
  }

  /** Whether this session received message `id` (held, or delivered and read). */
  private received (session: LocalSession, id: string): boolean {
    return session.inbox.frames().some((f) => f.id === id) || this.readIds.has(`${session.info.id}:${id}`)
  }

  delivered (frame: MessageFrame): Delivered {
    const member = frame.from.member
    return {
      id: frame.id,
      thread: frame.thread ?? frame.id,
      replyTo: frame.replyTo ?? null,
      from: { id: frame.from.id, name: frame.from.name, member, label: this.mesh.memberBySwarmKey(member)?.label ?? 'unknown member' },
      mesh: this.mesh.name,
      priority: frame.priority,
      group: frame.group,
      content: frame.content,
      at: frame.at,
      files: (frame.files ?? []).map((f) => ({ id: f.id, name: f.name, size: f.size, mime: f.mime }))
    }
  }

  /** Pushes held messages of the given priorities: to a channel session turning idle, to an inbox session now. */
  private pushHeld (session: LocalSession, priorities: Priority[]): void {
    if (session.receives === 'inbox') {
      this.pushInbox(session, session.inbox.push(priorities))
      return
    }
    if (!session.channel) return
    for (const frame of session.inbox.take(priorities)) {
      this.push(session, frame)
      this.handedOver(session, frame, 'channel')
    }
    this.held.changed()
  }

  /**
   * Hands over held messages: by a hook (delivered), or because Claude asked (check_messages:
   * read, and so is everything handed to it before and not read yet).
   */
  drain (session: LocalSession, priorities: Priority[] = ['now', 'next', 'low'], via: 'hooks' | 'check_messages' = 'check_messages', thread?: string): Delivered[] {
    const out: Delivered[] = []
    const inThread = (f: MessageFrame): boolean => thread === undefined || (f.thread ?? f.id) === thread
    if (via === 'check_messages') this.read(session, inThread)
    for (const frame of session.inbox.take(priorities, inThread)) {
      out.push(this.delivered(frame))
      if (via === 'hooks') {
        this.handedOver(session, frame, 'hooks')
      } else {
        this.report(frame, session.info.id, 'delivered', 'check_messages')
        this.report(frame, session.info.id, 'read')
        this.noteRead(session, frame.id)
      }
    }
    if (out.length > 0) this.held.changed()
    return out
  }

  /** message id -> its thread, for the messages this daemon's sessions sent and received (the latest ones) */
  private readonly threads = new Map<string, string>()

  private noteThread (frame: MessageFrame): void {
    if (this.threads.has(frame.id)) return
    this.threads.set(frame.id, frame.thread ?? frame.id)
    if (this.threads.size > 16 * UNREAD_KEPT) this.threads.delete(this.threads.keys().next().value as string)
  }

  /** The thread a message is in: the one it named, else it starts its own. */
  threadOf (id: string): string {
    return this.threads.get(id) ?? id
  }

  /** ids of messages read through check_messages, so a reply_to can name them */
  private readonly readIds = new Set<string>()

  private noteRead (session: LocalSession, id: string): void {
    this.readIds.add(`${session.info.id}:${id}`)
    if (this.readIds.size > 16 * UNREAD_KEPT) this.readIds.delete(this.readIds.values().next().value as string)
  }

  /** Tells the sender's daemon (or ourselves) how a message stands for one recipient. */
  private report (frame: MessageFrame, sessionId: string, status: 'held' | 'delivered' | 'read' | 'dropped', via?: Via): void {
    if (frame.from.member === this.self.swarmKey) {
      this.setStatus(frame.id, sessionId, status, via)
      return
    }
    const report: Frame = { t: 'status', id: frame.id, session: sessionId, status, ...(via === undefined ? {} : { via }) }
    const peer = this.channels.get(frame.from.member)
    if (peer !== undefined && !peer.json.closed) {
      peer.json.send(report)
      return
    }
    // the sender's daemon is not connected now (it restarts, say): told once it is back
    const waiting = this.unsent.get(frame.from.member) ?? []
    waiting.push(report)
    if (waiting.length > CAPS.heldPerSender) waiting.shift()
    this.unsent.set(frame.from.member, waiting)
  }

  /** status reports for senders whose daemon was not connected when they were made */
  private readonly unsent = new Map<string, Frame[]>()

  private setStatus (id: string, sessionId: string, status: DeliveryStatus, via?: Via): void {
    if (this.outbox.setStatus(id, sessionId, status, via)) this.emit('status', id)
  }

  status (id: string): SendResult | null {
    return this.outbox.status(id)
  }

  // ---------------------------------------------------------------------------------------------
  // the offline queue

  /** Sends queued messages whose recipient name is now online. */
  private flushOutbox (): void {
    for (const { frame, target } of this.outbox.due(this.sessions())) this.dispatch(frame, [target])
    for (const id of this.outbox.expire()) this.emit('status', id)
  }

  async close (): Promise<void> {
    clearInterval(this.timer)
    this.mesh.off('members', this.onmembers)
    this.state.close()
    this.pending.clear()
    this.outbox.close()
    this.keys.close()
    for (const s of this.local.values()) s.inbox.unpush()
    await this.held.close()
    for (const peer of this.channels.values()) peer.json.close()
    this.channels.clear()
  }
}
