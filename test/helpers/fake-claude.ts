// A stand-in for Claude Code's `claude` binary: an executable in a temp folder that records its
// argv and CLAUDEMESH_* environment (one JSON line per run) and exits. Tests put its folder on PATH.
import fs from 'node:fs'
import path from 'node:path'
import { spawn } from 'node:child_process'
import { BIN, tmpDir } from './cli.js'

interface Teardown { teardown (fn: () => unknown, opts?: { order?: number }): void }

export interface ClaudeCall { argv: string[], env: Record<string, string>, pid: number }

export interface FakeClaude {
  /** the folder holding `claude`: use it as PATH */
  dir: string
  log: string
  calls (): ClaudeCall[]
  /** signals the fake received while waiting (FAKE_CLAUDE_MODE=wait) */
  signals (): string[]
}

const SCRIPT = (log: string): string => `// fake claude for claudemesh tests
const fs = require('fs')
const LOG = ${JSON.stringify(log)}
if (process.argv[2] === '--version') {
  process.stdout.write((process.env.FAKE_CLAUDE_VERSION ?? '2.1.100') + ' (Claude Code)\\n')
  process.exit(0)
}
const env = {}
for (const [k, v] of Object.entries(process.env)) if (k.startsWith('CLAUDEMESH_')) env[k] = v
fs.appendFileSync(LOG, JSON.stringify({ argv: process.argv.slice(2), env, pid: process.pid }) + '\\n')
if (process.env.FAKE_CLAUDE_MODE === 'wait') {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      fs.appendFileSync(LOG, JSON.stringify({ signal }) + '\\n')
      process.exit(42)
    })
  }
  process.stdout.write('fake-claude ready\\n')
  setInterval(() => {}, 60000)
} else {
  process.exit(Number(process.env.FAKE_CLAUDE_EXIT ?? 0))
}
`

/** A folder with a fake `claude` (and nothing else) to use as PATH. */
export function fakeClaude (t: Teardown): FakeClaude {
  const dir = tmpDir(t, 'cm-fakebin-')
  const log = path.join(dir, 'calls.jsonl')
  const script = path.join(dir, 'fake-claude.cjs')
  fs.writeFileSync(script, SCRIPT(log))
  writeExecutable(path.join(dir, 'claude'), `#!/bin/sh\nexec '${process.execPath}' '${script}' "$@"\n`)
  const lines = (): Array<Record<string, unknown>> => {
    if (!fs.existsSync(log)) return []
    return fs.readFileSync(log, 'utf-8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l))
  }
  // a fake left waiting (its launch killed) must not outlive the test
  t.teardown(() => {
    for (const l of lines()) {
      if (typeof l.pid !== 'number') continue
      try { process.kill(l.pid, 'SIGKILL') } catch {}
    }
  }, { order: 5 })
  return {
    dir,
    log,
    calls: () => lines().filter((l) => Array.isArray(l.argv)) as unknown as ClaudeCall[],
    signals: () => lines().filter((l) => typeof l.signal === 'string').map((l) => l.signal as string)
  }
}

/** Puts a `claudemesh` command (this build's bin.js) into a PATH folder, as a global install would. */
export function addClaudemeshShim (dir: string): void {
  writeExecutable(path.join(dir, 'claudemesh'), `#!/bin/sh\nexec '${process.execPath}' '${BIN}' "$@"\n`)
}

function writeExecutable (file: string, text: string): void {
  fs.writeFileSync(file, text)
  fs.chmodSync(file, 0o755)
}

export interface Run { code: number | null, signal: NodeJS.Signals | null, stdout: string, stderr: string, ms: number }

/** Runs `claudemesh ...` with stdin text (or an open pipe when input is null) and a given env. */
export function run (t: Teardown, args: string[], opts: { env: Record<string, string>, input?: string | null, cwd?: string }): Promise<Run> & { child: ReturnType<typeof spawn> } {
  const started = Date.now()
  const child = spawn(process.execPath, [BIN, ...args], { env: opts.env, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf-8').on('data', (d: string) => { stdout += d })
  child.stderr.setEncoding('utf-8').on('data', (d: string) => { stderr += d })
  child.stdin.on('error', () => {})
  if (opts.input !== null) child.stdin.end(opts.input ?? '')
  const done = new Promise<Run>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, ms: Date.now() - started }))
  })
  t.teardown(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGKILL')
    await done.catch(() => null)
  }, { order: 1 })
  return Object.assign(done, { child })
}
