// Where a member's data lives: CLAUDEMESH_HOME (default ~/.claudemesh), mode 0700.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

export interface HomePaths {
  root: string
  socket: string
  pid: string
  log: string
  store: string
  meshes: string
  relay: string
  settings: string
  /** the guard port's number and secrets, for the PreToolUse hook's script */
  guard: string
}

export function homeDir (env: NodeJS.ProcessEnv = process.env): string {
  const configured = env.CLAUDEMESH_HOME
  if (configured !== undefined && configured.trim() !== '') return path.resolve(configured)
  return path.join(os.homedir(), '.claudemesh')
}

export function homePaths (root = homeDir()): HomePaths {
  return {
    root,
    socket: path.join(root, 'daemon.sock'),
    pid: path.join(root, 'daemon.pid'),
    log: path.join(root, 'daemon.log'),
    store: path.join(root, 'store'),
    meshes: path.join(root, 'meshes.json'),
    relay: path.join(root, 'relay'),
    settings: path.join(root, 'settings.json'),
    guard: path.join(root, 'guard')
  }
}

/** A mesh's own folder (its memory index snapshot lives there), named for its corestore namespace. */
export function meshDir (paths: HomePaths, namespace: string): string {
  return path.join(paths.root, 'meshes', namespace)
}

export function ensureHome (paths: HomePaths): void {
  fs.mkdirSync(paths.root, { recursive: true, mode: 0o700 })
  fs.chmodSync(paths.root, 0o700)
}

/** Writes a file atomically: temp file, fsync, rename, fsync of the folder (so the rename itself survives a crash). */
export function writeFileAtomic (file: string, data: string, mode = 0o600): void {
  const tmp = `${file}.${process.pid}.tmp`
  const fd = fs.openSync(tmp, 'w', mode)
  try {
    fs.writeSync(fd, data)
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
  fs.renameSync(tmp, file)
  const dir = fs.openSync(path.dirname(file), 'r')
  try { fs.fsyncSync(dir) } finally { fs.closeSync(dir) }
}

export function readJson<T> (file: string, fallback: T): T {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf-8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return fallback
    throw err
  }
  return JSON.parse(text) as T
}
