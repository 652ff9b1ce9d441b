// The real Claude Code CLI, pinned, offline: an interactive session under tmux starts a turn when a
// message from another mesh session arrives while it is idle (through Claude Code's own session
// inbox, signed in with an API key, no channels), and a `-p` session calls a claudemesh tool.
// Claude Code can reach out on its own, so it runs only inside a network namespace with nothing but
// loopback (`unshare -n`), against a fake Messages API on 127.0.0.1 (test/helpers/claude-code-run.ts).
//
// Needs: the CLI installed in the cache folder (`.ci/run` does it; or set CLAUDEMESH_CLAUDE_CODE to
// its binary), root for `unshare -n`, and tmux. Without one of them the tests are not run: the
// suite says so on its output, and they are not counted as passed.
import test from 'brittle'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { spawn, spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export const CLAUDE_CODE_VERSION = '2.1.332'
const RUN = fileURLToPath(new URL('./helpers/claude-code-run.js', import.meta.url))

function binary (): string {
  if (process.env.CLAUDEMESH_CLAUDE_CODE !== undefined && process.env.CLAUDEMESH_CLAUDE_CODE !== '') return process.env.CLAUDEMESH_CLAUDE_CODE
  const cache = process.env.CLAUDEMESH_TEST_CACHE ?? path.join(os.homedir(), '.cache', 'claudemesh-test')
  return path.join(cache, `claude-code-${CLAUDE_CODE_VERSION}`, 'node_modules', '@anthropic-ai', 'claude-code-linux-x64', 'claude')
}

/** Why these tests cannot run here, or null. */
function missing (claude: string): string | null {
  if (process.platform !== 'linux') return 'not on Linux'
  if (!fs.existsSync(claude)) return `Claude Code ${CLAUDE_CODE_VERSION} is not installed at ${claude} (.ci/run installs it)`
  if (spawnSync('unshare', ['-n', 'true']).status !== 0) return '`unshare -n` is not allowed here (it needs root or user namespaces)'
  if (spawnSync('tmux', ['-V']).status !== 0) return 'tmux is not installed'
  return null
}

const claude = binary()
const why = missing(claude)

if (why !== null) {
  // brittle counts what is declared: nothing is declared, nothing is counted
  process.stdout.write(`# NOT RUN (not counted): the real Claude Code tests (claude-code.test.js): ${why}\n`)
} else {
  test(`real Claude Code ${CLAUDE_CODE_VERSION}, offline: an idle interactive session starts a turn when a mesh message arrives; a -p session calls a claudemesh tool, and its Edit of a file another session claimed is stopped by the guard`, { timeout: 240_000 }, async (t) => {
    const result = await inNamespace(claude)
    t.absent(result.error, result.error ?? 'the run finished')
    const tui = result.tui ?? {}
    t.is(tui.receives, 'inbox', 'the interactive session receives by its Claude Code inbox')
    t.is(tui.turnStarted, true, 'a message from another mesh session started a turn in the idle session: ' + JSON.stringify(tui.screen ?? ''))
    t.ok(tui.sawSender === true && tui.sawReplyHint === true, 'Claude got who sent it and how to answer on the mesh')
    t.alike(tui.status, { name: 'tui', id: (tui.status as { id?: string } | undefined)?.id, status: 'delivered', via: 'inbox' }, 'and the sender sees it delivered, by the inbox')
    const print = result.print ?? {}
    t.is(print.exit, 0, '-p exits 0')
    t.is(print.toolOffered, true, 'the claudemesh tools are offered to the model')
    t.is(print.toolAnswered, true, 'the model\'s list_peers call reached claudemesh, and its answer came back')
    const guard = result.guard ?? {}
    t.is(guard.claim, 'granted', 'another session claimed src/**')
    t.is(guard.stopped, true, 'the -p session\'s Edit of a claimed file was stopped, and Claude read why: ' + String(guard.toolResult))
    t.is(guard.file, 'export const port = 3000\n', 'the file is unchanged')
  })
}

interface Result { tui?: Record<string, any>, print?: Record<string, any>, guard?: Record<string, any>, error?: string }

function inNamespace (claude: string): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn('unshare', ['-n', '--', process.execPath, RUN, claude], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.setEncoding('utf-8').on('data', (d: string) => { out += d })
    child.stderr.setEncoding('utf-8').on('data', (d: string) => { err += d })
    child.on('close', () => {
      const line = out.split('\n').find((l) => l.startsWith('RESULT '))
      resolve(line === undefined ? { error: `no result: ${err.slice(-2000)}` } : JSON.parse(line.slice(7)) as Result)
    })
  })
}
