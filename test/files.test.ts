// Files: shared files and message attachments over each member's own hyperdrive.
import test from 'brittle'
import fs from 'node:fs'
import path from 'node:path'
import crypto from 'node:crypto'
import { joinedHomes, tmpDir, type Member } from './helpers/cli.js'
import { refusal } from './helpers/errors.js'
import { McpSession } from './helpers/mcp.js'
import { replicateStoredBytes, storedBlocks } from './helpers/replica.js'
import { IpcClient } from '../peer/daemon/ipc-client.js'
import { homePaths } from '../peer/daemon/home.js'

function sha256 (file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex')
}

function randomFile (dir: string, name: string, bytes: number): string {
  const file = path.join(dir, name)
  fs.writeFileSync(file, crypto.randomBytes(bytes))
  return file
}

test('share on one daemon, get on two others (the second from the first, with the uploader offline): identical bytes, accesses visible', { timeout: 120_000 }, async (t) => {
  const [alice, bob, carol] = await joinedHomes(t, ['alice', 'bob', 'carol'])
  const dir = tmpDir(t)
  const src = randomFile(dir, 'design.pdf', 3 * 1024 * 1024 + 17)
  const sharer = await McpSession.start(t, alice.home, ['--name', 'sharer'])
  const res = await sharer.call('share_file', { path: src, tags: ['docs', 'q3'] })
  t.absent(res.isError, res.text)
  const id = /as ([0-9a-f]{32})/.exec(res.text)?.[1] ?? ''
  const shared = (await alice.ipc('files.status', { id })).file
  t.alike({ name: shared.name, size: shared.size, mime: shared.mime, kind: shared.kind, by: shared.by.session }, { name: 'design.pdf', size: 3 * 1024 * 1024 + 17, mime: 'application/pdf', kind: 'persistent', by: 'sharer' }, 'indexed with name, size, mime, kind and uploader')
  for (const m of [bob, carol]) await m.wait({ files: 1 })

  const reader = await McpSession.start(t, bob.home, ['--name', 'reader'])
  t.ok((await reader.call('list_files', { query: 'design', tags: ['docs'] })).text.includes(id), 'list_files finds it by name and tag')
  t.ok((await reader.call('list_files', { from: 'sharer' })).text.includes(id), 'and by who shared it')
  t.is((await reader.call('list_files', { tags: ['other'] })).text, 'No files.', 'and not under another tag')
  const got = await reader.call('get_file', { id, save_to: path.join(dir, 'bob.pdf') })
  t.absent(got.isError, got.text)
  t.is(sha256(path.join(dir, 'bob.pdf')), sha256(src), 'bob\'s copy (through MCP) is identical')
  await alice.wait({ accesses: { id, count: 1 } })
  t.ok((await sharer.call('file_status', { id })).text.includes('reader on bob'), 'the uploader sees bob\'s access')

  // the uploader goes offline: carol fetches it from bob, who has it
  await sharer.close()
  await alice.run('daemon', 'stop')
  await carol.wait({ connected: 1 })
  const carolGot = await carol.ipc('files.get', { id, saveTo: path.join(dir, 'carol.pdf') })
  t.is(carolGot.bytes, shared.size, 'carol fetched every byte with the uploader offline')
  t.is(sha256(path.join(dir, 'carol.pdf')), sha256(src), 'carol\'s copy is identical')

  for (const m of [bob, carol]) {
    await m.wait({ accesses: { id, count: 2 } })
    const status = await m.ipc('files.status', { id })
    t.alike(status.accesses.map((a: { by: { member: string } }) => a.by.member).sort(), ['bob', 'carol'], `${m.label} sees who fetched it`)
  }
  const viaMcp = await reader.call('file_status', { id })
  t.ok(viaMcp.text.includes('reader on bob') && viaMcp.text.includes('a person on carol'), 'file_status names who fetched it: ' + viaMcp.text)

  const again = await reader.call('get_file', { id, save_to: path.join(dir, 'bob.pdf') })
  t.ok(again.isError && again.text.includes('already exists'), 'an existing file is not overwritten: ' + again.text)
  const over = await reader.call('get_file', { id, save_to: path.join(dir, 'bob.pdf'), overwrite: true })
  t.absent(over.isError, 'unless overwrite is true: ' + over.text)
  const notYours = await reader.call('delete_file', { id })
  t.ok(notYours.isError && notYours.text.includes('FILE_FORBIDDEN'), 'a reader cannot delete it: ' + notYours.text)
})

test('an attachment: its recipient reads it, a third member holding the blocks cannot, and after 24 h nobody can', { timeout: 180_000 }, async (t) => {
  const [alice, bob, carol] = await joinedHomes(t, ['alice', 'bob', 'carol'], { CLAUDEMESH_TEST_CLOCK: '1' })
  const dir = tmpDir(t)
  const sender = await McpSession.start(t, alice.home, ['--name', 'sender'])
  const rcpt = await McpSession.start(t, bob.home, ['--name', 'rcpt'])
  const third = await McpSession.start(t, carol.home, ['--name', 'third'])
  for (const m of [alice, bob, carol]) await m.wait({ sessions: 3 })
  const secret = Buffer.from('the staging password is hunter2\n'.repeat(40_000)) // ~1.3 MB, two sealed chunks
  const src = path.join(dir, 'secrets.txt')
  fs.writeFileSync(src, secret)

  const sent = await sender.call('send_message', { to: 'rcpt', message: 'the credentials, for you only', file: src })
  t.absent(sent.isError, sent.text)
  const n = await rcpt.notification((x) => x.meta.attachments !== undefined)
  const [att] = JSON.parse(n.meta.attachments) as Array<{ id: string, name: string, size: number }>
  t.alike({ name: att.name, size: att.size }, { name: 'secrets.txt', size: secret.length }, 'the notification names the attachment with id, name and size')
  t.ok(n.content.includes(`[attachment ${att.id}: secrets.txt`), 'and says so in its text')

  const saved = path.join(dir, 'rcpt.txt')
  const got = await rcpt.call('get_file', { id: att.id, save_to: saved })
  t.absent(got.isError, got.text)
  t.alike(fs.readFileSync(saved), secret, 'the recipient reads the attachment')
  t.ok((await rcpt.call('list_files')).text.includes(att.id), 'the recipient lists it')

  await carol.wait({ files: 1 })
  t.ok(!(await third.call('list_files')).text.includes(att.id), 'a third member\'s session does not list it')
  const refused = await third.call('get_file', { id: att.id, save_to: path.join(dir, 'third.txt') })
  t.ok(refused.isError && refused.text.includes('FILE_FORBIDDEN'), 'and get_file refuses it: ' + refused.text)
  t.is((await refusal(carol.ipc('files.get', { id: att.id, saveTo: path.join(dir, 'carol.txt') })))?.code, 'FILE_FORBIDDEN', 'carol\'s CLI too')
  t.absent(fs.existsSync(path.join(dir, 'third.txt')) || fs.existsSync(path.join(dir, 'carol.txt')), 'nothing was written for them')

  // carol replicates the blocks herself, with every key a member has: sealed bytes only
  const entry = (await alice.ipc('files.status', { id: att.id })).file
  await carol.run('daemon', 'stop')
  const stored = await replicateStoredBytes(carol.home, entry)
  t.is(stored.length, entry.blob.byteLength, 'a member can replicate every block of the attachment')
  t.absent(stored.includes(secret.subarray(0, 64)), 'but the blocks hold no plaintext')
  t.not(crypto.createHash('sha256').update(stored).digest('hex'), crypto.createHash('sha256').update(secret).digest('hex'))

  // bob's daemon restarts (it holds the fetched blocks, but has not opened them since)
  await rcpt.close()
  await bob.run('daemon', 'stop')
  t.is(await storedBlocks(bob.home, entry), entry.blob.blockLength, 'the recipient\'s store holds the fetched blocks')
  t.is((await bob.run('daemon', 'start')).code, 0)
  await bob.wait({ connected: 1, timeoutMs: 60_000 })

  // 24 h later (the clock moved on every running daemon): refused for everyone, blocks cleared
  for (const m of [alice, bob]) await m.ipc('clock.advance', { ms: 24 * 3600 * 1000 + 1000 })
  const late = await refusal(bob.ipc('files.get', { id: att.id, saveTo: path.join(dir, 'late.txt') }))
  t.is(late?.code, 'FILE_EXPIRED', 'the recipient\'s machine is refused after expiry: ' + late?.message)
  t.is((await refusal(alice.ipc('files.get', { id: att.id, saveTo: path.join(dir, 'sender.txt') })))?.code, 'FILE_EXPIRED', 'the sender too')
  await alice.wait({ files: 0 })
  await bob.wait({ files: 0 })
  await alice.run('daemon', 'stop')
  await bob.run('daemon', 'stop')
  t.is(await storedBlocks(alice.home, entry), 0, 'the uploader\'s blocks are cleared')
  t.is(await storedBlocks(bob.home, entry), 0, 'and the recipient\'s copy too')
})

/** alice shares 100 MiB of random bytes; bob sees it and has an IPC client for pushes (progress). */
async function largeShare (t: Parameters<typeof joinedHomes>[0], name: string): Promise<{ alice: Member, bob: Member, dir: string, src: string, shared: { id: string }, saveTo: string, client: IpcClient }> {
  const [alice, bob] = await joinedHomes(t, ['alice', 'bob'])
  const dir = tmpDir(t)
  const src = randomFile(dir, name, 100 * 1024 * 1024)
  const shared = await alice.ipc('files.share', { path: src })
  await bob.wait({ files: 1 })
  const client = await IpcClient.connect(homePaths(bob.home).socket)
  t.teardown(() => client.close())
  return { alice, bob, dir, src, shared, saveTo: path.join(dir, 'copy.bin'), client }
}

test('a 100 MB file completes, and survives its uploader being killed mid-transfer with no partial file at save_to', { timeout: 300_000 }, async (t) => {
  const { alice, bob, dir, src, shared, saveTo, client } = await largeShare(t, 'dataset.bin')
  let killed = false
  let seenAfterKill = -1
  const progress = new Promise<void>((resolve) => {
    client.on('push', (event: string, data: { token: string, bytes: number, total: number }) => {
      if (event !== 'progress' || data.token !== 'resume') return
      if (!killed && data.bytes > 0 && data.bytes < data.total / 2) {
        killed = true
        process.kill(alice.pid() ?? -1, 'SIGKILL')
        resolve()
      }
      if (killed) seenAfterKill = data.bytes
    })
  })
  const getting = client.request('files.get', { id: shared.id, saveTo, progress: 'resume', timeoutSeconds: 180 })
  await progress
  t.ok(killed, 'the uploader was killed during the transfer')
  await bob.wait({ connected: 0, timeoutMs: 60_000 })
  t.absent(fs.existsSync(saveTo), 'no file at save_to while the transfer is stalled')
  t.is((await alice.run('daemon', 'start')).code, 0, 'the uploader comes back')
  const got = await getting
  t.is(got.bytes, 100 * 1024 * 1024, 'the transfer resumed and completed')
  t.ok(seenAfterKill > 0, 'progress went on after the restart')
  t.is(sha256(saveTo), sha256(src), 'the copy is identical')
  t.alike(fs.readdirSync(dir).filter((f) => f.includes('claudemesh-partial')), [], 'no temp file left behind')
  // a file this large came straight from alice's store: bob's disk holds it once, at save_to
  const entry = (await bob.ipc('files.status', { id: shared.id })).file
  await bob.run('daemon', 'stop')
  t.is(await storedBlocks(bob.home, entry), 0, 'fetched directly: no second copy in the reader\'s store')
})

test('a large file whose get gave up (its uploader gone) carries on from what arrived at the next get to the same place', { timeout: 300_000 }, async (t) => {
  const { alice, bob, dir, src, shared, saveTo, client } = await largeShare(t, 'video.bin')
  const firstBytes = new Map<string, number>()
  let killed = false
  client.on('push', (event: string, data: { token: string, bytes: number, total: number }) => {
    if (event !== 'progress') return
    if (!firstBytes.has(data.token)) firstBytes.set(data.token, data.bytes)
    if (data.token === 'first' && !killed && data.bytes < data.total / 2) {
      killed = true
      process.kill(alice.pid() ?? -1, 'SIGKILL')
    }
  })
  const failed = await refusal(client.request('files.get', { id: shared.id, saveTo, progress: 'first', timeoutSeconds: 2 }))
  t.is(failed?.code, 'FILE_UNAVAILABLE', 'the get gives up once its uploader is gone: ' + failed?.message)
  const partial = fs.readdirSync(dir).filter((f) => f.includes('claudemesh-partial'))
  t.is(partial.length, 1, 'what arrived is kept beside the target')
  t.ok(failed?.message.includes(partial[0]), 'and the error says where')
  const kept = fs.statSync(path.join(dir, partial[0])).size
  t.ok(kept > 0 && kept < 100 * 1024 * 1024, `part of it arrived (${kept} bytes)`)
  t.absent(fs.existsSync(saveTo), 'nothing at save_to')

  t.is((await alice.run('daemon', 'start')).code, 0, 'the uploader comes back')
  await bob.wait({ connected: 1, timeoutMs: 60_000 })
  const got = await client.request('files.get', { id: shared.id, saveTo, progress: 'second', timeoutSeconds: 60 })
  t.ok((firstBytes.get('second') ?? 0) > kept, `the next get carried on after the ${kept} kept bytes (first progress at ${firstBytes.get('second')})`)
  t.is(got.bytes, 100 * 1024 * 1024)
  t.is(sha256(saveTo), sha256(src), 'the copy is identical')
  t.alike(fs.readdirSync(dir).filter((f) => f.includes('claudemesh-partial')), [], 'no temp file left behind')
})

test('delete_file: refused for a non-uploader, done by the uploader (gone everywhere) or the owner', { timeout: 120_000 }, async (t) => {
  const [alice, bob, carol] = await joinedHomes(t, ['alice', 'bob', 'carol'])
  const dir = tmpDir(t)
  const byBob = await bob.ipc('files.share', { path: randomFile(dir, 'notes.md', 5000) })
  for (const m of [alice, carol]) await m.wait({ files: 1 })
  const refused = await refusal(carol.ipc('files.delete', { id: byBob.id }))
  t.is(refused?.code, 'FILE_FORBIDDEN', 'carol (not the uploader, not the owner) may not delete it: ' + refused?.message)
  t.ok((await carol.ipc('files.list')).length === 1, 'and it is still there')

  await bob.ipc('files.delete', { id: byBob.id })
  for (const m of [alice, bob, carol]) await m.wait({ files: 0 })
  const gone = await refusal(carol.ipc('files.get', { id: byBob.id, saveTo: path.join(dir, 'x.md') }))
  t.is(gone?.code, 'FILE_UNKNOWN', 'deleted by the uploader: gone everywhere')
  t.ok(gone?.message.includes('deleted'), gone?.message)

  const second = await bob.ipc('files.share', { path: randomFile(dir, 'plan.md', 5000) })
  await alice.wait({ files: 1 })
  await alice.ipc('files.delete', { id: second.id })
  await bob.wait({ files: 0 })
  await bob.run('daemon', 'stop')
  t.is(await storedBlocks(bob.home, second), 0, 'deleted by the owner: the uploader\'s blocks are cleared')
})

test('bad paths and ids get clear errors and write nothing', { timeout: 90_000 }, async (t) => {
  const [alice] = await joinedHomes(t, ['alice'], { CLAUDEMESH_MAX_FILE_BYTES: '4096' })
  const dir = tmpDir(t)
  const cases: Array<[string, string, object, string, string]> = [
    ['a missing path', 'files.share', { path: path.join(dir, 'nope.txt') }, 'BAD_INPUT', 'does not exist'],
    ['a directory', 'files.share', { path: dir }, 'BAD_INPUT', 'is a directory'],
    ['a file over the limit', 'files.share', { path: randomFile(dir, 'big.bin', 5000) }, 'BAD_INPUT', 'at most 4096 bytes'],
    ['a relative path', 'files.share', { path: 'notes.txt' }, 'BAD_INPUT', 'absolute path'],
    ['a name with a slash', 'files.share', { path: randomFile(dir, 'ok.txt', 10), name: '../etc/passwd' }, 'BAD_INPUT', 'name'],
    ['an unknown id', 'files.get', { id: 'a'.repeat(32), saveTo: path.join(dir, 'out') }, 'FILE_UNKNOWN', 'no file'],
    ['a malformed id', 'files.status', { id: 'xyz' }, 'BAD_INPUT', '32-character file id'],
    ['an unknown id to delete', 'files.delete', { id: 'b'.repeat(32) }, 'FILE_UNKNOWN', 'no file']
  ]
  for (const [what, method, params, code, words] of cases) {
    const err = await refusal(alice.raw(method, params))
    t.is(err?.code, code, `${what}: ${code}`)
    t.ok(err?.message.includes(words), `${what}: "${err?.message}"`)
  }
  const ok = await alice.ipc('files.share', { path: randomFile(dir, 'small.txt', 100) })
  const missingDir = await refusal(alice.ipc('files.get', { id: ok.id, saveTo: path.join(dir, 'no-such-folder', 'x') }))
  t.is(missingDir?.code, 'BAD_INPUT', 'a save_to in a missing folder: ' + missingDir?.message)
  t.is((await alice.ipc('files.list')).length, 1, 'only the one good share was written')
})
