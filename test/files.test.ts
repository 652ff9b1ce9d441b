// Files: shared files and message attachments over each member's own hyperdrive.
import test from 'brittle'
import fs from 'node:fs'
import path from 'node:path'
import crypto from 'node:crypto'
import { joinedHomes, tmpDir } from './helpers/cli.js'
import { refusal } from './helpers/errors.js'

function sha256 (file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex')
}

function randomFile (dir: string, name: string, bytes: number): string {
  const file = path.join(dir, name)
  fs.writeFileSync(file, crypto.randomBytes(bytes))
  return file
}

test('share on one daemon, get on two others: identical bytes, accesses visible from any daemon', { timeout: 120_000 }, async (t) => {
  const [alice, bob, carol] = await joinedHomes(t, ['alice', 'bob', 'carol'])
  const dir = tmpDir(t)
  const src = randomFile(dir, 'design.pdf', 3 * 1024 * 1024 + 17)
  const shared = await alice.ipc('files.share', { path: src, tags: ['docs'] })
  t.is(shared.name, 'design.pdf')
  t.is(shared.size, 3 * 1024 * 1024 + 17)
  t.is(shared.mime, 'application/pdf')
  t.is(shared.kind, 'persistent')
  for (const m of [bob, carol]) await m.wait({ files: 1 })
  for (const m of [bob, carol]) {
    const out = path.join(dir, `${m.label}.pdf`)
    const got = await m.ipc('files.get', { id: shared.id, saveTo: out })
    t.is(got.bytes, shared.size, `${m.label} fetched every byte`)
    t.is(sha256(out), sha256(src), `${m.label}'s copy is identical`)
  }
  for (const m of [alice, bob, carol]) {
    await m.wait({ accesses: { id: shared.id, count: 2 } })
    const status = await m.ipc('files.status', { id: shared.id })
    t.alike(status.accesses.map((a: { by: { member: string } }) => a.by.member).sort(), ['bob', 'carol'], `${m.label} sees who fetched it`)
  }
  const again = await refusal(bob.ipc('files.get', { id: shared.id, saveTo: path.join(dir, 'bob.pdf') }))
  t.is(again?.code, 'BAD_INPUT', 'an existing file is not overwritten: ' + again?.message)
  const over = await bob.ipc('files.get', { id: shared.id, saveTo: path.join(dir, 'bob.pdf'), overwrite: true })
  t.is(over.bytes, shared.size, 'unless overwrite is given')
})
