// The daemon's control connection to one relay: requests with replies, roster pushes, reconnects.
import { EventEmitter } from 'node:events'
import type HyperDHT from 'hyperdht'
import type { KeyPair, NoiseSocket } from 'hyperdht'
import { JsonChannel } from '../../protocol/channel.js'
import { MeshError, type ErrorCode } from '../../protocol/errors.js'
import { LIMITS } from '../../protocol/limits.js'
import { RELAY_PROTOCOL, Response, Push } from '../../protocol/relay-wire.js'

const RETRY_MIN_MS = 250
const RETRY_MAX_MS = 5000
const KEEPALIVE_MS = 2000
const DEAD_AFTER_MS = 7000

interface Pending { resolve: (v: unknown) => void, reject: (e: Error) => void, timer: NodeJS.Timeout }

export class RelayClient extends EventEmitter {
  readonly relayKey: Buffer
  readonly where: string
  private readonly dht: HyperDHT
  private readonly keyPair: KeyPair
  private socket: NoiseSocket | null = null
  private channel: JsonChannel | null = null
  private readonly pending = new Map<number, Pending>()
  private nextId = 1
  private retryMs = RETRY_MIN_MS
  private retryTimer: NodeJS.Timeout | null = null
  connected = false
  closed = false

  constructor (dht: HyperDHT, keyPair: KeyPair, relayKey: Buffer, where: string) {
    super()
    this.dht = dht
    this.keyPair = keyPair
    this.relayKey = relayKey
    this.where = where
  }

  start (): void {
    if (this.socket !== null || this.closed) return
    const socket = this.dht.connect(this.relayKey, { keyPair: this.keyPair })
    this.socket = socket
    socket.on('error', noop)
    // a relay that died without closing is noticed within seconds, not after UDX's long idle timeout
    socket.setKeepAlive(KEEPALIVE_MS)
    socket.setTimeout(DEAD_AFTER_MS)
    socket.on('open', () => {
      this.retryMs = RETRY_MIN_MS
      this.channel = JsonChannel.open(socket, {
        protocol: RELAY_PROTOCOL,
        maxFrame: LIMITS.relayFrame,
        onopen: () => {
          this.connected = true
          this.emit('open')
        },
        onframe: (frame) => this.onframe(frame),
        onclose: () => socket.destroy()
      })
    })
    socket.on('close', () => {
      const wasConnected = this.connected
      this.socket = null
      this.channel = null
      this.connected = false
      if (wasConnected) this.emit('close')
      this.failPending(MeshError.RELAY_UNREACHABLE(this.where))
      this.scheduleRetry()
    })
  }

  private scheduleRetry (): void {
    if (this.closed || this.retryTimer !== null) return
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null
      this.start()
    }, this.retryMs)
    this.retryTimer.unref()
    this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS)
  }

  /** Resolves once connected, or rejects with RELAY_UNREACHABLE after timeoutMs. */
  async waitConnected (timeoutMs: number): Promise<void> {
    if (this.connected) return
    if (this.closed) throw MeshError.RELAY_UNREACHABLE(this.where)
    if (this.retryTimer !== null) {
      clearTimeout(this.retryTimer)
      this.retryTimer = null
      this.start()
    }
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { this.off('open', onopen); reject(MeshError.RELAY_UNREACHABLE(this.where)) }, timeoutMs)
      timer.unref()
      const onopen = (): void => { clearTimeout(timer); resolve() }
      this.once('open', onopen)
    })
  }

  async request<T = unknown> (method: string, params: unknown, timeoutMs = 10_000): Promise<T> {
    await this.waitConnected(timeoutMs)
    const id = this.nextId++
    return await new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(MeshError.TIMEOUT(`the relay at ${this.where} did not answer ${method}`))
      }, timeoutMs)
      timer.unref()
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer })
      this.channel?.send({ id, method, params })
    })
  }

  private onframe (frame: unknown): void {
    const response = Response.safeParse(frame)
    if (response.success) {
      const pending = this.pending.get(response.data.id)
      if (pending === undefined) return
      this.pending.delete(response.data.id)
      clearTimeout(pending.timer)
      if (response.data.ok) pending.resolve(response.data.result)
      else pending.reject(new MeshError((response.data.error?.code ?? 'INTERNAL') as ErrorCode, response.data.error?.message ?? 'relay error'))
      return
    }
    const push = Push.safeParse(frame)
    if (push.success) this.emit('push', push.data.event, push.data.data)
  }

  private failPending (err: Error): void {
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer)
      pending.reject(err)
      this.pending.delete(id)
    }
  }

  async close (): Promise<void> {
    this.closed = true
    if (this.retryTimer !== null) clearTimeout(this.retryTimer)
    this.failPending(MeshError.RELAY_UNREACHABLE(this.where))
    this.socket?.destroy()
  }
}

function noop (): void {}
