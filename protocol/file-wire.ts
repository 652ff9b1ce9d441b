// Frames of `claudemesh/files/v1`: a member asks another for one file's stored bytes from an offset
// and gets them straight from that member's store, with credit-based flow control (the receiver
// grants bytes as it writes them, so a slow disk never makes the sender queue a whole file).
// Every frame is one protomux message of raw bytes, decoded here: a malformed frame throws, and
// the caller closes the channel (never the connection or the process).
import c, { type State, type Encoding } from 'compact-encoding'

export const FILES_PROTOCOL = 'claudemesh/files/v1'

export const FRAME = { request: 0, data: 1, end: 2, fail: 3, ack: 4, cancel: 5 } as const

/** a request's credit: how many bytes may be in flight, unacknowledged */
export const WINDOW_BYTES = 32 * 1024 * 1024
/** a data frame carries at most one stored block (4 MiB) with room to spare */
export const MAX_DATA_BYTES = 8 * 1024 * 1024
const MAX_TEXT = 1024
const MAX_CODE = 64

export type FileFrame =
  | { type: 'request', req: number, mesh: Buffer, id: string, offset: number, window: number }
  | { type: 'data', req: number, bytes: Buffer }
  | { type: 'end', req: number }
  | { type: 'fail', req: number, code: string, message: string }
  | { type: 'ack', req: number, bytes: number }
  | { type: 'cancel', req: number }

/**
 * The protomux encoding of the channel's one message: frames are written straight into the muxer's
 * buffer (a data frame's bytes are copied once), and read back as raw bytes for decodeFrame, so
 * that a malformed frame is this channel's problem, not the muxer's.
 */
export const frameEncoding: Encoding<FileFrame> = {
  preencode,
  encode,
  decode: (state) => (state.buffer as Buffer).subarray(state.start, (state.start = state.end)) as unknown as FileFrame
}

export function encodeFrame (frame: FileFrame): Buffer {
  const state = c.state()
  preencode(state, frame)
  state.buffer = Buffer.allocUnsafe(state.end)
  encode(state, frame)
  return state.buffer
}

function preencode (state: State, f: FileFrame): void { fields('preencode', state, f) }
function encode (state: State, f: FileFrame): void { fields('encode', state, f) }

/** Sizes (preencode) or writes (encode) a frame's fields: one list, so the two cannot disagree. */
function fields (op: 'preencode' | 'encode', state: State, f: FileFrame): void {
  c.uint8[op](state, FRAME[f.type])
  c.uint[op](state, f.req)
  switch (f.type) {
    case 'request':
      c.fixed32[op](state, f.mesh)
      c.fixed(16)[op](state, Buffer.from(f.id, 'hex'))
      c.uint[op](state, f.offset)
      c.uint[op](state, f.window)
      break
    case 'data': c.raw[op](state, f.bytes); break
    case 'fail': c.string[op](state, f.code.slice(0, MAX_CODE)); c.string[op](state, f.message.slice(0, MAX_TEXT)); break
    case 'ack': c.uint[op](state, f.bytes); break
  }
}

export class FrameError extends Error {
  readonly code = 'BAD_FRAME'
}

/** Decodes one frame; throws FrameError (naming what is wrong) on anything malformed. */
export function decodeFrame (buf: Buffer): FileFrame {
  const state = { start: 0, end: buf.byteLength, buffer: buf }
  try {
    const kind = c.uint8.decode(state)
    const req = c.uint.decode(state)
    let frame: FileFrame
    switch (kind) {
      case FRAME.request: {
        const mesh = c.fixed32.decode(state) as Buffer
        const id = (c.fixed(16).decode(state) as Buffer).toString('hex')
        const offset = c.uint.decode(state)
        const window = c.uint.decode(state)
        if (window === 0) throw new FrameError('request: window must be above 0')
        frame = { type: 'request', req, mesh, id, offset, window }
        break
      }
      case FRAME.data: {
        const bytes = buf.subarray(state.start)
        if (bytes.byteLength === 0 || bytes.byteLength > MAX_DATA_BYTES) throw new FrameError(`data: ${bytes.byteLength} bytes, must be 1 to ${MAX_DATA_BYTES}`)
        state.start = state.end
        frame = { type: 'data', req, bytes }
        break
      }
      case FRAME.end: frame = { type: 'end', req }; break
      case FRAME.fail: {
        const code = c.string.decode(state)
        const message = c.string.decode(state)
        if (code.length > MAX_CODE || message.length > MAX_TEXT) throw new FrameError('fail: code or message too long')
        frame = { type: 'fail', req, code, message }
        break
      }
      case FRAME.ack: frame = { type: 'ack', req, bytes: c.uint.decode(state) }; break
      case FRAME.cancel: frame = { type: 'cancel', req }; break
      default: throw new FrameError(`unknown frame type ${kind}`)
    }
    if (state.start !== state.end) throw new FrameError(`${frame.type}: ${state.end - state.start} bytes left over`)
    return frame
  } catch (err) {
    if (err instanceof FrameError) throw err
    throw new FrameError(`frame does not decode: ${(err as Error).message}`)
  }
}
