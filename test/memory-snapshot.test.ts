// The memory index snapshot: a restarted daemon starts from it and diffs the view forward; a
// snapshot it cannot trust is ignored and the index rebuilt from the view.
import fs from 'node:fs'
import path from 'node:path'
import test from 'brittle'
import { Member } from './helpers/cli.js'
import { homePaths, meshDir } from '../peer/daemon/home.js'
import { readSnapshot, SNAPSHOT_FORMAT } from '../peer/mesh/memory-snapshot.js'

interface Hit { id: string }

function snapshotFile (m: Member): string {
  const [config] = JSON.parse(fs.readFileSync(homePaths(m.home).meshes, 'utf-8')) as Array<{ namespace: string }>
  return path.join(meshDir(homePaths(m.home), config.namespace), 'memory-index.json')
}

/** The snapshot file with its JSON header changed by `patch` (the rest as it was). */
function patchHeader (file: string, patch: Record<string, unknown>): Buffer {
  const buf = fs.readFileSync(file)
  const end = 8 + buf.readUInt32LE(4)
  let text = JSON.stringify({ ...JSON.parse(buf.toString('utf-8', 8, end)), ...patch })
  while ((Buffer.byteLength(text) - (end - 8)) % 4 !== 0) text += ' ' // the numbers after it stay 4-byte aligned
  const header = Buffer.from(text)
  const length = Buffer.alloc(4)
  length.writeUInt32LE(header.length)
  return Buffer.concat([buf.subarray(0, 4), length, header, buf.subarray(end)])
}

function headerOf (file: string): { format: number, version: number } {
  const buf = fs.readFileSync(file)
  return JSON.parse(buf.toString('utf-8', 8, 8 + buf.readUInt32LE(4)))
}

function logLines (m: Member, pattern: RegExp): number {
  return fs.readFileSync(homePaths(m.home).log, 'utf-8').split('\n').filter((l) => pattern.test(l)).length
}

async function remember (m: Member, content: string): Promise<string> {
  const res = await m.run('memory', 'remember', content)
  if (res.code !== 0) throw new Error(res.stderr)
  return res.stdout.trim()
}

async function recalled (m: Member, query: string): Promise<string[]> {
  return (await m.json<Hit[]>('memory', 'recall', query)).map((h) => h.id)
}

test('a restarted daemon starts from the snapshot, diffs the view forward, and forgotten entries stay forgotten', { timeout: 120_000 }, async (t) => {
  const alice = new Member(t, 'alice')
  await alice.json('create', 'team')
  const gone = await remember(alice, 'The staging database password rotates every Monday.')
  const kept = await remember(alice, 'The staging cluster runs in eu-west, the canary in us-east.')
  await alice.run('memory', 'forget', gone)
  t.is((await alice.run('daemon', 'stop')).code, 0, 'the daemon stops')

  const saved = await readSnapshot(snapshotFile(alice))
  t.ok(saved !== null, 'the daemon saved a snapshot when it stopped')
  t.alike(saved?.index.ids(), [kept], 'holding the remembered entry, not the forgotten one')
  t.alike(saved?.index.recall('staging', 10).map((h) => h.id), [kept], 'and a search index that finds it')

  await alice.run('daemon', 'start')
  t.alike(await recalled(alice, 'staging'), [kept], 'after the restart recall finds the kept entry only')
  t.is(logLines(alice, /memory index loaded from the snapshot: 1 entries/), 1, 'from the snapshot')

  // changes after the last save reach the index by the diff from the snapshot's version
  const later = await remember(alice, 'The staging deploy freezes on Fridays.')
  await alice.run('memory', 'forget', kept)
  process.kill(alice.pid() ?? 0, 'SIGKILL') // no save on the way out
  await alice.run('daemon', 'start')
  t.alike(await recalled(alice, 'staging'), [later], 'the entry remembered since is found; the one forgotten since is not')
  t.is(logLines(alice, /memory index loaded from the snapshot/), 2, 'again from the (older) snapshot')

  const folder = path.dirname(snapshotFile(alice))
  t.is((await alice.run('leave', 'team', '--force')).code, 0, 'alice leaves the mesh')
  t.absent(fs.existsSync(folder), 'and its snapshot (memories in the clear) goes with it')
})

test('a corrupt, foreign or too new snapshot is ignored and the index rebuilt from the view', { timeout: 120_000 }, async (t) => {
  const alice = new Member(t, 'alice')
  await alice.json('create', 'team')
  const id = await remember(alice, 'Rotate the signing keys before the release branch is cut.')
  t.is((await alice.run('daemon', 'stop')).code, 0, 'the daemon stops')
  const file = snapshotFile(alice)
  const good = headerOf(file)
  const bytes = fs.readFileSync(file)

  const cases: Array<[string, Buffer, RegExp]> = [
    ['cut short', bytes.subarray(0, bytes.length - 6), /memory snapshot ignored \(truncated/],
    ['garbage', Buffer.from('{"format":2,"version":3,"treeH'), /memory snapshot ignored \(not a memory snapshot/],
    ['of another format', patchHeader(file, { format: 999 }), /memory snapshot ignored \(format 999/],
    ['past the view', patchHeader(file, { version: good.version + 1000 }), /memory snapshot is at version \d+, the view at \d+: rebuilding/],
    ['of another history', patchHeader(file, { treeHash: 'ab'.repeat(32) }), /memory snapshot is of another history/]
  ]
  for (const [what, content, logged] of cases) {
    fs.writeFileSync(file, content)
    await alice.run('daemon', 'start')
    t.alike(await recalled(alice, 'signing keys'), [id], `${what}: recall still finds the entry`)
    t.is(logLines(alice, logged), 1, `${what}: the daemon logged why it rebuilt`)
    t.is((await alice.run('daemon', 'stop')).code, 0, `${what}: the daemon stops`)
  }
  t.is(logLines(alice, /memory index loaded from the snapshot/), 0, 'no untrusted snapshot was used')
  const resaved = headerOf(file)
  t.alike([resaved.format, resaved.version], [SNAPSHOT_FORMAT, good.version], 'the rebuilt index was saved over it')
  t.alike((await readSnapshot(file))?.index.ids(), [id], 'holding the entry')
})
