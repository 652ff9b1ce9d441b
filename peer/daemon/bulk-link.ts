// Replication over TCP between daemons that reach each other directly (the same machine or a LAN).
// Hypercore over the swarm's UDP connection pays CPU for every ~1.4 KB packet, which caps a file
// transfer at ~20-30 MB/s here; the same replication over a Noise secret-stream on TCP is 2-3x
// faster. When both daemons can, the corestore (and autobase's wakeups, which must share the stream
// the cores replicate on) goes over the TCP link INSTEAD of the swarm connection, never over both
// (hypercore would split block requests between the two). Sessions stay on the swarm connection;
// the link lives and dies with it.
//
// Who does what: both sides open a `claudemesh/bulk/v1` channel on the swarm connection whose
// handshake carries their TCP port. The side with the smaller public key dials, authenticating the
// other by its swarm key; the other accepts only a member it holds a swarm connection to. If the
// dialer cannot (no port, an address that is not local, a failed dial), it says `udx` on the channel
// and both replicate on the swarm connection. If the link closes later, both fall back to it.
import net from 'node:net'
import { EventEmitter } from 'node:events'
import SecretStream from '@hyperswarm/secret-stream'
import type { NoiseSocket } from 'hyperdht'
import { JsonChannel } from '../../protocol/channel.js'
import { toHex, type KeyPair } from '../../protocol/crypto.js'

const PROTOCOL = 'claudemesh/bulk/v1'
const DIAL_TIMEOUT_MS = 3000
/** a peer that never opens the channel (an older daemon) replicates on the swarm connection */
const HELLO_TIMEOUT_MS = 10_000

interface Hello { port: number | null }

export interface BulkOptions {
  /** where the TCP server listens; null: no TCP links */
  host: string | null
  keyPair: KeyPair
  /** replicates the cores this peer may have over a stream (the gate, replication.ts) */
  replicate: (stream: unknown, remoteKey: string) => void
  allowed: (swarmKey: string) => boolean
}

interface Pending { conn: NoiseSocket, tcp: (stream: SecretStream) => void, udx: () => void }

export class BulkLinks extends EventEmitter {
  private readonly opts: BulkOptions
  private server: net.Server | null = null
  /** the TCP port links are accepted on; null when off */
  port: number | null = null
  /** swarm connections waiting for the other side's TCP link, by remote key */
  private readonly waiting = new Map<string, Pending>()
  readonly streams = new Set<SecretStream>()
  /** how many swarm connections replicate over TCP right now */
  tcpLinks = 0
  /** remote key -> its live TCP links */
  private readonly linkedKeys = new Map<string, number>()

  constructor (opts: BulkOptions) {
    super()
    this.opts = opts
  }

  /** Whether this member's replication runs over a TCP link now. */
  linked (remoteKey: string): boolean {
    return this.linkedKeys.has(remoteKey)
  }

  async ready (): Promise<void> {
    if (this.opts.host === null) return
    const server = net.createServer((socket) => { this.accept(socket) })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, this.opts.host ?? '127.0.0.1', () => { server.off('error', reject); resolve() })
    })
    server.on('error', noop)
    this.server = server
    this.port = (server.address() as net.AddressInfo).port
  }

  /**
   * Starts replicating the store for one swarm connection: over a TCP link if both sides can.
   * `onstream` learns which stream carries the replication (again if it falls back to `conn`).
   */
  replicate (conn: NoiseSocket, onstream: (stream: unknown) => void): void {
    const remoteKey = toHex(conn.remotePublicKey)
    const dialer = toHex(this.opts.keyPair.publicKey) < remoteKey
    let decided = false
    let channel: JsonChannel | null = null
    const udx = (): void => {
      if (decided) return
      decided = true
      clearTimeout(timer)
      if (this.waiting.get(remoteKey)?.conn === conn) this.waiting.delete(remoteKey)
      this.opts.replicate(conn, remoteKey)
      onstream(conn)
    }
    const tcp = (stream: SecretStream): void => {
      if (decided || isClosed(conn)) { stream.destroy(); return }
      decided = true
      clearTimeout(timer)
      if (this.waiting.get(remoteKey)?.conn === conn) this.waiting.delete(remoteKey)
      this.streams.add(stream)
      this.tcpLinks++
      this.linkedKeys.set(remoteKey, (this.linkedKeys.get(remoteKey) ?? 0) + 1)
      this.emit('link', remoteKey, 'tcp')
      stream.on('error', noop)
      stream.on('close', () => {
        this.streams.delete(stream)
        this.tcpLinks--
        const left = (this.linkedKeys.get(remoteKey) ?? 1) - 1
        if (left > 0) this.linkedKeys.set(remoteKey, left)
        else this.linkedKeys.delete(remoteKey)
        // the link is gone but the swarm connection is not: both sides see this and fall back to it
        if (isClosed(conn)) return
        this.opts.replicate(conn, remoteKey)
        onstream(conn)
      })
      conn.once('close', () => stream.destroy())
      this.opts.replicate(stream, remoteKey)
      onstream(stream)
    }
    const timer = setTimeout(udx, HELLO_TIMEOUT_MS)
    conn.once('close', () => {
      clearTimeout(timer)
      decided = true
      if (this.waiting.get(remoteKey)?.conn === conn) this.waiting.delete(remoteKey)
    })
    if (!dialer) this.waiting.set(remoteKey, { conn, tcp, udx })
    channel = JsonChannel.open(conn, {
      protocol: PROTOCOL,
      maxFrame: 1024,
      handshake: { port: this.port } satisfies Hello,
      onopen: (handshake) => {
        clearTimeout(timer)
        if (!dialer) return // the dialer decides; we wait for its link or its `udx`
        const port = (handshake as Hello | null)?.port
        const host = conn.rawStream.remoteHost
        if (this.port === null || typeof port !== 'number' || !isDirect(host)) {
          channel?.send({ use: 'udx' })
          udx()
          return
        }
        this.dial(host, port, conn.remotePublicKey).then(
          (stream) => tcp(stream),
          () => { channel?.send({ use: 'udx' }); udx() }
        )
      },
      onframe: (frame) => {
        if ((frame as { use?: string }).use === 'udx') udx()
      },
      onmalformed: () => udx()
    })
    if (channel === null) udx()
  }

  private async dial (host: string, port: number, remotePublicKey: Buffer): Promise<SecretStream> {
    const socket = net.connect({ host, port })
    socket.setNoDelay(true)
    const stream = new SecretStream(true, socket, { keyPair: this.opts.keyPair, remotePublicKey })
    stream.on('error', noop)
    const timer = setTimeout(() => stream.destroy(), DIAL_TIMEOUT_MS)
    try {
      if (!(await stream.opened)) throw new Error('the TCP link did not open')
    } finally {
      clearTimeout(timer)
    }
    return stream
  }

  /** A TCP link only from a member we hold a swarm connection to, and that waits for one. */
  private accept (socket: net.Socket): void {
    socket.setNoDelay(true)
    socket.on('error', noop)
    const stream = new SecretStream(false, socket, { keyPair: this.opts.keyPair })
    stream.on('error', noop)
    const timer = setTimeout(() => stream.destroy(), DIAL_TIMEOUT_MS)
    stream.opened.then((opened) => {
      clearTimeout(timer)
      if (!opened || stream.remotePublicKey === null) return
      const remoteKey = toHex(stream.remotePublicKey)
      const pending = this.waiting.get(remoteKey)
      if (pending === undefined || !this.opts.allowed(remoteKey)) {
        this.emit('refused', remoteKey)
        stream.destroy()
        return
      }
      pending.tcp(stream)
    }, noop)
  }

  async close (): Promise<void> {
    for (const stream of this.streams) stream.destroy()
    this.waiting.clear()
    const server = this.server
    if (server === null) return
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
}

function isClosed (conn: NoiseSocket): boolean {
  return (conn as unknown as { destroyed?: boolean }).destroyed === true
}

/** Loopback or a private LAN address: a TCP dial there is worth trying. */
function isDirect (host: string): boolean {
  return /^(127\.|10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|::1$|::ffff:127\.)/.test(host)
}

function noop (): void {}
