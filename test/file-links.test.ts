// Direct file transfers (claudemesh/files/v1): the frames, and a real daemon answering a member
// that speaks the protocol by hand, including one that sends garbage.
import test from 'brittle'
import fs from 'node:fs'
import path from 'node:path'
import crypto from 'node:crypto'
import Protomux from 'protomux'
import c from 'compact-encoding'
import { FILES_PROTOCOL, MAX_DATA_BYTES, decodeFrame, encodeFrame, type FileFrame } from '../protocol/file-wire.js'
import { CAPS } from '../protocol/limits.js'
import { JsonChannel } from '../protocol/channel.js'
import { DIRECT_MIN_BYTES } from '../peer/mesh/files.js'
import { fromHex } from '../protocol/crypto.js'
import type { NoiseSocket } from 'hyperdht'
import { joinedMesh, tmpDir } from './helpers/cli.js'
import { impersonate } from './helpers/rogue.js'

test('file frames: each kind round-trips; malformed ones are refused with the reason', (t) => {
  const frames: FileFrame[] = [
    { type: 'request', req: 1, mesh: crypto.randomBytes(32), id: 'ab'.repeat(16), offset: 5 * 1024 * 1024, window: 32 * 1024 * 1024 },
    { type: 'data', req: 2, bytes: crypto.randomBytes(1000) },
    { type: 'end', req: 3 },
    { type: 'fail', req: 4, code: 'FILE_UNKNOWN', message: 'no such file' },
    { type: 'ack', req: 5, bytes: 8 * 1024 * 1024 },
    { type: 'cancel', req: 6 }
  ]
  for (const f of frames) t.alike(decodeFrame(encodeFrame(f)), f, `${f.type} round-trips`)
  const long = decodeFrame(encodeFrame({ type: 'fail', req: 7, code: 'FILE_UNAVAILABLE', message: 'x'.repeat(5000) }))
  t.ok(long.type === 'fail' && long.message.length === 1024, 'a long failure message is cut to 1024 characters, and the frame still decodes')

  const refused = (buf: Buffer, rule: string, what: string): void => {
    try {
      decodeFrame(buf)
      t.fail(`${what} was accepted`)
    } catch (err) {
      t.ok((err as Error).message.includes(rule), `${what}: ${(err as Error).message}`)
    }
  }
  refused(Buffer.alloc(0), 'does not decode', 'an empty frame')
  refused(Buffer.from([9, 1]), 'unknown frame type 9', 'an unknown kind')
  refused(encodeFrame(frames[0]).subarray(0, 20), 'does not decode', 'a cut-off request')
  refused(Buffer.concat([encodeFrame(frames[2]), Buffer.from([0])]), '1 bytes left over', 'an end with trailing bytes')
  refused(encodeFrame({ type: 'data', req: 1, bytes: Buffer.alloc(MAX_DATA_BYTES + 1) }), `must be 1 to ${MAX_DATA_BYTES}`, 'an oversize data frame')
  refused(encodeFrame({ ...frames[0], window: 0 } as FileFrame), 'window must be above 0', 'a request without credit')
})


// frames go out as raw bytes, so that this member can also send garbage
interface Opened { send: (f: FileFrame) => void, sendRaw: (b: Buffer) => void, next: () => Promise<FileFrame>, closed: Promise<void>, close: () => void }

/**
 * Opens the files channel by hand on a rogue's connection. A daemon opens its side once it
 * replicates on the connection (after its TCP-link offer, or the rogue's `udx`): a channel opened
 * before that is turned away, so this opens again when the daemon opens its own.
 */
async function filesChannel (conn: NoiseSocket): Promise<Opened> {
  const mux = Protomux.from(conn)
  return await new Promise((resolve) => {
    let opened = false
    const create = (): void => {
      if (opened) return
      const frames: FileFrame[] = []
      let wake: (() => void) | null = null
      let closed!: () => void
      const closedP = new Promise<void>((resolve) => { closed = resolve })
      const channel = mux.createChannel({
        protocol: FILES_PROTOCOL,
        onopen: () => {
          opened = true
          mux.unpair({ protocol: FILES_PROTOCOL })
          resolve({ send, sendRaw, next, closed: closedP, close: () => channel?.close() })
        },
        onclose: () => closed()
      })
      if (channel === null) return
      const message = channel.addMessage({ encoding: c.raw, onmessage: (raw) => { frames.push(decodeFrame(raw)); wake?.() } })
      const sendRaw = (b: Buffer): void => { message.send(b) }
      const send = (f: FileFrame): void => { sendRaw(encodeFrame(f)) }
      const next = async (): Promise<FileFrame> => {
        while (frames.length === 0) await new Promise<void>((resolve) => { wake = resolve })
        return frames.shift() as FileFrame
      }
      channel.open()
    }
    mux.pair({ protocol: FILES_PROTOCOL }, create)
    create()
  })
}

test('a daemon serves a file to a member that asks directly; a malformed frame closes that channel only', { timeout: 120_000 }, async (t) => {
  const { relay, members: [alice, bob], meshKey } = await joinedMesh(t, ['alice', 'bob'])
  const src = path.join(tmpDir(t), 'notes.bin')
  fs.writeFileSync(src, crypto.randomBytes(3 * 1024 * 1024 + 11))
  const shared = await alice.ipc('files.share', { path: src })
  // a member speaking the protocol by hand, with bob's identity
  const { conn } = await impersonate(t, relay, bob, alice)

  const open = (): Promise<Opened> => filesChannel(conn)

  const first = await open()
  first.sendRaw(Buffer.from('not a frame'))
  await first.closed
  t.pass('a malformed frame closes the files channel')
  await alice.wait({ connected: 1 })
  t.pass('the connection stays up')
  const status = await alice.json<{ meshes: Array<{ malformedFileFrames: number }> }>('status')
  t.is(status.meshes[0].malformedFileFrames, 1, 'status counts the malformed frame')

  const second = await open()
  second.send({ type: 'request', req: 1, mesh: fromHex(meshKey), id: shared.id, offset: 0, window: 64 * 1024 * 1024 })
  const parts: Buffer[] = []
  for (let f = await second.next(); f.type !== 'end'; f = await second.next()) {
    if (f.type !== 'data') { t.fail(`unexpected ${f.type} frame`); break }
    parts.push(f.bytes)
  }
  const got = Buffer.concat(parts)
  t.is(crypto.createHash('sha256').update(got).digest('hex'), crypto.createHash('sha256').update(fs.readFileSync(src)).digest('hex'), 'the next channel gets the whole file, identical')

  second.send({ type: 'request', req: 2, mesh: fromHex(meshKey), id: shared.id, offset: 3 * 1024 * 1024, window: 1024 * 1024 })
  const tail = await second.next()
  t.alike(tail.type === 'data' ? tail.bytes : null, fs.readFileSync(src).subarray(3 * 1024 * 1024), 'a request from an offset gets the rest only')
  t.is((await second.next()).type, 'end', 'and then the end')

  second.send({ type: 'request', req: 3, mesh: fromHex(meshKey), id: 'c'.repeat(32), offset: 0, window: 1024 })
  const unknown = await second.next()
  t.ok(unknown.type === 'fail' && unknown.code === 'FILE_UNKNOWN', 'an unknown id is answered with FILE_UNKNOWN')
  second.send({ type: 'request', req: 4, mesh: crypto.randomBytes(32), id: shared.id, offset: 0, window: 1024 })
  const foreign = await second.next()
  t.ok(foreign.type === 'fail' && foreign.code === 'FILE_FORBIDDEN', 'a mesh it is not a member of is refused')
  second.send({ type: 'request', req: 5, mesh: fromHex(meshKey), id: shared.id, offset: 4 * 1024 * 1024, window: 1024 })
  const beyond = await second.next()
  t.ok(beyond.type === 'fail' && beyond.code === 'BAD_INPUT' && beyond.message.includes('offset'), 'an offset past the end names the field: ' + (beyond.type === 'fail' ? beyond.message : ''))

  // transfers that take credit and never ack it hold a serving slot each: a member gets a few at once, no more
  second.close() // one files channel per connection at a time
  await second.closed
  const third = await open()
  for (let req = 1; req <= CAPS.servingPerPeer + 1; req++) third.send({ type: 'request', req, mesh: fromHex(meshKey), id: shared.id, offset: 0, window: 1 })
  await third.closed
  const after = await alice.json<{ meshes: Array<{ malformedFileFrames: number }> }>('status')
  t.is(after.meshes[0].malformedFileFrames, 2, `request ${CAPS.servingPerPeer + 1} at once closed the channel, counted like a malformed frame`)
})

test('a member that sends more than the reader asked for has its files channel closed by the reader', { timeout: 120_000 }, async (t) => {
  const { relay, members: [alice, bob] } = await joinedMesh(t, ['alice', 'bob'])
  const src = path.join(tmpDir(t), 'big.bin')
  fs.writeFileSync(src, crypto.randomBytes(DIRECT_MIN_BYTES))
  const shared = await bob.ipc('files.share', { path: src })
  await alice.wait({ files: 1 })
  // bob goes rogue: he answers alice's request with more bytes than the file has, never waiting for her acks
  const { conn } = await impersonate(t, relay, bob, alice)
  const hello = JsonChannel.open(conn, { protocol: 'claudemesh/bulk/v1', maxFrame: 1024, handshake: { port: null }, onopen: () => { hello?.send({ use: 'udx' }) }, onframe: () => {} })
  const rogue = await filesChannel(conn)
  const get = alice.ipc('files.get', { id: shared.id, saveTo: path.join(tmpDir(t), 'got.bin'), timeoutSeconds: 5 })
  get.catch(() => {})
  const request = await rogue.next()
  t.is(request.type, 'request', 'alice asks the member that holds the file')
  const block = crypto.randomBytes(4 * 1024 * 1024)
  for (let sent = 0; sent <= DIRECT_MIN_BYTES; sent += block.byteLength) rogue.send({ type: 'data', req: request.req, bytes: block })
  await rogue.closed
  const status = await alice.json<{ meshes: Array<{ malformedFileFrames: number }> }>('status')
  t.is(status.meshes[0].malformedFileFrames, 1, 'alice closed the channel and counted it')
  const err = await get.then(() => null, (e: { code: string }) => e.code)
  t.ok(err === 'FILE_UNAVAILABLE' || err === 'FILE_CORRUPT', `and the get did not take those bytes as the file (${String(err)})`)
})
