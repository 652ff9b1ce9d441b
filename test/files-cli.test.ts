// `claudemesh files`: the CLI on two real daemons, through a real relay on loopback.
import test from 'brittle'
import fs from 'node:fs'
import path from 'node:path'
import crypto from 'node:crypto'
import { joinedHomes, tmpDir } from './helpers/cli.js'

const SIZE = 2 * 1024 * 1024 + 5 // shown as 2.0 MiB

function sha256 (file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex')
}

test('files share, get with a progress bar, list, status, refusals and delete from the command line', { timeout: 120_000 }, async (t) => {
  const [alice, bob] = await joinedHomes(t, ['alice', 'bob'])
  const dir = tmpDir(t)
  const src = path.join(dir, 'design.pdf')
  fs.writeFileSync(src, crypto.randomBytes(SIZE))

  const missing = await alice.run('files', 'share', path.join(dir, 'nope.pdf'))
  t.is(missing.code, 1, 'sharing a missing path exits 1')
  t.ok(missing.stderr.includes(`path: ${path.join(dir, 'nope.pdf')} does not exist [BAD_INPUT]`), missing.stderr.trim())
  const folder = await alice.run('files', 'share', dir)
  t.is(folder.code, 1, 'sharing a folder exits 1')
  t.ok(folder.stderr.includes('is a directory; share a regular file'), folder.stderr.trim())
  t.alike(await alice.json('files', 'list'), [], 'nothing was shared')

  // a relative path is resolved against the current folder
  const shared = await alice.run('files', 'share', path.relative(process.cwd(), src), '--tag', 'docs', 'spec')
  t.is(shared.code, 0, 'share exits 0 ' + shared.stderr)
  const id = /^Shared design\.pdf \(2\.0 MiB, 2097157 bytes\) as ([0-9a-f]{32})$/m.exec(shared.stdout)?.[1] ?? ''
  t.ok(id !== '', 'share prints name, size and id: ' + shared.stdout.trim())
  t.is(shared.stderr, '', 'no bar when stderr is not a terminal and --progress is not given')

  await bob.wait({ files: 1 })
  const out = tmpDir(t)
  // an existing folder: saved inside it under the file's name; the id by the prefix `list` shows
  const got = await bob.run('files', 'get', id.slice(0, 12), path.relative(process.cwd(), out), '--progress')
  t.is(got.code, 0, 'get exits 0 ' + got.stderr.split('\n')[0])
  const saved = path.join(out, 'design.pdf')
  t.is(got.stdout.trim(), `Saved design.pdf (2.0 MiB, 2097157 bytes) to ${saved}`)
  t.ok(/get design\.pdf \[=+\] 100% \| 2\.0 MiB\/2\.0 MiB \| .+\/s \| ETA/.test(got.stderr), 'the bar reaches 100% of the total: ' + got.stderr.trim().split('\n').pop())
  t.is(sha256(saved), sha256(src), 'bob\'s copy is identical')

  await alice.wait({ accesses: { id, count: 1 } })
  for (const m of [alice, bob]) {
    const list = await m.run('files', 'list')
    t.is(list.code, 0)
    const row = list.stdout.split('\n').find((l) => l.startsWith(id.slice(0, 12))) ?? ''
    t.ok(/design\.pdf\s+2\.0 MiB\s+persistent\s+cli on alice\s+\d+[smhd] ago/.test(row), `${m.label}'s list has the file: ${row}`)
  }
  t.is((await bob.json<unknown[]>('files', 'list', '--tag', 'spec', 'docs')).length, 1, '--tag keeps files with all the tags')
  t.is((await bob.run('files', 'list', '--query', 'nothing-like-it')).stdout.trim(), 'No files. Share one with: claudemesh files share <path>')
  const status = await alice.run('files', 'status', id)
  t.ok(status.stdout.includes('fetched  1 time:') && /cli on bob\s+\d{4}-\d\d-\d\dT/.test(status.stdout), 'status shows who fetched it when:\n' + status.stdout)
  const statusJson = await alice.json<{ file: { hash: string }, accesses: Array<{ by: { member: string } }> }>('files', 'status', id)
  t.alike(statusJson.accesses.map((a) => a.by.member), ['bob'])
  t.is(statusJson.file.hash, sha256(src), 'the recorded hash is the file\'s sha256')

  // an existing file is not replaced without --overwrite, and nothing partial is left beside it
  fs.writeFileSync(saved, 'old contents')
  const refused = await bob.run('files', 'get', id, saved)
  t.is(refused.code, 1, 'get to an existing file exits 1')
  t.ok(refused.stderr.includes(`save_to: ${saved} already exists; pass --overwrite to replace it [BAD_INPUT]`), refused.stderr.trim())
  t.is(fs.readFileSync(saved, 'utf-8'), 'old contents', 'the old file is untouched')
  t.alike(fs.readdirSync(out), ['design.pdf'], 'no partial file is left in the folder')
  const badTimeout = await bob.run('files', 'get', id, saved, '--timeout', '0')
  t.is(badTimeout.code, 1, 'a bad --timeout exits 1')
  t.ok(badTimeout.stderr.includes('--timeout must be a whole number of seconds'), badTimeout.stderr.trim())

  const over = await bob.run('files', 'get', id, saved, '--overwrite', '--progress', '--json')
  t.is(over.code, 0, 'get --overwrite exits 0 ' + over.stderr)
  t.is(over.stderr, '', 'no bar with --json, even with --progress')
  t.is(JSON.parse(over.stdout).bytes, SIZE)
  t.is(sha256(saved), sha256(src), 'replaced with --overwrite')

  const notYours = await bob.run('files', 'delete', id.slice(0, 8))
  t.is(notYours.code, 1, 'bob (neither uploader nor owner) may not delete it')
  t.ok(notYours.stderr.includes('only the member that shared design.pdf') && notYours.stderr.includes('[FILE_FORBIDDEN]'), notYours.stderr.trim())
  t.is((await bob.json<unknown[]>('files', 'list')).length, 1, 'still there')

  const deleted = await alice.run('files', 'delete', id)
  t.is(deleted.stdout.trim(), `Deleted design.pdf (${id}).`, 'the uploader deletes it ' + deleted.stderr)
  await bob.wait({ files: 0 })
  t.is((await bob.run('files', 'list')).stdout.trim(), 'No files. Share one with: claudemesh files share <path>', 'gone from bob\'s list')
  const gone = await bob.run('files', 'get', id, path.join(out, 'again.pdf'))
  t.is(gone.code, 1, 'get of a deleted file exits 1')
  t.ok(gone.stderr.includes('it was deleted by') && gone.stderr.includes('[FILE_UNKNOWN]'), gone.stderr.trim())
})
