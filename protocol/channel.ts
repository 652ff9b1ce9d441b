// A JSON frame channel on a protomux muxer: the one wire adapter relay and daemon share.
// Frames are raw bytes parsed here, so a malformed or oversized frame closes this channel only.
import Protomux from 'protomux'
import type { Channel, Message } from 'protomux'
import c from 'compact-encoding'
import b4a from 'b4a'

export interface JsonChannelOptions {
  protocol: string
  id?: Buffer | null
  maxFrame: number
  handshake?: unknown
  onopen?: (handshake: unknown) => void
  onframe: (frame: unknown) => void
  onclose?: () => void
  /** called when the remote sent something unreadable; the channel is closed right after */
  onmalformed?: (why: string) => void
}

export class JsonChannel {
  readonly channel: Channel
  private readonly message: Message<Buffer>
  private readonly maxFrame: number
  closed = false

  private constructor (channel: Channel, message: Message<Buffer>, maxFrame: number) {
    this.channel = channel
    this.message = message
    this.maxFrame = maxFrame
  }

  /** Opens the channel on the stream's muxer; null when one with this protocol and id is already open. */
  static open (stream: unknown, opts: JsonChannelOptions): JsonChannel | null {
    const mux = Protomux.from(stream)
    let self: JsonChannel | null = null
    const channel = mux.createChannel({
      protocol: opts.protocol,
      id: opts.id ?? null,
      handshake: c.json,
      onopen: (handshake) => opts.onopen?.(handshake),
      onclose: () => {
        if (self !== null) self.closed = true
        opts.onclose?.()
      }
    })
    if (channel === null) return null
    const message = channel.addMessage({
      encoding: c.raw,
      onmessage: (buf: Buffer) => {
        if (self === null || self.closed) return
        if (buf.byteLength > opts.maxFrame) return self.reject(opts, `frame of ${buf.byteLength} bytes is over the ${opts.maxFrame}-byte limit`)
        let frame: unknown
        try {
          frame = JSON.parse(b4a.toString(buf, 'utf-8'))
        } catch {
          return self.reject(opts, 'frame is not JSON')
        }
        try {
          opts.onframe(frame)
        } catch (err) {
          self.reject(opts, 'frame handler failed: ' + (err as Error).message)
        }
      }
    })
    self = new JsonChannel(channel, message, opts.maxFrame)
    channel.open(opts.handshake ?? null)
    return self
  }

  /** Calls fn whenever the remote opens this channel while none is open here (for example after we closed one). */
  static onRemoteOpen (stream: unknown, protocol: string, id: Buffer | null, fn: () => void): void {
    Protomux.from(stream).pair({ protocol, id }, fn)
  }

  private reject (opts: JsonChannelOptions, why: string): void {
    opts.onmalformed?.(why)
    this.close()
  }

  send (frame: unknown): boolean {
    if (this.closed) return false
    const buf = b4a.from(JSON.stringify(frame))
    if (buf.byteLength > this.maxFrame) throw new Error(`frame of ${buf.byteLength} bytes is over the ${this.maxFrame}-byte limit`)
    return this.message.send(buf)
  }

  /** Sends raw bytes as they are: for tests that need to misbehave. */
  sendRaw (buf: Buffer): boolean {
    return this.message.send(buf)
  }

  close (): void {
    if (this.closed) return
    this.closed = true
    this.channel.close()
  }
}
