// Claims: decided in the mesh's log by real daemons, answered honestly (granted once settled,
// pending until then, denied naming the holder), ended by time, release, session end and kick; the
// PreToolUse guard as Claude Code reads it; patterns and repository identities.
import fs from 'node:fs'
import path from 'node:path'
import test from 'brittle'
import { patternsOverlap, pathMatches, normalizeRemote, badPattern } from '../protocol/claims.js'
import { guardOutput, targetOf } from '../peer/cli/guard-hook.js'
import { repoOf } from '../peer/daemon/repo.js'
import { joinedHomes, tmpDir, preToolUse } from './helpers/cli.js'
import { McpSession } from './helpers/mcp.js'
import type { ClaimView } from '../peer/daemon/contract.js'

interface T { teardown (fn: () => unknown, opts?: { order?: number }): void }

const TEST_ENV = { CLAUDEMESH_TEST_CLOCK: '1' }

/** A checkout of one repository: a folder with .git/config naming its origin. */
function checkout (t: T, remote: string): string {
  const dir = tmpDir(t, 'cm-repo-')
  fs.mkdirSync(path.join(dir, '.git'))
  fs.writeFileSync(path.join(dir, '.git', 'config'), `[core]\n\tbare = false\n[remote "origin"]\n\turl = ${remote}\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n`)
  fs.mkdirSync(path.join(dir, 'src', 'api'), { recursive: true })
  return dir
}

test('patterns: globs overlap as paths would, a folder covers what is below it, resources by name', (t) => {
  t.ok(patternsOverlap('src/api/**', 'src/api/orders.ts'), '** covers a file below')
  t.ok(patternsOverlap('src/**/*.ts', 'src/api/orders.ts'))
  t.ok(patternsOverlap('src/api', 'src/api/orders.ts'), 'a folder covers its files')
  t.ok(patternsOverlap('src/*.ts', 'src/*.test.ts'), 'two wildcards that can meet')
  t.absent(patternsOverlap('src/*.ts', 'src/*.md'), 'two that cannot')
  t.absent(patternsOverlap('src/api/**', 'src/web/index.ts'))
  t.absent(patternsOverlap('src/*.ts', 'src/api/orders.ts'), '* stays in one folder')
  t.ok(patternsOverlap('staging-db', 'staging-db'), 'resources by name')
  t.absent(patternsOverlap('staging-db', 'prod-db'))
  t.ok(pathMatches('src/api/**', 'src/api/v2/orders.ts'))
  t.absent(pathMatches('src/api/*.ts', 'src/api/v2/orders.ts'))
  t.is(badPattern('/etc/passwd'), 'must be relative to the repository (an absolute path outside it cannot be claimed)')
  t.is(badPattern('../other/x'), 'must not go up a folder ("..")')
  t.is(badPattern(''), 'must not be empty')
  t.is(normalizeRemote('git@github.com:Team/App.git'), 'github.com/Team/App')
  t.is(normalizeRemote('https://user@GitHub.com/Team/App'), 'github.com/Team/App')
  t.is(normalizeRemote('ssh://git@github.com:22/Team/App.git'), 'github.com/Team/App')
})

test('the guard\'s output is exactly what Claude Code reads from a PreToolUse hook', (t) => {
  t.is(targetOf({ tool_name: 'Edit', tool_input: { file_path: '/r/src/a.ts' } }), '/r/src/a.ts')
  t.is(targetOf({ tool_name: 'NotebookEdit', tool_input: { notebook_path: '/r/n.ipynb' } }), '/r/n.ipynb')
  t.is(targetOf({ tool_name: 'Bash', tool_input: { command: 'rm -rf /' } }), null, 'other tools are not guarded')
  t.is(targetOf({ tool_name: { toString: 1 }, tool_input: { file_path: '/r/a.ts' } }), null, 'a tool name that is not a string is no guarded tool (and does not throw)')
  const holder = { id: 'a'.repeat(32), repo: 'github.com/team/app', paths: ['src/api/**'], mode: 'exclusive', note: 'adding /orders', at: 0, expiresAt: Date.UTC(2026, 11, 2, 3, 0), session: { id: 'b'.repeat(64), name: 'api' }, by: { session: 'api', sessionId: 'b'.repeat(64), member: 'alice' }, writer: 'c'.repeat(64), verdict: 'granted', conflict: null, status: 'granted' } satisfies ClaimView
  const out = JSON.parse(guardOutput({ holder, decision: 'ask', repo: 'github.com/team/app', path: 'src/api/orders.ts' }) ?? 'null')
  t.alike(Object.keys(out), ['hookSpecificOutput'])
  t.is(out.hookSpecificOutput.hookEventName, 'PreToolUse')
  t.is(out.hookSpecificOutput.permissionDecision, 'ask')
  t.is(out.hookSpecificOutput.permissionDecisionReason, 'claudemesh: src/api/orders.ts is claimed by session api on alice (adding /orders) until 2026-12-02T03:00:00.000Z (claim ' + 'a'.repeat(32) + ', src/api/**). Ask api with send_message before editing it, or wait until it is released.')
  t.is(JSON.parse(guardOutput({ holder, decision: 'deny', repo: null, path: 'x' }) ?? 'null').hookSpecificOutput.permissionDecision, 'deny', 'deny where settings.json says so')
  t.is(guardOutput({ holder: null, decision: 'ask', repo: null, path: null }), null, 'nobody holds it: nothing printed, the edit goes ahead')
})

test('claims between two machines: exclusive and shared, denied naming the holder, renewal, the guard before edits, TTL by the ops\' time, release on session end; bad input', { timeout: 180_000 }, async (t) => {
  const [alice, bob] = await joinedHomes(t, ['alice', 'bob'], TEST_ENV)
  // two checkouts of one repository, cloned by different URLs, in different places
  const repoA = checkout(t, 'git@github.com:team/app.git')
  const repoB = checkout(t, 'https://github.com/team/app')
  t.is(repoOf(repoA).id, repoOf(repoB).id, 'both checkouts are one repository')
  const api = await McpSession.start(t, alice.home, ['--name', 'api'], {}, repoA)
  const web = await McpSession.start(t, bob.home, ['--name', 'web'], {}, repoB)
  await alice.wait({ sessions: 2 })
  await bob.wait({ sessions: 2 })

  const first = await api.call('claim', { paths: 'src/api/**', note: 'adding /orders' })
  t.is(first.data.status, 'granted', `an unclaimed glob is granted once settled: ${first.text}`)
  t.ok(first.text.startsWith(`Granted: claim ${first.data.claim.id as string} on src/api/** (exclusive) in github.com/team/app until `), first.text)
  await bob.wait({ claims: 1 })
  const denied = await web.call('claim', { paths: [path.join(repoB, 'src/api/orders.ts')] })
  t.is(denied.data.status, 'denied', 'an overlapping file from the other machine (absolute, inside its checkout) is denied')
  t.ok(denied.text.includes(`overlaps claim ${first.data.claim.id as string} of api on alice (src/api/**, exclusive) until ${new Date(first.data.claim.expiresAt).toISOString()}`), denied.text)
  t.alike(denied.data.claim.paths, ['src/api/orders.ts'], 'named relative to the repository')

  const sharedB = await web.call('claim', { paths: ['docs/**'], mode: 'shared' })
  t.is(sharedB.data.status, 'granted', 'shared')
  await alice.wait({ claims: 3 })
  const sharedA = await api.call('claim', { paths: ['docs/guide.md'], mode: 'shared' })
  t.is(sharedA.data.status, 'granted', 'shared claims overlap each other freely')
  const exclusiveOnShared = await api.call('claim', { paths: ['docs/**'] })
  t.is(exclusiveOnShared.data.status, 'denied', 'an exclusive claim conflicts with a shared one that overlaps it')

  const renewed = await api.call('claim', { paths: 'src/api/**', ttl_minutes: 60, note: 'adding /orders' })
  t.is(renewed.data.renewed, true, 'claiming the same paths again renews')
  t.is(renewed.data.claim.id, first.data.claim.id, 'the same claim')
  t.ok(renewed.data.claim.expiresAt > first.data.claim.expiresAt, 'with a later expiry')

  const listed = await web.call('list_claims', { holder: 'api' })
  const seen = listed.data.claims.find((c: ClaimView) => c.id === first.data.claim.id)
  t.is(seen?.verdict, 'granted', 'list_claims on the other machine shows it, granted in the log')
  t.ok(seen?.status === 'granted' || seen?.status === 'pending', `its status there: ${String(seen?.status)} (pending while its renewal settles)`)
  t.ok((await web.call('list_peers')).text.includes('claims src/api/** (exclusive)'), 'presence shows a session\'s live claims')
  t.alike((await web.call('list_claims', { mine: true })).data.claims.map((c: ClaimView) => c.paths[0]), ['docs/**'], 'mine: only its own')

  // the guard before edits, on bob's machine: web's Claude Code is the process that runs the hook
  const edit = (file: string): object => ({ hook_event_name: 'PreToolUse', tool_name: 'Edit', tool_input: { file_path: file, old_string: 'a', new_string: 'b' }, cwd: repoB, session_id: 'x' })
  const held = await preToolUse(bob.home, edit(path.join(repoB, 'src/api/orders.ts')))
  t.is(held.code, 0, 'the hook exits 0')
  const decision = JSON.parse(held.stdout).hookSpecificOutput
  t.is(decision.permissionDecision, 'ask', 'a file another session holds: ask')
  t.ok(decision.permissionDecisionReason.includes('claimed by session api on alice (adding /orders) until'), decision.permissionDecisionReason)
  t.is((await preToolUse(bob.home, edit(path.join(repoB, 'src/web/app.ts')))).stdout, '', 'a file nobody holds passes silently')
  t.is((await preToolUse(bob.home, edit(path.join(repoB, 'docs/guide.md')))).stdout, '', 'shared claims do not stop edits')
  const down = await preToolUse(tmpDir(t, 'cm-nodaemon-'), edit(path.join(repoB, 'src/api/orders.ts')))
  t.is(down.code, 0, 'with no daemon the hook still exits 0')
  t.is(down.stdout, '', 'and passes')
  t.ok(down.stderr.includes('the daemon is not running, so claims were not checked'), 'saying why on stderr')

  // time: claims end at their ttl, by the ops' time (both daemons' clocks move on by 61 minutes)
  for (const m of [alice, bob]) await m.ipc('clock.advance', { ms: 61 * 60_000 })
  await bob.wait({ claims: 0 })
  const after = await web.call('claim', { paths: ['src/api/orders.ts'] })
  t.is(after.data.status, 'granted', 'once the holder\'s claim ran out, the other machine gets it')

  // a session that ends releases its claims
  await web.close()
  await alice.wait({ claims: 0 })
  t.pass('web ended: its claim is released everywhere')

  // bad input, refused by name
  const bad = async (args: Record<string, unknown>): Promise<string> => (await api.call('claim', args)).text
  t.is(await bad({ paths: [] }), 'claim.paths: must name at least one path or resource [BAD_INPUT]')
  t.ok((await bad({ paths: ['/etc/passwd'] })).startsWith('claim.paths.0: "/etc/passwd" is outside the repository'), 'an absolute path outside the repository')
  t.is(await bad({ paths: ['../x'] }), 'claim.paths.0: must not go up a folder ("..") [BAD_INPUT]')
  t.is(await bad({ paths: ['a'], ttl_minutes: 0 }), 'claim.ttl_minutes: must be at least 1 [BAD_INPUT]')
  t.is(await bad({ paths: ['a'], ttl_minutes: 2000 }), 'claim.ttl_minutes: must be at most 1440 (24 h) [BAD_INPUT]')
  t.is(await bad({ paths: Array.from({ length: 100 }, (_, i) => `f${i}`) }), 'claim.paths: must be at most 32 paths [BAD_INPUT]')
  t.is((await alice.ipc('claims.list', {})).length, 0, 'the refused claims added nothing')
})

test('a partition: overlapping claims on two machines are both pending; after healing exactly one is granted and the other denied, and each session is told; a kicked member\'s claims end', { timeout: 240_000 }, async (t) => {
  const [alice, bob, carol] = await joinedHomes(t, ['alice', 'bob', 'carol'], TEST_ENV)
  for (const m of [alice, bob, carol]) await m.wait({ indexers: 2, timeoutMs: 60_000 })
  t.pass('with three members, the owner and the two others index the mesh')
  const repoB = checkout(t, 'git@github.com:team/app.git')
  const repoC = checkout(t, 'git@github.com:team/app.git')
  const b = await McpSession.start(t, bob.home, ['--name', 'b'], {}, repoB)
  const c = await McpSession.start(t, carol.home, ['--name', 'c'], {}, repoC)
  await alice.wait({ sessions: 2 })

  for (const m of [bob, carol]) await m.ipc('test.isolate', { on: true })
  for (const m of [bob, carol]) await m.wait({ connected: 0 })
  const [fromB, fromC] = await Promise.all([b.call('claim', { paths: ['src/**'] }), c.call('claim', { paths: ['src/api/**'] })])
  t.is(fromB.data.status, 'pending', `cut off, a claim is pending: ${fromB.text}`)
  t.is(fromC.data.status, 'pending', 'on the other machine too')
  t.ok(fromB.text.startsWith('Pending: '), 'and says so')

  for (const m of [bob, carol]) await m.ipc('test.isolate', { on: false })
  const told = (s: McpSession, id: string): Promise<{ content: string, meta: Record<string, string> }> => s.notification((n) => n.meta.kind === 'claim' && n.meta.claim_id === id)
  const [tb, tc] = await Promise.all([told(b, fromB.data.claim.id), told(c, fromC.data.claim.id)])
  const verdicts = [tb.meta.status, tc.meta.status].sort()
  t.alike(verdicts, ['denied', 'granted'], 'once history settles, exactly one is granted and the other denied')
  const loser = tb.meta.status === 'denied' ? tb : tc
  t.ok(loser.content.includes('was DENIED once the mesh settled'), `the losing session is told: ${loser.content}`)
  const winner = tb.meta.status === 'granted' ? { member: bob, id: fromB.data.claim.id as string } : { member: carol, id: fromC.data.claim.id as string }
  const views = await Promise.all([alice, bob, carol].map(async (m) => (await m.ipc('claims.list', {})).filter((x) => x.status === 'granted').map((x) => x.id)))
  t.alike(views, [[winner.id], [winner.id], [winner.id]], 'every member agrees on the winner')

  // the owner kicks the winner's member: its claims end with it
  await alice.json('kick', winner.member.label)
  const others = [alice, bob, carol].filter((m) => m !== winner.member)
  for (const m of others) await m.wait({ members: 2, claims: 1 })
  for (const m of others) t.absent((await m.ipc('claims.list', {})).some((x) => x.id === winner.id), `${m.label}: the kicked member's claim is gone`)
})

test('with the owner\'s daemon stopped, the two other indexers settle claims: its sessions\' claims are released as it stops, and a claim from a member that does not index is granted', { timeout: 240_000 }, async (t) => {
  const [alice, bob, carol, dave] = await joinedHomes(t, ['alice', 'bob', 'carol', 'dave'], TEST_ENV)
  for (const m of [alice, bob, carol, dave]) await m.wait({ indexers: 2, timeoutMs: 60_000 })
  t.is((await dave.ipc('status')).meshes[0].history.indexing, false, 'the member that joined last does not index')
  const [repoA, repoC, repoD] = ['a', 'c', 'd'].map(() => checkout(t, 'git@github.com:team/app.git'))
  const a = await McpSession.start(t, alice.home, ['--name', 'a'], {}, repoA)
  const c = await McpSession.start(t, carol.home, ['--name', 'c'], {}, repoC)
  const d = await McpSession.start(t, dave.home, ['--name', 'd'], {}, repoD)
  const held = await a.call('claim', { paths: ['docs/**'], note: 'owner at work' })
  for (const m of [bob, carol, dave]) await m.wait({ claims: 1 })
  t.ok(['granted', 'pending'].includes(held.data.status), `the owner's session claims docs/**: ${held.text}`)

  await alice.run('daemon', 'stop')
  for (const m of [bob, carol, dave]) await m.wait({ connected: 2, claims: 0 })
  t.pass('the stopped daemon released its session\'s claim, and the others have the release')
  const settled = async (s: McpSession, r: { data: any }): Promise<string> => r.data.status !== 'pending'
    ? r.data.status
    : (await s.notification((n) => n.meta.kind === 'claim' && n.meta.claim_id === r.data.claim.id)).meta.status
  const fromD = await d.call('claim', { paths: ['src/**'], note: 'owner away' })
  t.is(await settled(d, fromD), 'granted', `dave's claim is granted with the owner offline (first answer ${String(fromD.data.status)})`)
  const fromC = await c.call('claim', { paths: ['src/api/**'] })
  t.is(await settled(c, fromC), 'denied', 'and an overlapping claim from an indexer is denied')
  // carol's daemon told its session `denied`, so it has settled both: only dave's claim holds there
  const onCarol = await carol.ipc('claims.list', {})
  t.alike(onCarol.map((x) => [x.session.name, x.status]), [['d', 'granted']], 'carol sees dave\'s claim, settled, and not its own')
})
