// Direct file transfers between members: a `claudemesh/files/v1` channel on the stream each
// connection replicates on (a direct TCP link, or the swarm connection). A member asks for one
// file's stored bytes from an offset; a member that holds every block of it (the uploader, or one
// that keeps a copy) streams them from its store. The bytes are what replication would have
// delivered (sealed, for an attachment), verified by the reader against the file's sha256 in the
// view, and never written to the reader's store: ~3x faster than replicating a large file here.
// If the member serving a transfer goes away, the reader carries on from where it was with another
// member that holds the file, or with the same one when it comes back, for up to the idle timeout.
import { EventEmitter } from 'node:events'
import type { Readable } from 'node:stream'
import Protomux from 'protomux'
import type { Channel, Message } from 'protomux'
import { FILES_PROTOCOL, WINDOW_BYTES, MAX_DATA_BYTES, frameEncoding, decodeFrame, type FileFrame } from '../../protocol/file-wire.js'
import { MeshError } from '../../protocol/errors.js'
import { CAPS } from '../../protocol/limits.js'
import { background, stderrLog } from '../background.js'
import { fromHex, toHex } from '../../protocol/crypto.js'
import type { Mesh } from '../mesh/mesh.js'
import type { FileEntry } from '../mesh/apply.js'
import type { DirectFetch } from '../mesh/files.js'

export interface FileLinksOptions {
  /** the open mesh with this key (hex) */
  mesh: (keyHex: string) => Mesh | undefined
  /** whether the member with this swarm key may read this mesh's files */
  memberOf: (mesh: Mesh, remoteKey: string) => boolean
}

/** the member serving a transfer went away, or went quiet: try another, or wait for it */
class LinkLost extends Error {}

export class FileLinks extends EventEmitter {
  private readonly opts: FileLinksOptions
  private readonly peers = new Set<FilePeer>()
  private readonly paired = new WeakSet<object>()
  private closed = false
  /** channels closed because the remote sent a malformed frame */
  malformed = 0

  constructor (opts: FileLinksOptions) {
    super()
    this.opts = opts
  }

  /**
   * Opens the files channel on a stream that replicates with `remoteKey`; the other side does too.
   * If the channel closes while the stream lives (a malformed frame), the remote may open it again.
   */
  attach (stream: unknown, remoteKey: string): void {
    if (this.closed) return
    const peer = new FilePeer(stream, remoteKey, this.opts, {
      onopen: () => { this.peers.add(peer); this.emit('peer') },
      onclose: () => { this.peers.delete(peer) },
      onmalformed: (why) => { this.malformed++; this.emit('malformed', remoteKey, why) }
    })
    peer.open()
    if (this.paired.has(stream as object)) return
    this.paired.add(stream as object)
    Protomux.from(stream).pair({ protocol: FILES_PROTOCOL }, () => { this.attach(stream, remoteKey) })
  }

  /** How a mesh's files fetch directly (MeshFiles.direct). */
  fetcher (mesh: Mesh): DirectFetch {
    return async (entry, idleMs, offset) => {
      let first = await this.start(mesh, entry, offset, idleMs)
      // carrying on from a kept part: give a holder whose connection is still opening the idle time
      // to answer, rather than start over by replication
      if (first === null && offset > 0) first = await this.reconnect(mesh, entry, offset, idleMs).catch(() => null)
      return first === null ? null : this.transfer(mesh, entry, first, offset, idleMs)
    }
  }

  /** A request answered with bytes, from the first connected member that holds the file; null if none does. */
  private async start (mesh: Mesh, entry: FileEntry, offset: number, idleMs: number): Promise<Incoming | null> {
    for (const peer of [...this.peers]) {
      if (!this.opts.memberOf(mesh, peer.remoteKey)) continue
      const incoming = peer.request(mesh.keyHex, entry.id, offset, entry.blob.byteLength - offset)
      if (await incoming.answered(idleMs)) return incoming
    }
    return null
  }

  private async * transfer (mesh: Mesh, entry: FileEntry, first: Incoming, from: number, idleMs: number): AsyncGenerator<Buffer> {
    const total = entry.blob.byteLength
    let offset = from
    let current: Incoming | null = first
    try {
      while (true) {
        if (current === null) current = await this.reconnect(mesh, entry, offset, idleMs)
        try {
          for await (const chunk of current.chunks(idleMs)) {
            if (offset + chunk.byteLength > total) throw MeshError.FILE_CORRUPT(`a member sent more than the ${total} stored bytes of ${entry.name} (${entry.id})`)
            offset += chunk.byteLength
            yield chunk
          }
          if (offset === total) return
          throw new LinkLost('the transfer ended early')
        } catch (err) {
          if (!(err instanceof LinkLost)) throw err
          current.cancel()
          current = null
        }
      }
    } finally {
      current?.cancel()
    }
  }

  /** Waits (up to idleMs) for a member that holds the file to carry on from `offset`. */
  private async reconnect (mesh: Mesh, entry: FileEntry, offset: number, idleMs: number): Promise<Incoming> {
    const deadline = Date.now() + idleMs
    while (!this.closed) {
      const next = await this.start(mesh, entry, offset, idleMs)
      if (next !== null) return next
      const left = deadline - Date.now()
      if (left <= 0) break
      await new Promise<void>((resolve) => {
        const done = (): void => { clearTimeout(timer); this.off('peer', done); resolve() }
        const timer = setTimeout(done, left)
        this.on('peer', done)
      })
    }
    throw MeshError.FILE_UNAVAILABLE(`no member that holds ${entry.name} (${entry.id}) was reachable for ${Math.round(idleMs / 1000)} s (is ${entry.by.session ?? entry.by.member}'s machine online?); ${offset} of ${entry.blob.byteLength} bytes had arrived`)
  }

  close (): void {
    this.closed = true
    for (const peer of this.peers) peer.close()
    this.peers.clear()
    this.emit('peer')
  }
}

interface PeerEvents { onopen: () => void, onclose: () => void, onmalformed: (why: string) => void }

interface Outgoing { sent: number, acked: number, window: number, done: boolean, wake: (() => void) | null }

/** The files channel with one member: requests we made, and requests we serve. */
class FilePeer {
  readonly remoteKey: string
  private readonly channel: Channel | null
  private readonly message: Message<FileFrame> | null
  private readonly opts: FileLinksOptions
  private readonly events: PeerEvents
  private readonly requests = new Map<number, Incoming>()
  private readonly serving = new Map<number, Outgoing>()
  private readonly drainWaiters: Array<() => void> = []
  private nextReq = 1
  closed = false

  constructor (stream: unknown, remoteKey: string, opts: FileLinksOptions, events: PeerEvents) {
    this.remoteKey = remoteKey
    this.opts = opts
    this.events = events
    this.channel = Protomux.from(stream).createChannel({
      protocol: FILES_PROTOCOL,
      onopen: () => { this.events.onopen() },
      onclose: () => { this.onclose() },
      ondrain: () => { this.ondrain() }
    })
    this.message = this.channel?.addMessage({
      encoding: frameEncoding,
      onmessage: (raw) => { this.onmessage(raw as unknown as Buffer) }
    }) ?? null
  }

  open (): void {
    this.channel?.open()
  }

  /** Asks for the stored bytes of a file from `offset`: `rest` of them, no more. */
  request (meshKey: string, id: string, offset: number, rest: number): Incoming {
    const req = this.nextReq++
    const incoming = new Incoming(this, req, rest)
    this.requests.set(req, incoming)
    this.send({ type: 'request', req, mesh: fromHex(meshKey), id, offset, window: WINDOW_BYTES })
    return incoming
  }

  /** Sends a frame; false if the stream wants to drain first (or the channel is closed). */
  send (frame: FileFrame): boolean {
    if (this.closed || this.message === null) return false
    return this.message.send(frame)
  }

  forget (req: number): void {
    this.requests.delete(req)
  }

  /** The remote broke the protocol's rules (not just its encoding): this channel closes, like for a malformed frame. */
  refuse (why: string): void {
    if (this.closed) return
    this.events.onmalformed(why)
    this.close()
  }

  close (): void {
    this.channel?.close()
    this.onclose()
  }

  private onmessage (raw: Buffer): void {
    if (this.closed) return
    let frame: FileFrame
    try {
      frame = decodeFrame(raw)
    } catch (err) {
      this.events.onmalformed((err as Error).message)
      this.close() // a malformed frame closes this channel only; transfers on it carry on elsewhere
      return
    }
    switch (frame.type) {
      case 'request': this.serve(frame).catch(background(stderrLog, 'serving a file')); break
      case 'ack': case 'cancel': {
        const out = this.serving.get(frame.req)
        if (out === undefined) return
        if (frame.type === 'ack') out.acked = Math.max(out.acked, frame.bytes)
        else out.done = true
        out.wake?.()
        break
      }
      default: this.requests.get(frame.req)?.onframe(frame)
    }
  }

  private async serve (frame: Extract<FileFrame, { type: 'request' }>): Promise<void> {
    const req = frame.req
    if (this.serving.has(req)) return this.refuse(`request ${req} was made twice`)
    if (this.serving.size >= CAPS.servingPerPeer) return this.refuse(`more than ${CAPS.servingPerPeer} transfers at once`)
    const out: Outgoing = { sent: 0, acked: 0, window: Math.min(frame.window, 4 * WINDOW_BYTES), done: false, wake: null }
    this.serving.set(req, out)
    let stream: Readable | null = null
    try {
      const mesh = this.opts.mesh(toHex(frame.mesh))
      if (mesh === undefined || !this.opts.memberOf(mesh, this.remoteKey)) throw MeshError.FILE_FORBIDDEN('not a member of that mesh here')
      stream = await mesh.files.serve(frame.id, frame.offset)
      for await (const block of stream as AsyncIterable<Buffer>) {
        for (let at = 0; at < block.byteLength && !out.done; at += MAX_DATA_BYTES) {
          const bytes = block.subarray(at, at + MAX_DATA_BYTES)
          while (out.sent - out.acked >= out.window && !out.done && !this.closed) await new Promise<void>((resolve) => { out.wake = resolve })
          if (out.done || this.closed) break
          out.sent += bytes.byteLength
          if (!this.send({ type: 'data', req, bytes })) await this.drained()
        }
        if (out.done || this.closed) break
      }
      if (!out.done) this.send({ type: 'end', req })
    } catch (err) {
      const e = MeshError.from(err)
      if (!out.done) this.send({ type: 'fail', req, code: e.code, message: e.message })
    } finally {
      stream?.destroy()
      this.serving.delete(req)
    }
  }

  private async drained (): Promise<void> {
    if (this.closed) return
    await new Promise<void>((resolve) => this.drainWaiters.push(resolve))
  }

  private ondrain (): void {
    for (const wake of this.drainWaiters.splice(0)) wake()
  }

  private onclose (): void {
    if (this.closed) return
    this.closed = true
    this.ondrain()
    for (const out of this.serving.values()) { out.done = true; out.wake?.() }
    for (const incoming of this.requests.values()) incoming.lost(new LinkLost('the connection closed'))
    this.requests.clear()
    this.events.onclose()
  }
}

/** One request's bytes as they arrive, with the credit we grant as they are consumed. */
class Incoming {
  private readonly peer: FilePeer
  private readonly req: number
  private readonly queue: Buffer[] = []
  private ended = false
  private error: Error | null = null
  private wake: (() => void) | null = null
  private consumed = 0
  private acked = 0
  /** bytes that arrived: never more than the credit we granted beyond what we acknowledged */
  private received = 0
  /** whether what came first was bytes (an end at once does not serve us: we ask only for bytes that exist); null until something came */
  private answer: boolean | null = null
  private onanswer: ((ok: boolean) => void) | null = null

  /** how many bytes were asked for: the rest of the file */
  private readonly rest: number

  constructor (peer: FilePeer, req: number, rest: number) {
    this.peer = peer
    this.req = req
    this.rest = rest
  }

  /** true once bytes arrived; false if this member cannot serve the file, or is silent for `ms` */
  async answered (ms: number): Promise<boolean> {
    const ok = this.answer ?? await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => { this.onanswer = null; resolve(false) }, ms)
      this.onanswer = (answer) => { clearTimeout(timer); resolve(answer) }
    })
    if (!ok) this.cancel()
    return ok
  }

  onframe (frame: FileFrame): void {
    if (frame.type === 'data') {
      this.received += frame.bytes.byteLength
      // never more than the rest of the file; and a sender may send one frame once less than the
      // credit is in flight: so credit plus one frame at most beyond what we acknowledged
      if (this.received > this.rest) {
        this.peer.refuse(`request ${this.req}: ${this.received} bytes sent for the ${this.rest} asked for`)
        return
      }
      if (this.received - this.acked > WINDOW_BYTES + MAX_DATA_BYTES) {
        this.peer.refuse(`request ${this.req}: ${this.received - this.acked} bytes in flight, over the ${WINDOW_BYTES}-byte credit`)
        return
      }
      this.queue.push(frame.bytes)
    }
    else if (frame.type === 'end') this.ended = true
    // whatever the reason (no copy, not in its view yet, deleted, expired), another member may serve it
    else if (frame.type === 'fail') this.error = new LinkLost(`${frame.code}: ${frame.message}`)
    if (frame.type === 'end' || frame.type === 'fail') this.peer.forget(this.req)
    this.settle()
  }

  lost (err: LinkLost): void {
    if (this.ended) return
    this.error ??= err
    this.settle()
  }

  private settle (): void {
    if (this.answer === null && (this.queue.length > 0 || this.ended || this.error !== null)) {
      this.answer = this.error === null && this.queue.length > 0
      this.onanswer?.(this.answer)
      this.onanswer = null
    }
    this.wake?.()
  }

  async * chunks (idleMs: number): AsyncGenerator<Buffer> {
    while (true) {
      const chunk = this.queue.shift()
      if (chunk !== undefined) {
        this.consumed += chunk.byteLength
        if (this.consumed - this.acked >= WINDOW_BYTES / 4) {
          this.acked = this.consumed
          this.peer.send({ type: 'ack', req: this.req, bytes: this.consumed })
        }
        yield chunk
        continue
      }
      if (this.error !== null) throw this.error
      if (this.ended) return
      const arrived = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => { this.wake = null; resolve(false) }, idleMs)
        this.wake = () => { clearTimeout(timer); this.wake = null; resolve(true) }
      })
      if (!arrived) throw new LinkLost(`nothing arrived for ${Math.round(idleMs / 1000)} s`)
    }
  }

  cancel (): void {
    if (this.ended) return
    this.ended = true
    this.peer.forget(this.req)
    this.peer.send({ type: 'cancel', req: this.req })
  }
}

function noop (): void {}
