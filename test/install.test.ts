// `claudemesh install` / `uninstall` on a temp HOME: merged into the user's own Claude Code files,
// never duplicated, and removed again down to the original bytes.
import test, { type Assert } from 'brittle'
import fs from 'node:fs'
import path from 'node:path'
import { spawnSync } from 'node:child_process'
import { BIN, tmpDir } from './helpers/cli.js'
import { fakeClaude, addClaudemeshShim, run } from './helpers/fake-claude.js'

const EVENTS = ['SessionStart', 'UserPromptSubmit', 'Stop', 'SessionEnd']
/** the guard's script, at the package's root next to dist/ */
const GUARD_SCRIPT = path.resolve(path.dirname(BIN), '../../../hooks/pre-tool-use.sh')
/** the tests' PATH is a folder of shims without bash: install finds it at /bin/bash */
const BASH = '/bin/bash'

const ORIGINAL_SETTINGS = JSON.stringify({
  model: 'opus',
  env: { FOO: 'bar' },
  hooks: {
    Stop: [{ hooks: [{ type: 'command', command: 'notify-send "done"' }] }],
    UserPromptSubmit: [{ hooks: [{ type: 'command', command: 'echo context', timeout: 3 }] }],
    PreToolUse: [{ matcher: 'Bash', hooks: [{ type: 'command', command: 'check-bash' }] }]
  },
  permissions: { allow: ['Bash(ls:*)'] }
}, null, 2) + '\n'
const ORIGINAL_CLAUDE_JSON = JSON.stringify({
  numStartups: 3,
  mcpServers: { other: { type: 'stdio', command: 'other-mcp', args: ['--fast'], env: {} } },
  projects: { '/src/app': { allowedTools: [] } }
}, null, 2)
const ORIGINAL_MEMORY = '# My rules\n\n- be terse'

interface Setup { home: string, cmHome: string, bin: string, env: Record<string, string> }

function setup (t: Assert, opts: { files?: boolean, shim?: boolean, bin?: string } = {}): Setup {
  const home = tmpDir(t, 'cm-userhome-')
  const cmHome = tmpDir(t, 'cm-home-')
  const bin = opts.bin ?? tmpDir(t, 'cm-bin-')
  if (opts.shim !== false) addClaudemeshShim(bin)
  if (opts.files !== false) {
    fs.mkdirSync(path.join(home, '.claude'))
    fs.writeFileSync(path.join(home, '.claude', 'settings.json'), ORIGINAL_SETTINGS)
    fs.writeFileSync(path.join(home, '.claude.json'), ORIGINAL_CLAUDE_JSON)
    fs.writeFileSync(path.join(home, '.claude', 'CLAUDE.md'), ORIGINAL_MEMORY)
  }
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CLAUDEMESH_'))) as Record<string, string>
  return { home, cmHome, bin, env: { ...base, HOME: home, CLAUDEMESH_HOME: cmHome, PATH: bin } }
}

/** Every file under a folder with its bytes, for before/after comparisons. */
function snapshot (dir: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out[path.relative(dir, path.join(entry.parentPath, entry.name))] = fs.readFileSync(path.join(entry.parentPath, entry.name), 'utf-8')
  }
  return out
}

const read = (file: string): any => JSON.parse(fs.readFileSync(file, 'utf-8'))

function quote (word: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`
}

function ourGroups (settings: any, event: string, command: string): number {
  return (settings.hooks?.[event] ?? []).filter((g: any) => g.hooks.some((h: any) => h.command === command)).length
}

test('install twice, then uninstall: the user\'s entries stay intact, ours are there once, then the files are the originals again', { timeout: 60_000 }, async (t) => {
  const s = setup(t)
  const original = snapshot(s.home)
  const settingsFile = path.join(s.home, '.claude', 'settings.json')

  const first = await run(t, ['install'], { env: s.env })
  t.is(first.code, 0, 'install exits 0')
  if (first.code !== 0) t.comment(first.stderr)
  t.ok(first.stdout.includes('Installed claudemesh in Claude Code'))

  const settings = read(settingsFile)
  const before = JSON.parse(ORIGINAL_SETTINGS)
  t.is(settings.model, 'opus', 'other keys intact')
  t.alike(settings.env, before.env)
  t.alike(settings.permissions, before.permissions)
  t.alike(settings.hooks.PreToolUse[0], before.hooks.PreToolUse[0], 'the user\'s own PreToolUse hook intact, first')
  t.alike(settings.hooks.PreToolUse.at(-1), { matcher: 'Edit|Write|MultiEdit|NotebookEdit', hooks: [{ type: 'command', command: `[ -x ${BASH} ] && exec ${BASH} ${quote(GUARD_SCRIPT)} claudemesh || exec claudemesh hook PreToolUse`, timeout: 10 }] }, 'the claims guard: only before file edits, bash (by absolute path: PATH here has no bash) running the guard\'s script, claudemesh to fall back on')
  t.alike(settings.hooks.Stop[0], before.hooks.Stop[0], 'the user\'s Stop hook intact, first')
  t.alike(settings.hooks.UserPromptSubmit[0], before.hooks.UserPromptSubmit[0], 'the user\'s UserPromptSubmit hook intact, first')
  for (const event of EVENTS) {
    const command = `claudemesh hook ${event}`
    t.is(ourGroups(settings, event, command), 1, `${event}: our hook once`)
    t.alike(settings.hooks[event].at(-1), { hooks: [{ type: 'command', command, timeout: 10 }] }, `${event}: a command hook with a short timeout`)
  }
  t.is(fs.readFileSync(settingsFile, 'utf-8').split('\n')[1], '  "model": "opus",', 'still 2-space JSON')

  const config = read(path.join(s.home, '.claude.json'))
  t.is(config.numStartups, 3)
  t.alike(config.projects, { '/src/app': { allowedTools: [] } })
  t.alike(config.mcpServers.other, { type: 'stdio', command: 'other-mcp', args: ['--fast'], env: {} }, 'the other MCP server intact')
  t.alike(config.mcpServers.claudemesh, { type: 'stdio', command: 'claudemesh', args: ['mcp'], env: {} }, 'ours at user scope')

  const guidance = fs.readFileSync(path.join(s.home, '.claude', 'CLAUDEMESH.md'), 'utf-8')
  for (const tool of ['send_message', 'check_messages', 'message_status', 'list_peers', 'set_summary', 'set_status', 'join_group', 'leave_group', 'now', 'next', 'low']) {
    t.ok(guidance.includes(tool), `guidance mentions ${tool}`)
  }
  const memory = fs.readFileSync(path.join(s.home, '.claude', 'CLAUDE.md'), 'utf-8')
  t.ok(memory.startsWith(ORIGINAL_MEMORY), 'CLAUDE.md keeps the user\'s text')
  t.is(memory.split('\n').filter((l) => l === '@CLAUDEMESH.md').length, 1, 'one import line')
  t.ok(fs.existsSync(path.join(s.cmHome, 'install.json')), 'what was added is recorded')

  const afterFirst = snapshot(s.home)
  const second = await run(t, ['install'], { env: s.env })
  t.is(second.code, 0, 'second install exits 0')
  t.ok(second.stdout.includes('previous install was replaced'))
  t.alike(snapshot(s.home), afterFirst, 'a second install changes nothing: no duplicates')

  const removed = await run(t, ['uninstall'], { env: s.env })
  t.is(removed.code, 0, 'uninstall exits 0')
  t.ok(removed.stdout.includes('5 hooks removed'), removed.stdout)
  t.alike(snapshot(s.home), original, 'every file is byte-for-byte the original, and CLAUDEMESH.md is gone')
  t.absent(fs.existsSync(path.join(s.cmHome, 'install.json')), 'the record is gone')

  const again = await run(t, ['uninstall'], { env: s.env })
  t.is(again.code, 0)
  t.ok(again.stdout.includes('Nothing to uninstall'))
})

test('an empty HOME: install creates the files (absolute command when claudemesh is not on PATH), uninstall leaves HOME empty', { timeout: 60_000 }, async (t) => {
  const s = setup(t, { files: false, shim: false })
  const res = await run(t, ['install'], { env: s.env })
  t.is(res.code, 0, 'install exits 0')
  if (res.code !== 0) t.comment(res.stderr)

  const config = read(path.join(s.home, '.claude.json'))
  t.alike(config, { mcpServers: { claudemesh: { type: 'stdio', command: process.execPath, args: [BIN, 'mcp'], env: {} } } }, 'this Node and bin.js by absolute path')
  const settings = read(path.join(s.home, '.claude', 'settings.json'))
  t.alike(Object.keys(settings.hooks), [...EVENTS, 'PreToolUse'])
  const command = [process.execPath, BIN, 'hook', 'UserPromptSubmit'].map(quote).join(' ')
  t.is(settings.hooks.UserPromptSubmit[0].hooks[0].command, command)
  t.is(fs.readFileSync(path.join(s.home, '.claude', 'CLAUDE.md'), 'utf-8'), '@CLAUDEMESH.md\n')

  // the hook command line works as Claude Code runs it, through a shell
  const hook = spawnSync('/bin/sh', ['-c', command], { input: JSON.stringify({ session_id: 's1', cwd: s.home, hook_event_name: 'UserPromptSubmit', prompt: 'hi' }), env: s.env, encoding: 'utf-8', timeout: 10_000 })
  t.is(hook.status, 0, 'the installed hook command exits 0')
  t.is(hook.stdout, '', 'and prints nothing with no daemon running')
  const guard = settings.hooks.PreToolUse[0].hooks[0].command
  const node = [process.execPath, BIN].map(quote).join(' ')
  t.is(guard, `[ -x ${BASH} ] && exec ${BASH} ${quote(GUARD_SCRIPT)} ${node} || exec ${node} hook PreToolUse`, 'the guard falls back on this Node and bin.js')
  const edit = spawnSync('/bin/sh', ['-c', guard], { input: JSON.stringify({ session_id: 's1', cwd: s.home, hook_event_name: 'PreToolUse', tool_name: 'Edit', tool_input: { file_path: path.join(s.home, 'a.ts') } }), env: s.env, encoding: 'utf-8', timeout: 10_000 })
  t.is(edit.status, 0, 'the installed guard exits 0')
  t.is(edit.stdout, '', 'and passes with no daemon running')
  t.ok(edit.stderr.includes('the daemon is not running, so claims were not checked'), edit.stderr.trim())

  const removed = await run(t, ['uninstall'], { env: s.env })
  t.is(removed.code, 0)
  t.alike(fs.readdirSync(s.home), [], 'HOME is empty again: files and the .claude folder install made are gone')
})

test('claude on PATH: install runs `claude mcp add -s user`, uninstall `claude mcp remove -s user`; ~/.claude.json is left to claude', { timeout: 60_000 }, async (t) => {
  const claude = fakeClaude(t)
  const s = setup(t, { bin: claude.dir })
  const originalConfig = fs.readFileSync(path.join(s.home, '.claude.json'), 'utf-8')

  const first = await run(t, ['install'], { env: s.env })
  t.is(first.code, 0, 'install exits 0')
  if (first.code !== 0) t.comment(first.stderr)
  t.alike(claude.calls().map((c) => c.argv), [['mcp', 'add', '-s', 'user', 'claudemesh', '--', 'claudemesh', 'mcp']])
  t.is(fs.readFileSync(path.join(s.home, '.claude.json'), 'utf-8'), originalConfig, 'install did not write ~/.claude.json itself')
  t.is(ourGroups(read(path.join(s.home, '.claude', 'settings.json')), 'Stop', 'claudemesh hook Stop'), 1, 'hooks installed')

  const second = await run(t, ['install'], { env: s.env })
  t.is(second.code, 0)
  t.alike(claude.calls().slice(1).map((c) => c.argv), [['mcp', 'remove', '-s', 'user', 'claudemesh'], ['mcp', 'add', '-s', 'user', 'claudemesh', '--', 'claudemesh', 'mcp']], 'a second install replaces the entry: removed, then added once')

  const removed = await run(t, ['uninstall'], { env: s.env })
  t.is(removed.code, 0)
  t.alike(claude.calls().at(-1)?.argv, ['mcp', 'remove', '-s', 'user', 'claudemesh'])
  t.is(claude.calls().length, 4)
  t.is(fs.readFileSync(path.join(s.home, '.claude', 'settings.json'), 'utf-8'), ORIGINAL_SETTINGS, 'settings back to the original')
})

test('a failing `claude mcp add` stops install before any file changes', { timeout: 30_000 }, async (t) => {
  const claude = fakeClaude(t)
  const s = setup(t, { bin: claude.dir })
  const original = snapshot(s.home)
  const res = await run(t, ['install'], { env: { ...s.env, FAKE_CLAUDE_EXIT: '3' } })
  t.is(res.code, 1, 'exit 1')
  t.ok(res.stderr.includes('`claude mcp add -s user claudemesh ...` failed'), res.stderr.trim())
  t.alike(snapshot(s.home), original, 'nothing changed')
  t.absent(fs.existsSync(path.join(s.cmHome, 'install.json')), 'nothing recorded')
})

test('uninstall removes only what install added and keeps what the user changed since', { timeout: 60_000 }, async (t) => {
  const s = setup(t)
  const claudeDir = path.join(s.home, '.claude')
  // the user already had an MCP server called claudemesh: install replaces it, uninstall puts it back
  const own = { type: 'stdio', command: '/opt/claudemesh-dev/bin', args: ['mcp', '--debug'] }
  const config = JSON.parse(ORIGINAL_CLAUDE_JSON)
  config.mcpServers.claudemesh = own
  fs.writeFileSync(path.join(s.home, '.claude.json'), JSON.stringify(config, null, 2) + '\n')

  t.is((await run(t, ['install'], { env: s.env })).code, 0, 'install exits 0')
  // the user edits things after installing
  const settings = read(path.join(claudeDir, 'settings.json'))
  settings.hooks.SessionStart.push({ matcher: 'startup', hooks: [{ type: 'command', command: 'my-start' }] })
  fs.writeFileSync(path.join(claudeDir, 'settings.json'), JSON.stringify(settings, null, 2) + '\n')
  fs.appendFileSync(path.join(claudeDir, 'CLAUDEMESH.md'), '\nMy own note.\n')
  fs.appendFileSync(path.join(claudeDir, 'CLAUDE.md'), '- added later\n')
  const cfg = read(path.join(s.home, '.claude.json'))
  cfg.numStartups = 9
  fs.writeFileSync(path.join(s.home, '.claude.json'), JSON.stringify(cfg, null, 2) + '\n')

  const res = await run(t, ['uninstall'], { env: s.env })
  t.is(res.code, 0, 'uninstall exits 0')
  t.ok(res.stdout.includes('CLAUDEMESH.md was edited since install; kept.'))
  const after = read(path.join(claudeDir, 'settings.json'))
  t.alike(after.hooks.SessionStart, [{ matcher: 'startup', hooks: [{ type: 'command', command: 'my-start' }] }], 'the user\'s new SessionStart hook stays, ours is gone')
  t.absent(JSON.stringify(after).includes('claudemesh hook'), 'none of our hooks left')
  t.alike(after.hooks.Stop, JSON.parse(ORIGINAL_SETTINGS).hooks.Stop)
  t.ok(fs.readFileSync(path.join(claudeDir, 'CLAUDEMESH.md'), 'utf-8').endsWith('My own note.\n'), 'the edited guidance is kept')
  const memory = fs.readFileSync(path.join(claudeDir, 'CLAUDE.md'), 'utf-8')
  t.absent(memory.split('\n').includes('@CLAUDEMESH.md'), 'the import line is gone')
  t.ok(memory.startsWith(ORIGINAL_MEMORY) && memory.endsWith('- added later\n'), 'the user\'s lines stay')
  const configAfter = read(path.join(s.home, '.claude.json'))
  t.is(configAfter.numStartups, 9, 'changes by Claude Code stay')
  t.alike(configAfter.mcpServers.claudemesh, own, 'the user\'s own "claudemesh" server is back')
})

test('bad JSON or a bad "hooks" shape: install names the file and the field, and changes nothing', { timeout: 30_000 }, async (t) => {
  const s = setup(t)
  const settingsFile = path.join(s.home, '.claude', 'settings.json')
  fs.writeFileSync(settingsFile, '{ "model": "opus", }\n')
  const original = snapshot(s.home)
  const bad = await run(t, ['install'], { env: s.env })
  t.is(bad.code, 1)
  t.ok(bad.stderr.includes(`${settingsFile}) is not valid JSON`), bad.stderr.trim())
  t.alike(snapshot(s.home), original, 'nothing changed')

  fs.writeFileSync(settingsFile, JSON.stringify({ hooks: { Stop: { command: 'x' } } }, null, 2) + '\n')
  const shape = await run(t, ['install'], { env: s.env })
  t.is(shape.code, 1)
  t.ok(shape.stderr.includes('"hooks.Stop" must be an array'), shape.stderr.trim())
  t.absent(fs.existsSync(path.join(s.home, '.claude', 'CLAUDEMESH.md')), 'no guidance written')
  t.absent(fs.existsSync(path.join(s.cmHome, 'install.json')), 'nothing recorded')
})
