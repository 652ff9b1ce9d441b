// Shared state: converges peer-to-peer through the mesh's autobase view and survives restarts.
import test from 'brittle'
import { Member, joinedHomes } from './helpers/cli.js'
import { McpSession } from './helpers/mcp.js'

interface Entry { key: string, value: unknown, by: { session: string | null, member: string }, at: number }


test('set_state on one daemon: seen by get_state on the others, notified to every other session, no echo to the writer', { timeout: 120_000 }, async (t) => {
  const [alice, bob, carol] = await joinedHomes(t, ['alice', 'bob', 'carol'])
  const writer = await McpSession.start(t, alice.home, ['--name', 'writer'])
  const sibling = await McpSession.start(t, alice.home, ['--name', 'sibling'])
  const reader = await McpSession.start(t, bob.home, ['--name', 'reader'])
  const third = await McpSession.start(t, carol.home, ['--name', 'third'])
  for (const m of [alice, bob, carol]) await m.wait({ sessions: 4 })

  const set = await writer.call('set_state', { key: 'deploy/status', value: { stage: 'canary', percent: 10 } })
  t.absent(set.isError, set.text)
  const local = await writer.call('get_state', { key: 'deploy/status' })
  t.ok(local.text.includes('{"stage":"canary","percent":10}') && local.text.includes('set by writer on alice'), 'visible at once on the writer\'s daemon: ' + local.text)

  for (const [name, session] of [['sibling', sibling], ['reader', reader], ['third', third]] as const) {
    const n = await session.notification((x) => x.meta.kind === 'state_change' && x.meta.key === 'deploy/status')
    t.alike({ kind: n.meta.kind, key: n.meta.key, value: JSON.parse(n.meta.value), by: n.meta.by, by_member: n.meta.by_member, mesh: n.meta.mesh }, { kind: 'state_change', key: 'deploy/status', value: { stage: 'canary', percent: 10 }, by: 'writer', by_member: 'alice', mesh: 'team' }, `${name} is notified with key, value and who`)
    const got = await session.call('get_state', { key: 'deploy/status' })
    t.ok(got.text.includes('"canary"'), `${name}'s get_state answers from its own view`)
  }

  // the writer gets no echo: a later change by someone else arrives, and nothing before it about its own key
  await reader.call('set_state', { key: 'sentinel', value: true })
  await writer.notification((x) => x.meta.key === 'sentinel')
  t.is(writer.count((x) => x.meta.key === 'deploy/status'), 0, 'the writer\'s session is not notified of its own change')

  const cli = await carol.json<Entry[]>('state', 'list', 'deploy/')
  t.is(cli.length, 1, 'the CLI lists the entry under a prefix')
  await carol.run('state', 'delete', 'deploy/status')
  const gone = await writer.notification((x) => x.meta.key === 'deploy/status' && x.meta.deleted === 'true')
  t.ok(gone.content.includes('deleted state "deploy/status"'), 'a delete is notified too')
  t.ok((await writer.call('get_state', { key: 'deploy/status' })).text.includes('is not set'), 'and the entry is gone')
})

test('concurrent writes to one key while partitioned converge to identical views', { timeout: 180_000 }, async (t) => {
  const members = await joinedHomes(t, ['alice', 'bob', 'carol'])
  for (const m of members) await m.run('daemon', 'stop')
  // each daemon alone: nobody sees anyone else's writes
  for (const m of members) {
    const res = await m.run('state', 'set', 'leader', JSON.stringify(m.label))
    t.is(res.code, 0, `${m.label} writes "leader" on its own ${res.stderr}`)
    t.is((await m.run('state', 'set', `seen/${m.label}`, '1')).code, 0)
    t.is((await m.run('memory', 'remember', `${m.label} remembers the partition`, '--tag', m.label)).code, 0)
    t.is((await m.run('daemon', 'stop')).code, 0)
  }
  for (const m of members) await m.run('daemon', 'start')
  for (const m of members) await m.wait({ members: 3, connected: 2 })
  for (const m of members) await m.wait({ state: 4, memory: 3, timeoutMs: 60_000 })
  const views = await Promise.all(members.map((m) => m.json<Entry[]>('state', 'list')))
  t.alike(views[1], views[0], 'bob\'s view is identical to alice\'s (every entry, value, author and time)')
  t.alike(views[2], views[0], 'carol\'s view is identical to alice\'s')
  const memories = await Promise.all(members.map(async (m) => (await m.json<Array<{ id: string }>>('memory', 'list')).map((e) => e.id).sort()))
  t.alike(memories[1], memories[0], 'memories written apart are all there on bob')
  t.alike(memories[2], memories[0], 'and on carol')
  for (const m of members) t.is((await m.json<unknown[]>('memory', 'recall', 'partition')).length, 3, `${m.label}'s index finds all three after the merge`)
  t.ok(['alice', 'bob', 'carol'].includes(views[0].find((e) => e.key === 'leader')?.value as string), 'one of the concurrent values won everywhere')
})

test('an acknowledged set_state survives SIGKILL of the daemon; a member offline meanwhile catches up', { timeout: 120_000 }, async (t) => {
  const [alice, bob] = await joinedHomes(t, ['alice', 'bob'])
  await bob.run('daemon', 'stop')
  t.is((await alice.run('state', 'set', 'build', '{"ok":true,"sha":"abc123"}')).code, 0, 'acknowledged')
  process.kill(alice.pid() ?? 0, 'SIGKILL')
  await alice.run('daemon', 'start')
  t.alike(await alice.json('state', 'get', 'build'), { key: 'build', value: { ok: true, sha: 'abc123' }, by: { session: null, sessionId: null, member: 'alice' }, at: (await alice.json<Entry>('state', 'get', 'build')).at, writer: (await alice.json<{ writer: string }>('state', 'get', 'build')).writer }, 'the entry is there after the kill')

  await bob.run('daemon', 'start')
  await bob.wait({ state: 1 })
  t.alike((await bob.json<Entry>('state', 'get', 'build')).value, { ok: true, sha: 'abc123' }, 'bob, offline during the write, caught up')
})

test('bad keys and values are refused clearly and nothing is written', { timeout: 120_000 }, async (t) => {
  const alice = new Member(t, 'alice')
  const s = await McpSession.start(t, alice.home, ['--name', 's'])
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['set_state', { key: '', value: 1 }, /key: must not be empty/],
    ['set_state', { key: 'k'.repeat(257), value: 1 }, /key: must be at most 256 characters/],
    ['set_state', { key: 'bad\u0001key', value: 1 }, /key: must not contain control characters/],
    ['set_state', { key: 'big', value: 'x'.repeat(64 * 1024) }, /value: must be at most 65536 bytes as JSON/],
    ['delete_state', { key: 'never-set' }, /key: no state entry named "never-set"/]
  ]
  for (const [tool, args, expected] of cases) {
    const res = await s.call(tool, args)
    t.ok(res.isError && expected.test(res.text), `${tool} refused: ${res.text.slice(0, 120)}`)
  }
  const notJson = await alice.run('state', 'set', 'k', 'not json')
  t.is(notJson.code, 1)
  t.ok(notJson.stderr.includes('value: must be JSON'), notJson.stderr.trim())
  t.alike(await alice.json('state', 'list'), [], 'nothing was written')
  t.is((await alice.run('state', 'get', 'nope')).code, 1, 'get of an unknown key exits 1')
})
