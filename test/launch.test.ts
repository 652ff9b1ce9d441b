// `claudemesh launch` against a fake `claude` on PATH: identity, MCP and channel flags, the
// user's args, the wizard on stdin, the zero-config local mesh, joining, and errors.
import test from 'brittle'
import fs from 'node:fs'
import path from 'node:path'
import { Member, BIN, tmpDir } from './helpers/cli.js'
import { fakeClaude, run, type ClaudeCall } from './helpers/fake-claude.js'

const MCP_FLAG = '--mcp-config'
const CHANNEL_FLAG = '--dangerously-load-development-channels'

/** This process's environment without any CLAUDEMESH_* of the caller's, for one member and PATH. */
function envFor (member: Member, pathDir: string, extra: Record<string, string> = {}): Record<string, string> {
  // nor the caller's sign-in, which decides whether channels can help
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CLAUDEMESH_') && !k.startsWith('ANTHROPIC_') && !k.startsWith('CLAUDE_CODE_'))) as Record<string, string>
  return { ...base, CLAUDEMESH_HOME: member.home, CLAUDE_CONFIG_DIR: path.join(member.home, 'claude-config'), ...member.env, PATH: pathDir, ...extra }
}

function exits0 (t: { is: (a: unknown, b: unknown, m?: string) => void, comment: (...m: unknown[]) => void }, res: { code: number | null, stderr: string }): void {
  t.is(res.code, 0, 'exits 0')
  if (res.code !== 0) t.comment(res.stderr)
}

function count (argv: string[], flag: string): number {
  return argv.filter((a) => a === flag || a.startsWith(`${flag}=`)).length
}

function mcpServer (call: ClaudeCall): { type: string, command: string, args: string[], env: Record<string, string> } {
  const json = JSON.parse(call.argv[call.argv.indexOf(MCP_FLAG) + 1])
  return json.mcpServers.claudemesh
}

test('launch with flags: identity env, the MCP config and channel flag once, user args in order, a local mesh made', { timeout: 90_000 }, async (t) => {
  const member = new Member(t, 'alice')
  const claude = fakeClaude(t)
  const res = await run(t, ['launch', '--name', 'alice', '--role', 'reviewer', '--groups', 'frontend, api:lead', '-y', '--quiet', '--', '--model', 'opus', 'fix the bug'], { env: envFor(member, claude.dir) })
  exits0(t, res)
  t.is(res.stderr, '', '--quiet -y prints nothing')
  const calls = claude.calls()
  t.is(calls.length, 1, 'claude ran once')
  const { argv, env } = calls[0]
  t.alike(env, { ...member.env, CLAUDEMESH_HOME: member.home, CLAUDEMESH_NAME: 'alice', CLAUDEMESH_ROLE: 'reviewer', CLAUDEMESH_GROUPS: 'frontend,api:lead', CLAUDEMESH_MESH: 'local', CLAUDEMESH_CHANNELS: '1' }, 'identity in the environment')
  t.is(count(argv, MCP_FLAG), 1, '--mcp-config once')
  t.is(count(argv, CHANNEL_FLAG), 1, '--dangerously-load-development-channels once')
  t.is(argv[argv.indexOf(CHANNEL_FLAG) + 1], 'server:claudemesh', 'the channel is server:claudemesh')
  t.alike(argv.filter((a) => ['--model', 'opus', 'fix the bug'].includes(a)), ['--model', 'opus', 'fix the bug'], 'user args in their order')
  t.alike(argv.slice(0, 3), ['--model', 'opus', 'fix the bug'], 'user args first, so no prompt of theirs is read as a value of our many-valued flags')
  const server = mcpServer(calls[0])
  t.is(server.type, 'stdio')
  t.is(server.command, process.execPath, 'the MCP server runs this Node')
  t.alike(server.args, [BIN, 'mcp'], 'and this package\'s bin.js by absolute path (no global install needed)')
  t.is(server.env.CLAUDEMESH_NAME, 'alice', 'the MCP server gets the identity too')

  const meshes = await member.json<Array<{ name: string, owner: boolean, relay: { embedded: boolean, addresses: string[] } }>>('list')
  t.is(meshes.length, 1, 'one mesh')
  t.is(meshes[0].name, 'local', 'the zero-config local mesh')
  t.ok(meshes[0].relay.embedded && meshes[0].relay.addresses.every((a) => a.startsWith('127.0.0.1:')), 'its relay is embedded, on loopback')

  // the daemon launch started is this member's; stopping it leaves nothing running
  await member.stop()
  const status = await member.json<{ running: boolean }>('daemon', 'status')
  t.is(status.running, false, 'daemon stopped')
})

test('launch gives each Claude Code the path it offers and says which: its inbox (no channel flag), hooks with an API key, a channel with a claude.ai sign-in', { timeout: 90_000 }, async (t) => {
  const member = new Member(t, 'pat')
  const claude = fakeClaude(t)
  const cases: Array<[string, Record<string, string>, boolean, RegExp]> = [
    ['2.1.332', {}, false, /messages: Claude Code 2\.1\.332 gives claudemesh its session inbox: messages arrive as they come and wake an idle session, on any sign-in/],
    ['2.1.100', { ANTHROPIC_API_KEY: 'sk-test' }, false, /messages: Claude Code 2\.1\.100 has no session inbox .*channels need a claude\.ai sign-in \(this one uses an API key\): messages reach the session through its hooks/],
    ['2.1.100', { CLAUDE_CODE_USE_BEDROCK: '1' }, false, /uses Bedrock, Vertex or Foundry/],
    ['2.1.100', {}, true, /messages: Claude Code 2\.1\.100 has no session inbox .*pushed as channel notifications/]
  ]
  for (const [version, extra, flag, said] of cases) {
    const before = claude.calls().length
    const res = await run(t, ['launch', '--name', 'pat', '--role', 'member', '--groups', '', '-y'], { env: envFor(member, claude.dir, { FAKE_CLAUDE_VERSION: version, ...extra }) })
    exits0(t, res)
    const call = claude.calls()[before]
    t.is(count(call.argv, CHANNEL_FLAG), flag ? 1 : 0, `${version} ${JSON.stringify(extra)}: the channel flag ${flag ? 'is' : 'is not'} added`)
    t.is(mcpServer(call).env.CLAUDEMESH_CHANNELS, flag ? '1' : '0', 'and the MCP server is told so')
    t.ok(said.test(res.stderr), 'launch says which path and why: ' + res.stderr.split('\n').find((l) => l.includes('messages:')))
    t.absent(/ignored/.test(res.stderr), 'and never leaves the user with a flag that is ignored')
  }
})

test('the wizard reads answers from stdin, one line per question, empty lines take defaults', { timeout: 90_000 }, async (t) => {
  const member = new Member(t, 'bob')
  const claude = fakeClaude(t)
  const project = path.join(tmpDir(t, 'cm-proj-'), 'api server')
  fs.mkdirSync(project)

  const first = await run(t, ['launch'], { env: envFor(member, claude.dir), input: 'bob\n\ndesign:lead, ops\ny\n', cwd: project })
  exits0(t, first)
  t.is(claude.calls()[0].env.CLAUDEMESH_NAME, 'bob')
  t.is(claude.calls()[0].env.CLAUDEMESH_ROLE, 'member', 'empty role line: default member')
  t.is(claude.calls()[0].env.CLAUDEMESH_GROUPS, 'design:lead,ops')
  t.is(claude.calls()[0].env.CLAUDEMESH_MESH, 'local', 'no mesh joined: the local one, created')
  t.ok(/\? Session name \(api-server-[0-9a-f]{4}\)/.test(first.stderr), 'the name question offers folder name + suffix')
  t.ok(first.stderr.includes('autonomous mode'), 'the confirmation explains autonomous mode')
  t.ok(/starting Claude Code as bob, role member, groups design \(lead\), ops, mesh local/.test(first.stderr), 'banner with name, role, groups, mesh')

  // all defaults; one mesh joined now, so no mesh question and no second mesh
  const second = await run(t, ['launch'], { env: envFor(member, claude.dir), input: '\n\n\n\n', cwd: project })
  exits0(t, second)
  const call = claude.calls()[1]
  t.ok(/^api-server-[0-9a-f]{4}$/.test(call.env.CLAUDEMESH_NAME), `default name ${call.env.CLAUDEMESH_NAME}`)
  t.is(call.env.CLAUDEMESH_ROLE, 'member')
  t.is(call.env.CLAUDEMESH_GROUPS, '', 'no groups by default')
  t.is(call.env.CLAUDEMESH_MESH, 'local')
  t.absent(second.stderr.includes('Which mesh'), 'one mesh: not asked')
  const meshes = await member.json<Array<{ name: string }>>('list')
  t.alike(meshes.map((m) => m.name), ['local'], 'the local mesh is made once')

  // no stdin at all: every default, launch goes ahead
  const third = await run(t, ['launch'], { env: envFor(member, claude.dir), input: '', cwd: project })
  exits0(t, third)
  t.is(claude.calls().length, 3)
})

test('answering "n" to the confirmation exits 0 without launching or creating a mesh', { timeout: 60_000 }, async (t) => {
  const member = new Member(t, 'carol')
  const claude = fakeClaude(t)
  const res = await run(t, ['launch', '--name', 'carol', '--role', 'qa', '--groups', ''], { env: envFor(member, claude.dir), input: 'n\n' })
  exits0(t, res)
  t.ok(res.stderr.includes('Not launched.'))
  t.is(claude.calls().length, 0, 'claude did not run')
  const meshes = await member.json<unknown[]>('list')
  t.is(meshes.length, 0, 'no mesh created')
})

test('several meshes: asked on stdin (name or number), or picked with --mesh; an unknown --mesh is an error', { timeout: 90_000 }, async (t) => {
  const member = new Member(t, 'dave')
  const claude = fakeClaude(t)
  await member.json('create', 'alpha')
  await member.json('create', 'beta')

  const asked = await run(t, ['launch', '--name', 'dave', '--role', 'dev', '--groups', ''], { env: envFor(member, claude.dir), input: 'beta\ny\n' })
  exits0(t, asked)
  t.ok(asked.stderr.includes('Which mesh?'), 'the mesh is asked')
  t.is(claude.calls()[0].env.CLAUDEMESH_MESH, 'beta')

  const byNumber = await run(t, ['launch', '--name', 'dave', '--role', 'dev', '--groups', '', '-y'], { env: envFor(member, claude.dir), input: '1\n' })
  exits0(t, byNumber)
  t.is(claude.calls()[1].env.CLAUDEMESH_MESH, 'alpha', 'answer 1: the first mesh')

  const flag = await run(t, ['launch', '--name', 'dave', '--role', 'dev', '--groups', '', '--mesh', 'beta', '-y', '-q'], { env: envFor(member, claude.dir), input: '' })
  t.is(flag.code, 0)
  t.is(claude.calls()[2].env.CLAUDEMESH_MESH, 'beta', '--mesh picks without a question')

  const unknown = await run(t, ['launch', '--name', 'dave', '--role', 'dev', '--groups', '', '--mesh', 'gamma', '-y'], { env: envFor(member, claude.dir), input: '' })
  t.is(unknown.code, 1, 'unknown --mesh: exit 1')
  t.ok(/--mesh: no mesh named "gamma" is joined here; joined: alpha, beta/.test(unknown.stderr), unknown.stderr.trim())

  const badAnswer = await run(t, ['launch', '--name', 'dave', '--role', 'dev', '--groups', '', '-y'], { env: envFor(member, claude.dir), input: 'zeta\n' })
  t.is(badAnswer.code, 1, 'an answer that is no mesh: exit 1')
  t.ok(badAnswer.stderr.includes('mesh: "zeta" is not one of alpha, beta'), badAnswer.stderr.trim())
  t.is(claude.calls().length, 3, 'no launch on errors')
  const meshes = await member.json<Array<{ name: string }>>('list')
  t.alike(meshes.map((m) => m.name).sort(), ['alpha', 'beta'], 'no local mesh when meshes are joined')
})

test('--join joins the invite\'s mesh first and launches into it', { timeout: 120_000 }, async (t) => {
  const owner = new Member(t, 'owner')
  const joiner = new Member(t, 'erin')
  const claude = fakeClaude(t)
  await owner.json('create', 'team')
  const invite = await owner.json<{ link: string }>('invite')
  const res = await run(t, ['launch', '--join', invite.link, '--name', 'erin', '--role', 'dev', '--groups', 'core', '-y'], { env: envFor(joiner, claude.dir) })
  exits0(t, res)
  t.ok(res.stderr.includes('Joined mesh team.'))
  t.is(claude.calls()[0].env.CLAUDEMESH_MESH, 'team', 'the joined mesh')
  const meshes = await joiner.json<Array<{ name: string, members: unknown[] }>>('list')
  t.alike(meshes.map((m) => m.name), ['team'], 'joined, and no local mesh made')
})

test('the user\'s own --mcp-config and channel flag are kept and ours not added', { timeout: 60_000 }, async (t) => {
  const member = new Member(t, 'frank')
  const claude = fakeClaude(t)
  const base = ['launch', '--name', 'frank', '--role', 'dev', '--groups', '', '-y']

  const own = ['--mcp-config', '/tmp/mine.json', CHANNEL_FLAG, 'server:claudemesh', 'plugin:x@y', '--model', 'opus']
  const a = await run(t, [...base, '-q', '--', ...own], { env: envFor(member, claude.dir), input: '' })
  exits0(t, a)
  t.alike(claude.calls()[0].argv, own, 'argv is exactly the user\'s: nothing added')
  t.is(claude.calls()[0].env.CLAUDEMESH_CHANNELS, '1', 'their channel list names server:claudemesh')

  const eq = ['--mcp-config={"mcpServers":{}}', 'hello']
  const b = await run(t, [...base, '-q', '--', ...eq], { env: envFor(member, claude.dir), input: '' })
  t.is(b.code, 0)
  const argvB = claude.calls()[1].argv
  t.is(count(argvB, MCP_FLAG), 1, '--mcp-config=... counts as the user\'s: ours not added')
  t.is(count(argvB, CHANNEL_FLAG), 1, 'our channel flag still added')
  t.alike(argvB.slice(0, 2), eq)

  const other = [CHANNEL_FLAG, 'plugin:telegram@official']
  const c = await run(t, [...base, '--', ...other], { env: envFor(member, claude.dir), input: '' })
  t.is(c.code, 0)
  const argvC = claude.calls()[2].argv
  t.is(count(argvC, CHANNEL_FLAG), 1, 'the user\'s channel flag is not duplicated')
  t.alike(argvC.slice(0, 2), other, 'and kept as they wrote it')
  t.is(count(argvC, MCP_FLAG), 1, 'our MCP config is added')
  t.is(claude.calls()[2].env.CLAUDEMESH_CHANNELS, undefined, 'not a channel session')
  t.ok(c.stderr.includes('does not list server:claudemesh'), 'a note says messages will not be pushed')

  const dashdash = ['--model', 'opus', '--', '--not-a-flag']
  const d = await run(t, [...base, '-q', '--', ...dashdash], { env: envFor(member, claude.dir), input: '' })
  t.is(d.code, 0)
  const argvD = claude.calls()[3].argv
  t.alike(argvD.slice(0, 2), ['--model', 'opus'])
  t.alike(argvD.slice(-2), ['--', '--not-a-flag'], 'ours go before the user\'s own --')
  t.ok(argvD.indexOf(MCP_FLAG) < argvD.indexOf('--'))
})

test('bad input names the field and the rule, exits 1, and starts nothing', { timeout: 60_000 }, async (t) => {
  const member = new Member(t, 'gina')
  const claude = fakeClaude(t)
  const cases: Array<[string[], string, RegExp]> = [
    [['--name', 'bad name!'], '', /--name: "bad name!" may only contain letters, digits/],
    [['--name', 'x'.repeat(65)], '', /--name: must be at most 64 characters/],
    [['--name', 'ok', '--groups', 'a,,b'], '', /--groups item 2: is empty/],
    [['--name', 'ok', '--groups', 'a:'], '', /--groups item 1: "a:" has an empty role/],
    [['--name', 'ok', '--groups', 'a b'], '', /--groups item 1: group name "a b" may only contain/],
    [['--name', 'ok', '--role', 'r'.repeat(33)], '', /--role: must be at most 32 characters/],
    [[], 'no good\n', /name: "no good" may only contain letters, digits/],
    [['--name', 'ok', '--role', 'dev'], 'g1,g1\n', /groups item 2: group "g1" is listed twice/]
  ]
  for (const [args, input, expected] of cases) {
    const res = await run(t, ['launch', ...args], { env: envFor(member, claude.dir), input })
    t.is(res.code, 1, `exit 1 for ${args.join(' ')} / ${JSON.stringify(input)}`)
    t.ok(expected.test(res.stderr), res.stderr.trim().split('\n').pop())
  }
  t.is(claude.calls().length, 0, 'claude never ran')
  t.absent(fs.existsSync(path.join(member.home, 'daemon.sock')), 'no daemon started for bad input')
})

test('claude missing from PATH: a clear error with the install hint, exit 1, no daemon', { timeout: 30_000 }, async (t) => {
  const member = new Member(t, 'hank')
  const empty = tmpDir(t, 'cm-emptybin-')
  const res = await run(t, ['launch', '--name', 'hank', '-y'], { env: envFor(member, empty), input: '' })
  t.is(res.code, 1)
  t.is(res.stderr.trim(), 'claudemesh: claude is not installed or not on PATH: install Claude Code with `npm install -g @anthropic-ai/claude-code`')
  t.absent(fs.existsSync(path.join(member.home, 'daemon.sock')), 'no daemon started')
})

test('launch exits with claude\'s exit code and passes SIGTERM, SIGINT and SIGHUP on to it', { timeout: 90_000 }, async (t) => {
  const member = new Member(t, 'ivy')
  const claude = fakeClaude(t)
  const args = ['launch', '--name', 'ivy', '--role', 'dev', '--groups', '', '-y', '-q']
  const failing = await run(t, args, { env: envFor(member, claude.dir, { FAKE_CLAUDE_EXIT: '7' }), input: '' })
  t.is(failing.code, 7, 'claude\'s exit code is launch\'s')

  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as NodeJS.Signals[]) {
    const waiting = run(t, args, { env: envFor(member, claude.dir, { FAKE_CLAUDE_MODE: 'wait' }), input: '' })
    await new Promise<void>((resolve) => {
      let out = ''
      waiting.child.stdout?.on('data', (d: string) => { out += d; if (out.includes('fake-claude ready')) resolve() })
    })
    waiting.child.kill(signal)
    const res = await waiting
    t.is(res.code, 42, `${signal}: claude got it and its exit code came back`)
  }
  t.alike(claude.signals(), ['SIGTERM', 'SIGINT', 'SIGHUP'], 'each signal reached claude once')
})

test('--help for launch, install, uninstall and hook; no daemon started', { timeout: 30_000 }, async (t) => {
  const member = new Member(t, 'help')
  for (const command of ['launch', 'install', 'uninstall', 'hook']) {
    const res = await member.run(command, '--help')
    t.is(res.code, 0, `${command} --help exits 0`)
    t.ok(res.stdout.startsWith(`Usage: claudemesh ${command}`), `${command} --help shows its usage`)
  }
  const top = await member.run('--help')
  for (const command of ['launch', 'install', 'uninstall', 'hook']) t.ok(top.stdout.includes(`  ${command}`), `top-level help lists ${command}`)
  t.absent(fs.existsSync(path.join(member.home, 'daemon.sock')), 'help never starts the daemon')
})
