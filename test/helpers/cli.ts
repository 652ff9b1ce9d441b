// Test helpers that drive the real CLI, daemons and relays as separate processes on loopback.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { performance } from 'node:perf_hooks'
import { IpcClient } from '../../peer/daemon/ipc-client.js'
import { homePaths } from '../../peer/daemon/home.js'
import { stopDaemon } from '../../peer/cli/daemon-client.js'
import type { Method, Params, Result, NoParams } from '../../peer/daemon/contract.js'
import { hookCommand } from '../../peer/cli/install.js'
import { shellQuote } from '../../peer/cli/claude-config.js'

/** the CLI under test: this build's, or another's (CLAUDEMESH_TEST_BIN, e.g. to see a test fail on an older build) */
export const BIN = process.env.CLAUDEMESH_TEST_BIN ?? fileURLToPath(new URL('../../peer/cli/bin.js', import.meta.url))

interface Teardown { teardown (fn: () => unknown, opts?: { order?: number }): void }

export interface CliResult { code: number, stdout: string, stderr: string }

export function tmpDir (t: Teardown, prefix = 'cm-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }), { order: 100 })
  return dir
}

/** Runs `claudemesh ...` to completion with the given home. */
export function cli (home: string, args: string[], env: Record<string, string> = {}, input?: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, CLAUDEMESH_HOME: home, ...env },
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe']
    })
    if (input !== undefined) child.stdin?.end(input)
    let stdout = ''
    let stderr = ''
    child.stdout?.setEncoding('utf-8').on('data', (d: string) => { stdout += d })
    child.stderr?.setEncoding('utf-8').on('data', (d: string) => { stderr += d })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }))
  })
}

export interface HookRun extends CliResult { ms: number }

/**
 * Runs the PreToolUse guard as Claude Code does: the command `claudemesh install` writes (bash and
 * the guard's script), through a shell, with Claude Code's JSON on stdin. `node`: the Node hook
 * (`claudemesh hook PreToolUse`), which the script falls back on.
 */
export function preToolUse (home: string, input: object | string, opts: { env?: Record<string, string>, node?: boolean } = {}): Promise<HookRun> {
  return runThroughShell(opts.node === true ? NODE_HOOK_COMMAND : GUARD_HOOK_COMMAND, home, input, opts.env)
}

/** the guard as `claudemesh install` writes it for this checkout, and the Node hook it falls back on */
export const GUARD_HOOK_COMMAND = hookCommand({ command: process.execPath, args: [BIN] }, 'PreToolUse')
export const NODE_HOOK_COMMAND = [process.execPath, BIN, 'hook', 'PreToolUse'].map(shellQuote).join(' ')

/** Runs a command line through /bin/sh with `input` on stdin, timing it from spawn to exit. */
export function runThroughShell (command: string, home: string, input: object | string, env: Record<string, string> = {}): Promise<HookRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const child = spawn('/bin/sh', ['-c', command], { env: { ...process.env, CLAUDEMESH_HOME: home, ...env }, stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf-8').on('data', (d: string) => { stdout += d })
    child.stderr.setEncoding('utf-8').on('data', (d: string) => { stderr += d })
    child.stdin.on('error', () => {}) // a command that does not read all of its stdin
    child.on('error', reject)
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr, ms: performance.now() - started }))
    child.stdin.end(typeof input === 'string' ? input : JSON.stringify(input))
  })
}

/** Runs a CLI command that must succeed and print JSON; returns the parsed value. */
export async function cliJson<T = any> (home: string, args: string[], env: Record<string, string> = {}): Promise<T> {
  const res = await cli(home, [...args, '--json'], env)
  if (res.code !== 0) throw new Error(`claudemesh ${args.join(' ')} failed (${res.code}): ${res.stderr}`)
  return JSON.parse(res.stdout) as T
}

/** A member: its own CLAUDEMESH_HOME, whose daemon is stopped (and killed if need be) at teardown. */
export class Member {
  readonly home: string
  readonly label: string
  private readonly extraEnv: Record<string, string>

  /** `env`: more environment for its CLI runs and so for the daemon they start */
  constructor (t: Teardown, label: string, env: Record<string, string> = {}) {
    this.home = tmpDir(t, `cm-${label}-`)
    this.label = label
    this.extraEnv = env
    t.teardown(() => this.stop(), { order: 10 })
  }

  get env (): Record<string, string> {
    return { CLAUDEMESH_LABEL: this.label, CLAUDEMESH_WATCH_PID: String(process.pid), ...this.extraEnv }
  }

  run (...args: string[]): Promise<CliResult> {
    return cli(this.home, args, this.env)
  }

  json<T = any> (...args: string[]): Promise<T> {
    return cliJson<T>(this.home, args, this.env)
  }

  /** A direct IPC request to this member's daemon (which must be running), typed by the daemon's contract. */
  async ipc<M extends NoParams> (method: M, params?: Params<M>): Promise<Result<M>>
  async ipc<M extends Method> (method: M, params: Params<M>): Promise<Result<M>>
  async ipc (method: Method, params: unknown = {}): Promise<unknown> {
    return await this.raw(method, params)
  }

  /** Any method and parameters, unchecked: for tests of what the daemon refuses. */
  async raw (method: string, params: unknown = {}): Promise<unknown> {
    const client = await IpcClient.connect(homePaths(this.home).socket)
    try {
      return await client.raw(method, params)
    } finally {
      client.close()
    }
  }

  /** Waits inside the daemon for a condition (event-driven there, no polling here). */
  wait (params: Params<'wait'>): Promise<Result<'wait'>> {
    return this.ipc('wait', { timeoutMs: 30_000, ...params })
  }

  pid (): number | null {
    try {
      return Number(fs.readFileSync(homePaths(this.home).pid, 'utf-8').trim())
    } catch {
      return null
    }
  }

  async stop (): Promise<void> {
    const pid = this.pid()
    await stopDaemon(homePaths(this.home)).catch(() => null)
    if (pid !== null) {
      try { process.kill(pid, 'SIGKILL') } catch {}
    }
  }
}

export interface RelayProcess {
  child: ChildProcess
  key: string
  address: string
  port: number
  httpPort: number
  data: string
  kill (signal?: NodeJS.Signals): Promise<void>
}

/** Starts `claudemesh relay` as its own process on loopback (port 0 unless given) and waits until ready. */
export async function startRelay (t: Teardown, opts: { data?: string, port?: number } = {}): Promise<RelayProcess> {
  const data = opts.data ?? tmpDir(t, 'cm-relay-')
  const child = spawn(process.execPath, [BIN, 'relay', '--host', '127.0.0.1', '--port', String(opts.port ?? 0), '--http-port', '0', '--data', data], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CLAUDEMESH_WATCH_PID: String(process.pid) } // gone with the test process, even if it crashes
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const kill = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill(signal)
    await exited
  }
  t.teardown(() => kill('SIGKILL'), { order: 20 })
  let stderr = ''
  child.stderr?.setEncoding('utf-8').on('data', (d: string) => { stderr += d })
  const out = await new Promise<string>((resolve, reject) => {
    let buffered = ''
    child.stdout?.setEncoding('utf-8').on('data', (d: string) => {
      buffered += d
      if (buffered.includes('claudemesh create')) resolve(buffered)
    })
    child.once('exit', (code) => reject(new Error(`relay exited with ${String(code)}: ${stderr}`)))
  })
  const key = /key\s+([0-9a-f]{64})/.exec(out)?.[1] ?? ''
  const address = /dht\s+(\S+)/.exec(out)?.[1] ?? ''
  const httpPort = Number(/http:\/\/[^:]+:(\d+)/.exec(out)?.[1] ?? 0)
  return { child, key, address, port: Number(address.split(':')[1]), httpPort, data, kill }
}

/** Members with their own homes joined to one mesh through a real relay, all connected to each other. */
export async function joinedHomes (t: Teardown, labels: string[], env: Record<string, string> = {}): Promise<Member[]> {
  return (await joinedMesh(t, labels, env)).members
}

/** As joinedHomes, with the relay they use and the mesh's key. */
export async function joinedMesh (t: Teardown, labels: string[], env: Record<string, string> = {}): Promise<{ relay: RelayProcess, members: Member[], meshKey: string }> {
  const relay = await startRelay(t)
  const members = labels.map((label) => new Member(t, label, env))
  const mesh = await members[0].json<{ key: string }>('create', 'team', '--relay', `${relay.key}@${relay.address}`)
  for (const m of members.slice(1)) await m.json('join', (await members[0].json<{ link: string }>('invite')).link)
  for (const m of members) await m.wait({ members: members.length, connected: members.length - 1 })
  return { relay, members, meshKey: mesh.key }
}

/** Reads a file tree's bytes, for checking what a folder holds. */
export function readTree (dir: string): Buffer[] {
  const out: Buffer[] = []
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue
    out.push(fs.readFileSync(path.join(entry.parentPath, entry.name)))
  }
  return out
}
