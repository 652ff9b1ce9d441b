// Runs the real Claude Code CLI against claudemesh, offline: meant to be started inside a network
// namespace that has nothing but loopback (`unshare -n`), by test/claude-code.test.ts. It serves a
// fake Messages API on 127.0.0.1, prepares a Claude Code home with no onboarding to answer, and:
// 1. starts an interactive session with `claudemesh launch` under tmux, sends it a message from
//    another mesh session while it is idle, and sees whether a turn starts;
// 2. runs `claudemesh launch -- -p ...`, answers the first API call with a claudemesh tool call,
//    and sees whether claudemesh's answer comes back in the next call.
// It prints one line `RESULT <json>` and leaves nothing running.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { spawn, spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { FakeMessagesApi } from './fake-messages-api.js'
import { IpcClient } from '../../peer/daemon/ipc-client.js'
import { homePaths } from '../../peer/daemon/home.js'
import { stopDaemon } from '../../peer/cli/daemon-client.js'
import { hookCommand } from '../../peer/cli/install.js'

const BIN = fileURLToPath(new URL('../../peer/cli/bin.js', import.meta.url))
const KEY = 'sk-ant-claudemesh-test'
const PING = 'MESHPING which port does your dev server use'

interface Result { tui: Record<string, unknown>, print: Record<string, unknown>, guard: Record<string, unknown>, error?: string }

async function main (): Promise<void> {
  const claude = process.argv[2]
  spawnSync('ip', ['link', 'set', 'lo', 'up'])
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cm-claude-'))
  const api = await FakeMessagesApi.start()
  const tmux = ['-L', `cm-${process.pid}`]
  const cmHome = path.join(root, 'mesh')
  const result: Result = { tui: {}, print: {}, guard: {} }
  try {
    const ccHome = path.join(root, 'home')
    const project = path.join(root, 'project')
    const bin = path.join(root, 'bin')
    for (const d of [ccHome, project, bin, cmHome, path.join(ccHome, '.claude'), path.join(project, 'src')]) fs.mkdirSync(d, { recursive: true })
    // the claims guard as `claudemesh install` adds it, set to deny (a -p session has nobody to ask)
    fs.writeFileSync(path.join(cmHome, 'settings.json'), JSON.stringify({ claims: { guard: 'deny' } }))
    fs.writeFileSync(path.join(ccHome, '.claude', 'settings.json'), JSON.stringify({
      hooks: { PreToolUse: [{ matcher: 'Edit|Write|MultiEdit|NotebookEdit', hooks: [{ type: 'command', command: hookCommand({ command: process.execPath, args: [BIN] }, 'PreToolUse'), timeout: 10 }] }] }
    }))
    fs.writeFileSync(path.join(project, 'src', 'app.ts'), 'export const port = 3000\n')
    fs.symlinkSync(claude, path.join(bin, 'claude'))
    fs.writeFileSync(path.join(ccHome, '.claude.json'), JSON.stringify({
      hasCompletedOnboarding: true,
      theme: 'dark',
      customApiKeyResponses: { approved: [KEY.slice(-20)], rejected: [] },
      projects: { [project]: { hasTrustDialogAccepted: true, hasCompletedProjectOnboarding: true } }
    }))
    const env: Record<string, string> = {
      HOME: ccHome,
      PATH: `${bin}:${path.dirname(process.execPath)}:/usr/bin:/bin`,
      TERM: 'xterm-256color',
      ANTHROPIC_BASE_URL: api.url,
      ANTHROPIC_API_KEY: KEY,
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      ENABLE_TOOL_SEARCH: 'false',
      CLAUDEMESH_HOME: cmHome,
      CLAUDEMESH_LABEL: 'tester',
      CLAUDEMESH_WATCH_PID: String(process.pid)
    }

    // 1. an interactive session, idle, woken by a message from another session of the mesh
    api.reply = () => ({ text: 'Port 5173.' })
    // the environment goes on the command line: the shell tmux runs may rewrite PATH on start
    const assignments = Object.entries(env).map(([k, v]) => `${k}='${v}'`).join(' ')
    const launch = `exec env ${assignments} '${process.execPath}' '${BIN}' launch --name tui --role member --groups '' -y 2> '${path.join(root, 'launch.err')}'`
    const started = spawnSync('tmux', [...tmux, 'new-session', '-d', '-x', '200', '-y', '50', '-c', project, launch], { encoding: 'utf-8' })
    if (started.status !== 0) throw new Error(`tmux did not start: ${started.stderr}`)
    const client = await connect(cmHome, 60_000)
    try {
      // launch makes the local mesh once it has the daemon: the wait waits for the mesh too
      await client.request('wait', { mesh: 'local', peer: { name: 'tui', receives: 'inbox' }, timeoutMs: 60_000 })
      result.tui.receives = 'inbox'
      await client.request('session.register', { name: 'sender', cwd: project, receives: 'hooks' })
      const before = api.requests.length
      const sent = await client.request('message.send', { to: 'tui', message: PING })
      const turn = await api.next((r) => api.requests.indexOf(r) >= before && r.raw.includes('MESHPING'), 60_000)
      result.tui.turnStarted = turn !== null
      result.tui.sawSender = turn?.raw.includes('from=\\"sender\\"') === true
      result.tui.sawReplyHint = turn?.raw.includes('reply_to') === true
      await client.request('wait', { delivered: sent.id, timeoutMs: 30_000 }).catch(() => null)
      result.tui.status = (await client.request('message.status', { id: sent.id })).recipients[0]
      result.tui.screen = spawnSync('tmux', [...tmux, 'capture-pane', '-p'], { encoding: 'utf-8' }).stdout.split('\n').filter((l) => l.trim() !== '').slice(-12).join('\n')
    } finally {
      client.close()
    }
    spawnSync('tmux', [...tmux, 'kill-server'])

    // 2. a -p session calls a claudemesh tool
    api.reply = (req) => {
      const raw = req.raw
      if (raw.includes('"tool_result"')) return { text: 'done' }
      if (raw.includes('list the peers') && raw.includes('mcp__claudemesh__list_peers')) return { tool: 'mcp__claudemesh__list_peers', input: {} }
      return { text: 'nothing to do' }
    }
    const before = api.requests.length
    const p = await run(process.execPath, [BIN, 'launch', '--name', 'printer', '--role', 'member', '--groups', '', '-y', '--quiet', '--', '-p', 'list the peers of this mesh', '--allowedTools', 'mcp__claudemesh__list_peers'], { env: { ...env }, cwd: project }, 120_000)
    const ours = api.requests.slice(before)
    result.print.exit = p.code
    result.print.toolOffered = ours.some((r) => r.raw.includes('mcp__claudemesh__list_peers'))
    const answered = ours.find((r) => r.raw.includes('"tool_result"'))
    result.print.toolAnswered = answered !== undefined && answered.raw.includes('Sessions in local')
    const at = answered?.raw.indexOf('"tool_result"') ?? -1
    result.print.toolResult = at === -1 ? null : answered?.raw.slice(at, at + 600)
    result.print.stdout = p.stdout.slice(0, 400)

    // 3. a -p session's Edit of a file another session claimed is stopped by the guard, with the reason
    const holder = await connect(cmHome, 30_000)
    try {
      await holder.request('session.register', { name: 'holder', cwd: project, receives: 'hooks' })
      const claim = await holder.request('claims.claim', { paths: ['src/**'], note: 'refactoring the server' })
      result.guard.claim = claim.status
      const target = path.join(project, 'src', 'app.ts')
      api.reply = (req) => {
        const raw = req.raw
        if (raw.includes('"tool_result"')) return { text: 'done' }
        if (raw.includes('change the port')) return { tool: 'Edit', input: { file_path: target, old_string: '3000', new_string: '4000' } }
        return { text: 'nothing to do' }
      }
      const from = api.requests.length
      const e = await run(process.execPath, [BIN, 'launch', '--name', 'editor', '--role', 'member', '--groups', '', '-y', '--quiet', '--', '-p', 'change the port to 4000', '--allowedTools', 'Edit'], { env: { ...env }, cwd: project }, 120_000)
      result.guard.exit = e.code
      const edited = api.requests.slice(from).find((r) => r.raw.includes('"tool_result"'))
      const at = edited?.raw.indexOf('"tool_result"') ?? -1
      result.guard.toolResult = at === -1 ? null : edited?.raw.slice(at, at + 800)
      result.guard.stopped = edited?.raw.includes('is claimed by session holder') === true
      result.guard.file = fs.readFileSync(target, 'utf-8')
    } finally {
      holder.close()
    }
  } catch (err) {
    const screen = spawnSync('tmux', [...tmux, 'capture-pane', '-p'], { encoding: 'utf-8' }).stdout ?? ''
    let launchErr = ''
    try { launchErr = fs.readFileSync(path.join(root, 'launch.err'), 'utf-8') } catch {}
    result.error = `${(err as Error).stack ?? String(err)}\nlaunch:\n${launchErr.slice(-1500)}\nscreen:\n${screen.split('\n').filter((l) => l.trim() !== '').slice(-15).join('\n')}`
  } finally {
    spawnSync('tmux', [...tmux, 'kill-server'])
    await stopDaemon(homePaths(cmHome)).catch(() => null)
    await api.close()
    fs.rmSync(root, { recursive: true, force: true })
  }
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`)
}

/** The daemon's IPC, once the session's MCP server has started it: connects when its socket appears. */
async function connect (home: string, ms: number): Promise<IpcClient> {
  const socket = homePaths(home).socket
  const attempt = async (): Promise<IpcClient | null> => await IpcClient.connect(socket).catch(() => null)
  const watcher = fs.watch(path.dirname(socket))
  try {
    const appeared = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no daemon listening at ${socket} after ${ms} ms`)), ms)
      watcher.on('change', (_event, file) => { if (String(file) === path.basename(socket)) { clearTimeout(timer); resolve() } })
    })
    appeared.catch(() => {})
    for (;;) {
      const client = await attempt()
      if (client !== null) return client
      await appeared
    }
  } finally {
    watcher.close()
  }
}

function run (cmd: string, args: string[], opts: { env: Record<string, string>, cwd: string }, ms: number): Promise<{ code: number | null, stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    child.stdout.setEncoding('utf-8').on('data', (d: string) => { stdout += d })
    child.stderr.resume()
    const timer = setTimeout(() => child.kill('SIGKILL'), ms)
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout }) })
  })
}

main().then(() => process.exit(0), (err) => { process.stdout.write(`RESULT ${JSON.stringify({ error: String(err) })}\n`); process.exit(1) })
