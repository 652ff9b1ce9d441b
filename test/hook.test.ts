// `claudemesh hook <event>`: always exits 0 (its times are printed, measured in bench:claims), prints nothing without context for Claude,
// never starts the daemon; and the shape of what it prints when it has context.
import test from 'brittle'
import fs from 'node:fs'
import path from 'node:path'
import { Member, tmpDir } from './helpers/cli.js'
import { run } from './helpers/fake-claude.js'
import { hookOutput, ancestorPids, HOOK_EVENTS } from '../peer/cli/hook.js'

const INPUT = JSON.stringify({ session_id: '7f3c2a10-0000-4000-8000-000000000001', transcript_path: '/tmp/t.jsonl', cwd: '/tmp', hook_event_name: 'UserPromptSubmit', prompt: 'hello' })

function envFor (home: string, extra: Record<string, string> = {}): Record<string, string> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CLAUDEMESH_'))) as Record<string, string>
  return { ...base, CLAUDEMESH_HOME: home, ...extra }
}

test('no daemon running: exits 0 with nothing on stdout, and does not start one', { timeout: 30_000 }, async (t) => {
  const home = tmpDir(t)
  for (const event of HOOK_EVENTS) {
    const res = await run(t, ['hook', event], { env: envFor(home), input: INPUT })
    t.is(res.code, 0, `${event}: exit 0`)
    t.is(res.stdout, '', `${event}: no output`)
    t.is(res.stderr, '', `${event}: quiet`)
    t.comment(`${event}: done in ${res.ms} ms`)
  }
  t.absent(fs.existsSync(path.join(home, 'daemon.sock')), 'a hook never starts the daemon')
})

test('garbage, empty or oversized stdin: still exit 0 with nothing on stdout', { timeout: 30_000 }, async (t) => {
  const home = tmpDir(t)
  for (const input of ['not json at all {', '', '[1,2,3]', 'x'.repeat(9 * 1024 * 1024)]) {
    const res = await run(t, ['hook', 'UserPromptSubmit'], { env: envFor(home), input })
    t.is(res.code, 0, `exit 0 for ${input.length} bytes`)
    t.is(res.stdout, '')
  }
  const big = await run(t, ['hook', 'PreToolUse'], { env: envFor(home), input: JSON.stringify({ tool_name: 'Write', tool_input: { file_path: '/tmp/a.ts', content: 'x'.repeat(9 * 1024 * 1024) } }) })
  t.is(big.code, 0)
  t.is(big.stdout, '')
  t.ok(big.stderr.includes('the tool call is over 8 MiB, so claims were not checked; the edit goes ahead'), 'the guard says it did not check a call over 8 MiB: ' + big.stderr.trim())
  const debug = await run(t, ['hook', 'UserPromptSubmit'], { env: envFor(home, { CLAUDEMESH_DEBUG: '1' }), input: 'not json' })
  t.is(debug.code, 0)
  t.is(debug.stderr, 'claudemesh hook: hook input is not JSON\n', 'CLAUDEMESH_DEBUG: one line on stderr saying why')
})

test('stdin left open: gives up reading after about a second and exits 0', { timeout: 30_000 }, async (t) => {
  const home = tmpDir(t)
  const res = await run(t, ['hook', 'Stop'], { env: envFor(home), input: null })
  t.is(res.code, 0, 'exit 0 although stdin never closed')
  t.is(res.stdout, '')
  t.comment(`gave up after ${res.ms} ms`)
})

test('unknown or missing event: exit 0, one note on stderr, nothing on stdout', { timeout: 30_000 }, async (t) => {
  const home = tmpDir(t)
  const unknown = await run(t, ['hook', 'PostToolUse', '--whatever'], { env: envFor(home), input: INPUT })
  t.is(unknown.code, 0)
  t.is(unknown.stdout, '')
  t.is(unknown.stderr.trim().split('\n').length, 1, 'one line')
  t.ok(unknown.stderr.includes('unknown event "PostToolUse"; expected one of SessionStart, UserPromptSubmit, Stop, SessionEnd, PreToolUse'), unknown.stderr.trim())
  const missing = await run(t, ['hook'], { env: envFor(home), input: '' })
  t.is(missing.code, 0)
  t.ok(missing.stderr.includes('no event given'))
})

test('daemon running: every event exits 0 with nothing on stdout for a process that is no session', { timeout: 60_000 }, async (t) => {
  const member = new Member(t, 'hooked')
  const started = await member.run('daemon', 'start')
  t.ok(started.stdout.includes('Daemon started'), started.stdout.trim())
  for (const event of HOOK_EVENTS) {
    const res = await run(t, ['hook', event], { env: envFor(member.home), input: INPUT })
    t.is(res.code, 0, `${event}: exit 0`)
    t.is(res.stdout, '', `${event}: no output`)
    t.comment(`${event}: done in ${res.ms} ms`)
  }
  const status = await member.json<{ running: boolean }>('daemon', 'status')
  t.is(status.running, true, 'the daemon is unharmed')
})

test('hook output: additionalContext for UserPromptSubmit and SessionStart, a block reason at Stop, nothing otherwise', async (t) => {
  const context = 'Message from alice (next): the build is green'
  t.alike(JSON.parse(hookOutput('UserPromptSubmit', { matched: true, sessionId: 'abc', additionalContext: context }) ?? 'null'),
    { hookSpecificOutput: { hookEventName: 'UserPromptSubmit', additionalContext: context } })
  t.alike(JSON.parse(hookOutput('SessionStart', { matched: true, additionalContext: context }) ?? 'null'),
    { hookSpecificOutput: { hookEventName: 'SessionStart', additionalContext: context } })
  t.alike(JSON.parse(hookOutput('Stop', { matched: true, additionalContext: context }) ?? 'null'), { decision: 'block', reason: context })
  t.is(hookOutput('SessionEnd', { matched: true, additionalContext: context }), null)
  t.is(hookOutput('UserPromptSubmit', { matched: true, additionalContext: '  ' }), null, 'blank context: nothing')
  t.is(hookOutput('UserPromptSubmit', { matched: false }), null, 'no session: nothing')
  t.is(hookOutput('Stop', { matched: true, additionalContext: null as unknown as string }), null)
})

test('ancestor pids: nearest first, each the parent of the one before, stopping before pid 1', async (t) => {
  const pids = ancestorPids()
  t.is(pids[0], process.ppid, 'starts at the parent')
  t.absent(pids.includes(1), 'init is left out')
  t.absent(pids.includes(process.pid), 'not this process itself')
  if (process.platform === 'linux') {
    for (let i = 1; i < pids.length; i++) {
      const stat = fs.readFileSync(`/proc/${pids[i - 1]}/stat`, 'utf-8')
      t.is(Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]), pids[i], `${pids[i]} is the parent of ${pids[i - 1]}`)
    }
  }
})
