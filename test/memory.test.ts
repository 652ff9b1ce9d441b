// Shared memory: remembered on one daemon, recalled (ranked, fuzzy, prefix) on another, forgotten everywhere.
import test from 'brittle'
import { Member, startRelay } from './helpers/cli.js'
import { McpSession } from './helpers/mcp.js'

interface Hit { id: string, content: string, score: number, tags: string[] }

test('remember on one daemon, recall on another with typos and prefixes, forget everywhere', { timeout: 120_000 }, async (t) => {
  const relay = await startRelay(t)
  const alice = new Member(t, 'alice')
  const bob = new Member(t, 'bob')
  await alice.json('create', 'team', '--relay', `${relay.key}@${relay.address}`)
  await bob.json('join', (await alice.json<{ link: string }>('invite')).link)
  await bob.wait({ members: 2, connected: 1 })
  const writer = await McpSession.start(t, alice.home, ['--name', 'writer'])
  const reader = await McpSession.start(t, bob.home, ['--name', 'reader'])

  const first = await writer.call('remember', { content: 'Deployments go through the staging cluster first; production needs a green canary.', tags: ['deploy', 'process'] })
  t.ok(/Remembered [0-9a-f]{32}\./.test(first.text), first.text)
  const id = /([0-9a-f]{32})/.exec(first.text)?.[1] ?? ''
  await writer.call('remember', { content: 'The orders table migration is owned by the db group.', tags: ['database'] })
  await writer.call('remember', { content: 'Lunch is at noon.' })
  await bob.wait({ memory: 3 })

  const typo = await reader.call('recall', { query: 'deplyment canry' })
  t.ok(typo.text.startsWith(`<memory id="${id}"`), 'a query with typos still finds it, first: ' + JSON.stringify(typo.text.slice(0, 80)))
  const prefix = await bob.json<Hit[]>('memory', 'recall', 'migr')
  t.is(prefix[0]?.content, 'The orders table migration is owned by the db group.', 'a prefix finds it')
  const tagged = await bob.json<Hit[]>('memory', 'recall', 'database')
  t.ok(tagged[0]?.tags.includes('database'), 'tags are searched (and weigh more)')
  const filtered = await bob.json<Hit[]>('memory', 'recall', 'the', '--tag', 'deploy')
  t.alike(filtered.map((h) => h.id), [id], '--tag keeps only entries with that tag')

  const forgot = await reader.call('forget', { id })
  t.absent(forgot.isError, forgot.text)
  await alice.wait({ memory: 2 })
  t.is((await writer.call('recall', { query: 'deployments canary' })).text.includes(id), false, 'forgotten on the other daemon too')
  t.is((await alice.json<unknown[]>('memory', 'list')).length, 2)
})

test('memory survives SIGKILL of the daemon and the index finds it after restart', { timeout: 120_000 }, async (t) => {
  const alice = new Member(t, 'alice')
  await alice.json('create', 'team')
  const id = (await alice.run('memory', 'remember', 'The flaky test is the one that sleeps; wait for the event instead.', '--tag', 'testing')).stdout.trim()
  t.ok(/^[0-9a-f]{32}$/.test(id), 'remember prints the id')
  process.kill(alice.pid() ?? 0, 'SIGKILL')
  await alice.run('daemon', 'start')
  const hits = await alice.json<Hit[]>('memory', 'recall', 'flakey')
  t.is(hits[0]?.id, id, 'recalled after the kill, with a typo')
})

test('bad memory input is refused clearly and nothing is written', { timeout: 60_000 }, async (t) => {
  const alice = new Member(t, 'alice')
  const s = await McpSession.start(t, alice.home, ['--name', 's'])
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['remember', { content: '' }, /content: must not be empty/],
    ['remember', { content: 'x'.repeat(16 * 1024 + 1) }, /content: must be at most 16384 bytes/],
    ['remember', { content: 'x', tags: Array.from({ length: 21 }, (_, i) => `t${i}`) }, /tags: must be at most 20 tags/],
    ['remember', { content: 'x', tags: ['t'.repeat(65)] }, /tags\.0: must be at most 64 characters/],
    ['recall', { query: '' }, /query: must not be empty/],
    ['recall', { query: 'x', limit: 0 }, /limit: must be at least 1/],
    ['forget', { id: 'nope' }, /id: must be a 32-character memory id/],
    ['forget', { id: 'a'.repeat(32) }, /no memory a{32}/]
  ]
  for (const [tool, args, expected] of cases) {
    const res = await s.call(tool, args)
    t.ok(res.isError && expected.test(res.text), `${tool} refused: ${res.text.slice(0, 120)}`)
  }
  t.alike(await alice.json('memory', 'list'), [], 'nothing was written')
})
