// The PreToolUse guard's fast path: the command `claudemesh install` writes runs bash with the
// guard's script, which asks the daemon on its guard port (loopback TCP, secrets in <home>/guard).
// It answers as the Node hook does, falls back on it, says nothing to a connection without the
// hook's token, sends nothing to a stranger on a stale port, refuses what is not the hook's
// protocol, outlasts a flood of idle connections, and passes (saying why) whenever it cannot ask.
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import test from 'brittle'
import { joinedHomes, tmpDir, preToolUse } from './helpers/cli.js'
import { McpSession } from './helpers/mcp.js'

interface T { teardown (fn: () => unknown, opts?: { order?: number }): void }

function checkout (t: T): string {
  const dir = tmpDir(t, 'cm-repo-')
  fs.mkdirSync(path.join(dir, '.git'))
  fs.writeFileSync(path.join(dir, '.git', 'config'), '[remote "origin"]\n\turl = git@github.com:team/app.git\n')
  fs.mkdirSync(path.join(dir, 'src', 'api'), { recursive: true })
  return dir
}

/** One raw exchange with a guard port: sends `lines`, then collects what the daemon says until it closes. */
function exchange (port: number, send: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port })
    let text = ''
    socket.setEncoding('utf-8')
    socket.on('data', (d: string) => { text += d })
    socket.on('error', reject)
    socket.on('close', () => resolve(text))
    socket.write(send)
  })
}

/** A program on a port that plays the daemon without its token, recording what it is sent. */
async function imposter (t: T): Promise<{ port: number, heard: () => string, closed: () => Promise<void> }> {
  let heard = ''
  const closed: Array<Promise<void>> = []
  const server = net.createServer((socket) => {
    closed.push(new Promise((resolve) => socket.on('close', () => resolve())))
    socket.setEncoding('latin1')
    let mine = ''
    socket.on('data', (d: string) => {
      heard += d
      mine += d
      if (mine.endsWith('\n') && !mine.slice(0, -1).includes('\n')) socket.write('claudemesh-guard 2 ' + 'f'.repeat(32) + '\n') // not the daemon's token
    })
    socket.on('error', () => {})
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return { port: (server.address() as net.AddressInfo).port, heard: () => heard, closed: async () => { await Promise.all(closed) } }
}

test('the guard before edits through the guard port: the answer the Node hook gives, its fallback, nothing to a stranger, refusals, and passing when it cannot ask', { timeout: 180_000 }, async (t) => {
  const [alice, bob] = await joinedHomes(t, ['alice', 'bob'])
  const repoA = checkout(t)
  const repoB = checkout(t)
  const api = await McpSession.start(t, alice.home, ['--name', 'api'], {}, repoA)
  const web = await McpSession.start(t, bob.home, ['--name', 'web'], {}, repoB)
  const claim = await api.call('claim', { paths: 'src/api/**', note: 'adding /orders' })
  t.is(claim.data.status, 'granted', claim.text)
  await bob.wait({ claims: 1, sessions: 2 })
  const edit = (repo: string, file: string): object => ({ hook_event_name: 'PreToolUse', tool_name: 'Edit', tool_input: { file_path: path.join(repo, file), old_string: 'a', new_string: 'b' }, cwd: repo, session_id: 'x' })

  const guardFile = path.join(bob.home, 'guard')
  const [protocol, port, daemonToken, hookToken] = fs.readFileSync(guardFile, 'utf-8').trim().split(' ')
  t.is(protocol, '2', 'the daemon writes its guard port and secrets to <home>/guard')
  t.is(fs.statSync(guardFile).mode & 0o777, 0o600, 'readable by this user only')

  const fast = await preToolUse(bob.home, edit(repoB, 'src/api/orders.ts'))
  t.is(fast.code, 0)
  const decision = JSON.parse(fast.stdout).hookSpecificOutput
  t.is(decision.permissionDecision, 'ask', 'a file another session holds: ask')
  t.ok(decision.permissionDecisionReason.includes('claimed by session api on alice (adding /orders) until'), decision.permissionDecisionReason)
  t.is(fast.stderr, '', 'nothing on stderr')
  const slow = await preToolUse(bob.home, edit(repoB, 'src/api/orders.ts'), { node: true })
  t.is(slow.stdout, fast.stdout, 'the Node hook prints exactly the same answer')
  t.comment(`hook wall time: bash and the guard port ${Math.round(fast.ms)} ms, the Node hook ${Math.round(slow.ms)} ms (measured in bench:claims)`)
  const bare = await preToolUse(bob.home, edit(repoB, 'src/api/orders.ts'), { env: { PATH: '/nonexistent' } })
  t.is(bare.stdout, fast.stdout, 'with nothing on PATH (no head: bash reads stdin itself) the same answer')
  t.is((await preToolUse(bob.home, edit(repoB, 'src/web/app.ts'))).stdout, '', 'a file nobody holds passes silently')
  t.is((await preToolUse(alice.home, edit(repoA, 'src/api/orders.ts'))).stdout, '', 'the holder\'s own session passes silently')
  t.is((await preToolUse(bob.home, { tool_name: 'Bash', tool_input: { command: 'ls' } })).stdout, '', 'a tool that edits no file passes')

  // an older daemon (no guard port, a socket): the script hands over to the Node hook
  fs.renameSync(guardFile, guardFile + '.away')
  const handed = await preToolUse(bob.home, edit(repoB, 'src/api/orders.ts'))
  fs.renameSync(guardFile + '.away', guardFile)
  t.is(handed.stdout, fast.stdout, 'with no guard port the script falls back on the Node hook, same answer')

  // the port says nothing without the hook's token, refuses what is not the protocol, and goes on
  const hello = `claudemesh-guard 2 ${daemonToken as string}\n`
  t.is(await exchange(Number(port), `${'0'.repeat(32)} ${process.pid} 2\n{}`), '', 'a wrong hook token: closed with nothing said (the daemon\'s token stays secret)')
  t.is(await exchange(Number(port), ''), '', 'saying nothing: closed after its second, with nothing said')
  t.is(await exchange(Number(port), 'x'.repeat(4096)), '', 'a first line that never ends: closed, nothing said')
  t.is(await exchange(Number(port), `${hookToken as string} ${process.pid} ${9 * 1024 * 1024}\n`), '', 'the hook token with a call over 8 MiB: closed, nothing said')
  t.is(await exchange(Number(port), `${hookToken as string} 0 2\n{}`), '', 'pid 0: closed, nothing said')
  t.is(await exchange(Number(port), `${hookToken as string} ${process.pid} 4\n{}{}{}`), hello, 'the hook token: the daemon answers with its own; then more bytes than it said: closed')
  t.is(await exchange(Number(port), `${hookToken as string} ${process.pid} 8\nnot json`), hello + '\nclaudemesh hook: the tool call on stdin was not JSON, so claims were not checked; the edit goes ahead\n', 'a body that is not JSON: answered, passing')
  t.is((await preToolUse(bob.home, edit(repoB, 'src/api/orders.ts'))).stdout, fast.stdout, 'the daemon goes on answering')

  // a flood of idle connections does not keep the hook out (the oldest unproven ones go)
  const idle = await Promise.all(Array.from({ length: 80 }, async () => await new Promise<{ socket: net.Socket, closed: Promise<void> }>((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port: Number(port) })
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()))
    socket.on('error', () => {})
    socket.once('connect', () => resolve({ socket, closed }))
    socket.once('error', reject)
  })))
  const flooded = await preToolUse(bob.home, edit(repoB, 'src/api/orders.ts'), { env: { CLAUDEMESH_DEBUG: '1' } })
  await Promise.all(idle.map(async (c) => await c.closed)) // the daemon closes every one of them (within its second)
  t.is(flooded.stdout, fast.stdout, 'with 80 idle connections open, the guard port still answers')
  t.is(flooded.stderr, '', 'itself, not through the Node hook')

  const big = await preToolUse(bob.home, { tool_name: 'Write', tool_input: { file_path: path.join(repoB, 'src/api/orders.ts'), content: 'x'.repeat(9 * 1024 * 1024) }, cwd: repoB })
  t.is(big.code, 0)
  t.is(big.stdout, '', 'a Write over 8 MiB is not checked')
  t.ok(big.stderr.includes('the tool call is over 8 MiB, so claims were not checked'), big.stderr.trim())

  // the answer follows the claims as they change
  await api.call('release', { all: true })
  await bob.wait({ claims: 0 })
  t.is((await preToolUse(bob.home, edit(repoB, 'src/api/orders.ts'))).stdout, '', 'released: the same file passes')
  const again = await api.call('claim', { paths: 'src/api/orders.ts' })
  await bob.wait({ claims: 1 })
  t.ok((await preToolUse(bob.home, edit(repoB, 'src/api/orders.ts'))).stdout.includes(`(claim ${again.data.claim.id as string}, src/api/orders.ts)`), 'claimed again: asked again, naming the new claim')

  // a stale guard file whose port another program took: it hears the dead daemon's hook token (a pid
  // and a length) and nothing else; with the daemon running, the script asks through the Node hook
  const other = await imposter(t)
  const current = await preToolUse(bob.home, edit(repoB, 'src/api/orders.ts'))
  const real = fs.readFileSync(guardFile, 'utf-8')
  fs.writeFileSync(guardFile, `2 ${other.port} ${daemonToken as string} ${hookToken as string}\n`, { mode: 0o600 })
  const rerouted = await preToolUse(bob.home, edit(repoB, 'src/api/orders.ts'), { env: { CLAUDEMESH_DEBUG: '1' } })
  fs.writeFileSync(guardFile, real, { mode: 0o600 })
  await other.closed()
  const header = new RegExp(`^${hookToken as string} [0-9]+ [0-9]+\n$`)
  t.ok(header.test(other.heard()), `the program on the port heard the (dead) hook token, a pid and a length only, no tool call: ${JSON.stringify(other.heard())}`)
  const heardBefore = other.heard().length
  t.is(rerouted.stdout, current.stdout, 'and the edit is still stopped, the same answer: asked through the Node hook')
  t.ok(current.stdout.includes('"permissionDecision":"ask"'), 'an answer that stops it')
  t.ok(rerouted.stderr.includes(`127.0.0.1:${other.port} is not this daemon's guard port; asking through the Node hook`), rerouted.stderr.trim())

  const stranger = tmpDir(t, 'cm-stranger-')
  fs.writeFileSync(path.join(stranger, 'guard'), `2 ${other.port} ${daemonToken as string} ${hookToken as string}\n`, { mode: 0o600 })
  const fooled = await preToolUse(stranger, edit(repoB, 'src/api/orders.ts'))
  t.ok(header.test(other.heard().slice(heardBefore)), 'again only that line')
  t.is(fooled.stdout, '', 'with no daemon at all, the edit passes')
  t.ok(fooled.stderr.includes(`the daemon is not running (127.0.0.1:${other.port} is not this daemon's guard port), so claims were not checked`), fooled.stderr.trim())

  // a guard file left by a daemon that died: nothing answers on its port
  const free = net.createServer()
  await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', () => resolve()))
  const freePort = (free.address() as net.AddressInfo).port
  await new Promise<void>((resolve) => free.close(() => resolve()))
  fs.writeFileSync(path.join(stranger, 'guard'), `2 ${freePort} ${daemonToken as string} ${hookToken as string}\n`, { mode: 0o600 })
  const dead = await preToolUse(stranger, edit(repoB, 'src/api/orders.ts'))
  t.is(dead.stdout, '')
  t.ok(dead.stderr.includes(`the daemon is not running (nothing answers on the guard port ${freePort})`), dead.stderr.trim())
  const empty = await preToolUse(bob.home, '')
  t.alike([empty.stdout, empty.stderr], ['', ''], 'no tool call on stdin: nothing to check, nothing said')

  // a daemon that stops takes its guard file with it
  await web.close()
  await bob.run('daemon', 'stop')
  t.absent(fs.existsSync(guardFile), 'the stopped daemon removed its guard file')
  const down = await preToolUse(bob.home, edit(repoB, 'src/api/orders.ts'))
  t.is(down.stdout, '')
  t.ok(down.stderr.includes('the daemon is not running, so claims were not checked'), down.stderr.trim())

  // one a daemon that died left behind is replaced at the next start
  const stale = `2 ${freePort} ${daemonToken as string} ${hookToken as string}\n`
  fs.writeFileSync(guardFile, stale, { mode: 0o600 })
  await bob.run('daemon', 'start')
  const fresh = fs.readFileSync(guardFile, 'utf-8')
  t.not(fresh, stale, 'a new daemon writes its own guard file')
  t.absent(fresh.includes(hookToken as string) || fresh.includes(daemonToken as string), 'with new secrets')
  await bob.run('daemon', 'stop')
})
