// Claude Code's files and binary as claudemesh sees them: where they are, how to read and rewrite
// them without disturbing the user's own content, and how to find a command on PATH.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { writeFileAtomic } from '../daemon/home.js'

/** Absolute path of this package's `claudemesh` entry point (dist/peer/cli/bin.js). */
export const BIN_PATH = fileURLToPath(new URL('./bin.js', import.meta.url))

/** The PreToolUse guard's bash script (hooks/pre-tool-use.sh at the package's root). */
export const GUARD_SCRIPT = fileURLToPath(new URL('../../../hooks/pre-tool-use.sh', import.meta.url))

export const CLAUDE_INSTALL_HINT = 'install Claude Code with `npm install -g @anthropic-ai/claude-code`'

export interface ClaudePaths {
  home: string
  /** ~/.claude */
  dir: string
  /** ~/.claude.json: user-scope MCP servers live under `mcpServers` */
  userConfig: string
  /** ~/.claude/settings.json: hooks */
  settings: string
  /** ~/.claude/CLAUDE.md: user memory, where the import line goes */
  memory: string
  /** ~/.claude/CLAUDEMESH.md: our guidance */
  guidance: string
}

/** The user's home: HOME from the environment (tests set a temp one), else the OS's idea of it. */
export function userHome (env: NodeJS.ProcessEnv = process.env): string {
  const home = env.HOME
  return home !== undefined && home.trim() !== '' ? path.resolve(home) : os.homedir()
}

export function claudePaths (home = userHome()): ClaudePaths {
  const dir = path.join(home, '.claude')
  return {
    home,
    dir,
    userConfig: path.join(home, '.claude.json'),
    settings: path.join(dir, 'settings.json'),
    memory: path.join(dir, 'CLAUDE.md'),
    guidance: path.join(dir, 'CLAUDEMESH.md')
  }
}

/** The first executable file called `name` in PATH, or null. */
export function findOnPath (name: string, env: NodeJS.ProcessEnv = process.env): string | null {
  const dirs = (env.PATH ?? '').split(path.delimiter).filter((d) => d !== '')
  for (const dir of dirs) {
    const candidate = path.resolve(dir, name)
    try {
      const stat = fs.statSync(candidate)
      if (!stat.isFile()) continue
      fs.accessSync(candidate, fs.constants.X_OK)
      return candidate
    } catch {}
  }
  return null
}

/** Quotes one word for a POSIX shell (hook commands run through one). */
export function shellQuote (word: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`
}

/**
 * How Claude Code should start claudemesh: the bare `claudemesh` when it is on PATH (a global
 * install or `npm link`), else this Node and this package's bin.js by absolute path, so a checkout
 * without a global install works too.
 */
export function claudemeshCommand (env: NodeJS.ProcessEnv = process.env): { command: string, args: string[] } {
  if (findOnPath('claudemesh', env) !== null) return { command: 'claudemesh', args: [] }
  return { command: process.execPath, args: [BIN_PATH] }
}

/** A text file as found: its bytes (null when absent) and its mode. */
export interface TextFile {
  path: string
  text: string | null
  mode: number | null
}

/** Reads a file, following a symlink to the real file so rewriting it keeps the link. */
export function readText (file: string): TextFile {
  let real = file
  try {
    real = fs.realpathSync(file)
  } catch {}
  try {
    const text = fs.readFileSync(real, 'utf-8')
    return { path: real, text, mode: fs.statSync(real).mode & 0o777 }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { path: real, text: null, mode: null }
    throw err
  }
}

/** Writes a file atomically (temp file, fsync, rename), keeping the mode it had. */
export function writeText (file: TextFile, text: string, newMode = 0o644): void {
  fs.mkdirSync(path.dirname(file.path), { recursive: true })
  writeFileAtomic(file.path, text, file.mode ?? newMode)
  if (file.mode !== null) fs.chmodSync(file.path, file.mode)
}

export type JsonObject = Record<string, unknown>

/** A JSON file whose top level is an object, with the layout needed to write it back alike. */
export interface JsonFile {
  file: TextFile
  value: JsonObject
  indent: string | number
  trailingNewline: boolean
}

/** Reads a JSON object file; an absent or empty file is `{}`. Bad JSON is an error naming the file. */
export function readJsonFile (file: string, label: string): JsonFile {
  const text = readText(file)
  if (text.text === null || text.text.trim() === '') return { file: text, value: {}, indent: 2, trailingNewline: true }
  let value: unknown
  try {
    value = JSON.parse(text.text)
  } catch (err) {
    throw new Error(`${label} (${file}) is not valid JSON (${(err as Error).message}). Fix or move it, then run the command again; nothing was changed.`)
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new Error(`${label} (${file}) must hold a JSON object at the top level. Fix or move it, then run the command again; nothing was changed.`)
  }
  const indent = detectIndent(text.text, Object.keys(value).length === 0)
  return { file: text, value: value as JsonObject, indent, trailingNewline: text.text.endsWith('\n') }
}

/** The JSON text for a file, in the indentation it already used (2 spaces for a new file). */
export function formatJson (json: JsonFile): string {
  return JSON.stringify(json.value, null, json.indent) + (json.trailingNewline ? '\n' : '')
}

/** The indentation a JSON text uses: a number of spaces, a tab, or 0 for a one-line file. */
function detectIndent (text: string, empty: boolean): string | number {
  const m = /\n([ \t]+)["}\]]/.exec(text)
  if (m === null) return empty || text.trim().includes('\n') ? 2 : 0
  const ws = m[1]
  if (ws.startsWith('\t')) return '\t'
  return Math.min(ws.length, 10)
}

export function isPlainObject (value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}
