// Line framing of the daemon's IPC, shared by server and client: lines across chunks, several in
// one chunk, and a line over its limit stops the reader (server: the request; client: the answer).
import net from 'node:net'
import path from 'node:path'
import test from 'brittle'
import { LineSplitter } from '../peer/daemon/lines.js'
import { IpcClient } from '../peer/daemon/ipc-client.js'
import { Member, tmpDir } from './helpers/cli.js'
import { homePaths } from '../peer/daemon/home.js'
import { LIMITS } from '../protocol/limits.js'

function splitter (max: number): { lines: string[], oversize: number[], s: LineSplitter } {
  const lines: string[] = []
  const oversize: number[] = []
  return { lines, oversize, s: new LineSplitter(max, { line: (l) => lines.push(l), oversize: (m) => oversize.push(m) }) }
}

test('lines: split across chunks, several per chunk, blank lines skipped', async (t) => {
  const { lines, oversize, s } = splitter(16)
  s.push('{"a":')
  s.push('1}\n{"b":2}\n\n{"c"')
  t.alike(lines, ['{"a":1}', '{"b":2}'])
  s.push(':3}\n')
  t.alike(lines, ['{"a":1}', '{"b":2}', '{"c":3}'])
  s.push('x'.repeat(16) + '\n')
  t.is(lines.at(-1), 'x'.repeat(16), 'a line of exactly the limit passes')
  t.is(oversize.length, 0)
})

test('lines: a line over the limit stops the reader once, in one chunk or many', async (t) => {
  const one = splitter(8)
  one.s.push('123456789\n{"after":1}\n')
  t.alike(one.oversize, [8], 'reported with the limit')
  t.is(one.lines.length, 0, 'nothing after it is read')
  const many = splitter(8)
  many.s.push('1234')
  many.s.push('5678')
  many.s.push('9')
  many.s.push('\nok\n')
  t.alike(many.oversize, [8], 'a line that grows past the limit without a newline is stopped too')
  t.is(many.lines.length, 0)
})

test('the client refuses an answer over its limit and closes; the daemon refuses a request line over its own', { timeout: 60_000 }, async (t) => {
  const dir = tmpDir(t, 'cm-lines-')
  const sock = path.join(dir, 'big.sock')
  const server = net.createServer((c) => { c.on('data', () => c.write(JSON.stringify({ id: 1, ok: true, result: 'y'.repeat(4096) }) + '\n')) })
  await new Promise<void>((resolve) => server.listen(sock, resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  const client = await IpcClient.connect(sock, { maxLine: 1024 })
  const err = await client.request('status').then(() => null, (e: { code: string, message: string }) => e)
  t.is(err?.code, 'DAEMON_UNREACHABLE', 'refused')
  t.ok(err?.message.includes('over 1024 bytes'), err?.message)
  t.ok(client.isClosed(), 'and the connection is closed')

  const alice = new Member(t, 'alice')
  await alice.json('status')
  await alice.run('daemon', 'start')
  const raw = net.connect(homePaths(alice.home).socket)
  const answer = await new Promise<string>((resolve) => {
    let got = ''
    raw.setEncoding('utf-8').on('data', (d: string) => { got += d }).on('close', () => resolve(got))
    raw.write('{"id":1,"method":"status","params":{"pad":"' + 'z'.repeat(LIMITS.ipcLine) + '"}}\n')
  })
  t.ok(answer.includes('a line must be under'), 'the daemon says why and closes that connection')
  t.is((await alice.ipc('status')).pid > 0, true, 'and goes on serving')
})
