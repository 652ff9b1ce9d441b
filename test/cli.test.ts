// The CLI as a user meets it: help, the zero-setup local mesh, the daemon by hand, doctor, bad input.
import test from 'brittle'
import { fakeClaude } from './helpers/fake-claude.js'
import net from 'node:net'
import fs from 'node:fs'
import path from 'node:path'
import { Member, startRelay, cli, cliJson, tmpDir } from './helpers/cli.js'

const COMMANDS = ['create', 'invite', 'invite list', 'invite revoke', 'join', 'list', 'leave', 'kick', 'status', 'doctor', 'daemon start', 'daemon stop', 'daemon status', 'relay']

test('--help explains every command and starts no daemon', { timeout: 60_000 }, async (t) => {
  const home = tmpDir(t)
  const top = await cli(home, ['--help'])
  t.is(top.code, 0)
  for (const name of ['create', 'invite', 'join', 'list', 'leave', 'kick', 'status', 'doctor', 'daemon', 'relay']) {
    t.ok(top.stdout.includes(`  ${name}`), `top-level help lists ${name}`)
  }
  for (const command of COMMANDS) {
    const res = await cli(home, [...command.split(' '), '--help'])
    t.is(res.code, 0, `${command} --help exits 0`)
    t.ok(res.stdout.startsWith(`Usage: claudemesh ${command}`), `${command} --help shows its usage`)
  }
  t.absent(fs.existsSync(path.join(home, 'daemon.sock')), 'help never starts the daemon')
})

test('local mesh with zero setup: create without a relay, a second home joins, both connected', { timeout: 90_000 }, async (t) => {
  const alice = new Member(t, 'alice')
  const bob = new Member(t, 'bob')
  const created = await alice.json<{ relay: { embedded: boolean, addresses: string[] } }>('create', 'team')
  t.is(created.relay.embedded, true, 'the relay runs embedded in the daemon')
  t.ok(created.relay.addresses.every((a) => a.startsWith('127.0.0.1:')), 'on loopback')
  const invite = await alice.json<{ link: string }>('invite')
  const joined = await bob.run('join', invite.link)
  t.is(joined.code, 0, 'bob joins the local mesh: ' + joined.stderr.trim())
  await alice.wait({ members: 2, connected: 1 })
  await bob.wait({ members: 2, connected: 1 })

  // the embedded relay keeps its address across daemon restarts, so links and members keep working
  t.is((await alice.run('daemon', 'stop')).code, 0)
  const restarted = await alice.run('daemon', 'start')
  t.ok(restarted.stdout.includes('Daemon started'), restarted.stdout.trim())
  await alice.wait({ members: 2, connected: 1 })
  await bob.wait({ members: 2, connected: 1, relay: true })
  const list = await alice.json<Array<{ relay: { addresses: string[] }, online: number }>>('list')
  t.alike(list[0].relay.addresses, created.relay.addresses, 'same relay address after a restart')
  t.is(list[0].online, 2)
})

test('daemon start, status and stop by hand', { timeout: 60_000 }, async (t) => {
  const alice = new Member(t, 'alice')
  const before = await alice.json<{ running: boolean }>('daemon', 'status')
  t.is(before.running, false, 'not running before start')
  const started = await alice.run('daemon', 'start')
  t.ok(started.stdout.includes('Daemon started'), started.stdout.trim())
  const again = await alice.run('daemon', 'start')
  t.ok(again.stdout.includes('already running'), 'a second start finds the running daemon')
  const status = await alice.json<{ running: boolean, pid: number, socket: string, meshes: string[] }>('daemon', 'status')
  t.is(status.running, true)
  t.is(status.pid, alice.pid(), 'status reports the daemon pid')
  t.is(fs.statSync(status.socket).mode & 0o777, 0o600, 'the socket is private (0600)')
  t.is(fs.statSync(alice.home).mode & 0o777, 0o700, 'the home is private (0700)')
  t.alike(status.meshes, [])
  const stopped = await alice.run('daemon', 'stop')
  t.ok(stopped.stdout.includes('Daemon stopped'), stopped.stdout.trim())
  const after = await alice.json<{ running: boolean }>('daemon', 'status')
  t.is(after.running, false, 'not running after stop')
})

test('doctor checks the machine, the daemon and each relay, with a fix for what fails', { timeout: 90_000 }, async (t) => {
  const relay = await startRelay(t)
  const alice = new Member(t, 'alice')
  await alice.json('create', 'team', '--relay', relay.address) // key found through the relay's DHT
  const healthy = await alice.json<Array<{ name: string, ok: boolean, detail: string }>>('doctor')
  t.alike(healthy.map((c) => c.name).filter((n) => n !== 'messages'), ['node', 'home', 'daemon', 'guard', 'relay team', 'clock team'])
  t.ok(healthy.filter((c) => c.name !== 'messages').every((c) => c.ok), 'every check passes on a healthy member')
  t.ok(healthy.find((c) => c.name === 'guard')?.detail.includes('answers through bash and the guard port in'), 'the guard answered through bash and the guard port itself')
  const guardFile = path.join(alice.home, 'guard')
  fs.renameSync(guardFile, guardFile + '.away')
  const noGuard = (await alice.run('doctor', '--json'))
  fs.renameSync(guardFile + '.away', guardFile)
  const guard = (JSON.parse(noGuard.stdout) as Array<{ name: string, ok: boolean, detail: string }>).find((c) => c.name === 'guard')
  t.is(guard?.ok, false, `a daemon without its guard port fails the guard check: ${String(guard?.detail)}`)

  // which path messages take, for the Claude Code on PATH
  const claude = fakeClaude(t)
  const withClaude = (extra: Record<string, string>): Record<string, string> => ({ PATH: `${claude.dir}:${path.dirname(process.execPath)}`, ANTHROPIC_API_KEY: '', CLAUDE_CONFIG_DIR: path.join(alice.home, 'cc'), ...extra })
  const inbox = (await cliJson<Array<{ name: string, ok: boolean, detail: string }>>(alice.home, ['doctor'], { ...alice.env, ...withClaude({ FAKE_CLAUDE_VERSION: '2.1.332' }) })).find((c) => c.name === 'messages')
  t.ok(inbox?.ok === true && inbox.detail.startsWith('inbox: Claude Code 2.1.332 gives claudemesh its session inbox'), 'a Claude Code with a session inbox: ' + inbox?.detail)
  const old = await cli(alice.home, ['doctor'], { ...alice.env, ...withClaude({ FAKE_CLAUDE_VERSION: '2.1.100', ANTHROPIC_API_KEY: 'sk-test' }) })
  t.ok(/FAIL messages: hooks: .*an API key.*\(hooks are NOT installed\)\n\s+fix: run `claudemesh install`/.test(old.stdout), 'an old one with an API key and no hooks fails, with the fix: ' + old.stdout.split('\n').filter((l) => l.includes('messages') || l.includes('fix: run')).join(' | '))

  await relay.kill('SIGKILL')
  await alice.wait({ relay: false })
  const res = await alice.run('doctor')
  t.is(res.code, 1, 'doctor exits 1 when a check fails')
  t.ok(/FAIL relay team: .*\n\s+fix: check that the relay at 127\.0\.0\.1:\d+ runs/.test(res.stdout), 'the failing relay check names a fix')

  fs.chmodSync(alice.home, 0o755)
  const perms = await alice.run('doctor', '--json')
  t.is(perms.code, 1, 'a failing doctor --json still exits 1')
  const checks = JSON.parse(perms.stdout) as Array<{ name: string, ok: boolean, fix: string }>
  const home = checks.find((c) => c.name === 'home')
  t.is(home?.ok, false, 'a home readable by others fails')
  t.is(home?.fix, `chmod 700 ${alice.home}`)
})

test('bad input gets a clear error naming the field and the rule, and changes nothing', { timeout: 60_000 }, async (t) => {
  const alice = new Member(t, 'alice')
  const badName = await alice.run('create', 'no spaces allowed')
  t.is(badName.code, 1)
  t.ok(badName.stderr.includes('create.name: may only contain letters, digits'), badName.stderr.trim())
  t.ok(badName.stderr.includes('[BAD_INPUT]'))

  const noMesh = await alice.run('invite')
  t.ok(noMesh.stderr.includes('No mesh is joined yet: run `claudemesh create <name>`'), 'invite with no mesh joined: ' + noMesh.stderr.trim())

  const badUses = await alice.run('invite', '--uses', '0')
  t.is(badUses.code, 1)
  t.ok(badUses.stderr.includes('--uses must be a whole number from 1 to 1000'), badUses.stderr.trim())
  const badExpiry = await alice.run('invite', '--expires', 'tomorrow')
  t.ok(badExpiry.stderr.includes('30m, 12h, 7d or 2w'), badExpiry.stderr.trim())
  const badRelay = await alice.run('create', 'team', '--relay', 'nope')
  t.ok(badRelay.stderr.includes('relay: must be host:port'), badRelay.stderr.trim())

  await alice.json('create', 'team')
  const dup = await alice.run('create', 'team')
  t.ok(dup.stderr.includes('[MESH_EXISTS]'), dup.stderr.trim())
  const unknown = await alice.run('invite', '--mesh', 'nope')
  t.ok(unknown.stderr.includes('No joined mesh is named "nope". Joined meshes: team.'), unknown.stderr.trim())
  const join = await alice.run('join', 'https://example.com/not-a-link')
  t.ok(join.stderr.includes('[INVITE_MALFORMED]'), join.stderr.trim())
  const kick = await alice.run('kick', 'nobody')
  t.ok(kick.stderr.includes('[MEMBER_UNKNOWN]'), kick.stderr.trim())

  // the daemon's socket: garbage lines are answered with an error and the daemon keeps serving
  const socket = net.connect(path.join(alice.home, 'daemon.sock'))
  const replies: string[] = []
  socket.setEncoding('utf-8')
  const got = new Promise<void>((resolve) => {
    let buffered = ''
    socket.on('data', (d: string) => {
      buffered += d
      const lines = buffered.split('\n').filter((l) => l !== '')
      if (lines.length >= 3) { replies.push(...lines); resolve() }
    })
  })
  socket.write('this is not json\n{"id": "x"}\n{"id": 7, "method": "create", "params": {"name": 42}}\n')
  await got
  socket.destroy()
  t.ok(replies[0].includes('must be one JSON object per line'), replies[0])
  t.ok(replies[1].includes('BAD_INPUT'), replies[1])
  t.ok(replies[2].includes('create.name'), replies[2])
  const list = await alice.json<unknown[]>('list')
  t.is(list.length, 1, 'the daemon still serves, and nothing was created')
})
