// Reaching the daemon from the CLI: connect to its socket, starting it first when asked to.
import fs from 'node:fs'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { IpcClient } from '../daemon/ipc-client.js'
import { isRunning } from '../daemon/process.js'
import { homePaths, ensureHome, type HomePaths } from '../daemon/home.js'
import { MeshError } from '../../protocol/errors.js'

const DAEMON_MAIN = fileURLToPath(new URL('../daemon/main.js', import.meta.url))
// a daemon opening large meshes (100k memories: ~40 s, see bench/state-memory.ts) is slow, not dead
const START_TIMEOUT_MS = 120_000

/** A client of the running daemon, or null when none runs for this home. */
export async function connectDaemon (paths: HomePaths = homePaths()): Promise<IpcClient | null> {
  try {
    return await IpcClient.connect(paths.socket)
  } catch (err) {
    if ((err as { notRunning?: boolean }).notRunning === true) return null
    throw err
  }
}

/** Starts the daemon for this home and resolves with its pid once its socket listens. */
export async function startDaemon (paths: HomePaths = homePaths()): Promise<{ pid: number, started: boolean }> {
  const existing = await connectDaemon(paths)
  if (existing !== null) {
    const status = await existing.request('status')
    existing.close()
    return { pid: status.pid, started: false }
  }
  ensureHome(paths)
  const logFd = fs.openSync(paths.log, 'a', 0o600)
  const child = spawn(process.execPath, [DAEMON_MAIN], {
    detached: true,
    stdio: ['ignore', 'pipe', logFd],
    env: { ...process.env, CLAUDEMESH_HOME: paths.root }
  })
  fs.closeSync(logFd)
  try {
    const line = await firstLine(child)
    if (line.startsWith('ready ')) return { pid: Number(line.slice(6)), started: true }
    if (line === 'already-running') {
      // another client started it a moment ago: wait for its socket
      const client = await waitForSocket(paths)
      const status = await client.request('status')
      client.close()
      return { pid: status.pid, started: false }
    }
    throw MeshError.DAEMON_UNREACHABLE(`it failed to start (${line.replace(/^error /, '') || 'no output'}); see ${paths.log}`)
  } finally {
    child.stdout?.destroy()
    child.unref()
  }
}

function firstLine (child: ReturnType<typeof spawn>): Promise<string> {
  return new Promise((resolve) => {
    let buffered = ''
    const timer = setTimeout(() => finish('error timed out after 120 s'), START_TIMEOUT_MS)
    const finish = (line: string): void => {
      clearTimeout(timer)
      child.stdout?.removeAllListeners('data')
      child.removeAllListeners('exit')
      resolve(line)
    }
    child.stdout?.setEncoding('utf-8')
    child.stdout?.on('data', (chunk: string) => {
      buffered += chunk
      const nl = buffered.indexOf('\n')
      if (nl !== -1) finish(buffered.slice(0, nl).trim())
    })
    child.on('exit', (code) => finish(buffered.trim() !== '' ? buffered.trim() : `error exited with code ${String(code)}`))
  })
}

async function waitForSocket (paths: HomePaths): Promise<IpcClient> {
  const deadline = Date.now() + START_TIMEOUT_MS
  while (Date.now() < deadline) {
    const client = await connectDaemon(paths)
    if (client !== null) return client
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw MeshError.DAEMON_UNREACHABLE('it did not open its socket in time')
}

/** A client of a running daemon, starting it when needed. */
export async function daemonClient (paths: HomePaths = homePaths()): Promise<IpcClient> {
  const client = await connectDaemon(paths)
  if (client !== null) return client
  await startDaemon(paths)
  const started = await connectDaemon(paths)
  if (started === null) throw MeshError.DAEMON_UNREACHABLE('it started but its socket does not answer')
  return started
}

/** Stops the daemon; resolves once it has exited. */
export async function stopDaemon (paths: HomePaths = homePaths()): Promise<{ pid: number } | null> {
  const client = await connectDaemon(paths)
  if (client === null) return null
  const closed = client.closed()
  const res = await client.request('stop')
  await closed
  await waitForExit(res.pid)
  return { pid: res.pid }
}

async function waitForExit (pid: number): Promise<void> {
  const deadline = Date.now() + 15_000
  while (Date.now() < deadline && isRunning(pid)) await new Promise((resolve) => setTimeout(resolve, 10))
}


