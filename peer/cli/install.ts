// `claudemesh install` / `uninstall`: register claudemesh with Claude Code (user-scope MCP server,
// hooks, guidance) merged into the user's own files, record exactly what was added in
// $CLAUDEMESH_HOME/install.json, and remove exactly that again.
import fs from 'node:fs'
import path from 'node:path'
import crypto from 'node:crypto'
import { spawnSync } from 'node:child_process'
import {
  claudePaths, claudemeshCommand, findOnPath, GUARD_SCRIPT, readJsonFile, formatJson, readText, writeText, shellQuote, isPlainObject,
  type JsonFile, type JsonObject
} from './claude-config.js'
import { GUIDANCE, IMPORT_LINE } from './guidance.js'
import { HOOK_EVENTS } from './hook.js'
import { GUARD_MATCHER } from './guard-hook.js'
import { homeDir, ensureHome, homePaths, writeFileAtomic } from '../daemon/home.js'

export const SERVER_NAME = 'claudemesh'
/** seconds Claude Code waits for one of our hooks; the hook itself gives up after about 2.5 s */
export const HOOK_TIMEOUT_S = 10
const RECORD_VERSION = 1

type McpRecord =
  | { via: 'claude', name: string }
  | { via: 'file', file: string, entry: JsonObject, previous: unknown, createdFile: boolean, createdKey: boolean }

export interface InstallRecord {
  version: number
  installedAt: string
  home: string
  invocation: { command: string, args: string[] }
  mcp: McpRecord | null
  hooks: { file: string, createdFile: boolean, createdKey: boolean, entries: Array<{ event: string, command: string, createdEvent: boolean }> } | null
  guidance: { file: string, sha256: string } | null
  memory: { file: string, line: string, appended: string, createdFile: boolean } | null
  createdDir: string | null
}

export interface Report { done: string[], notes: string[], replaced?: boolean }

function recordPath (): string {
  return path.join(homeDir(), 'install.json')
}

function readRecord (): InstallRecord | null {
  const file = recordPath()
  let text: string
  try {
    text = fs.readFileSync(file, 'utf-8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw err
  }
  try {
    const record = JSON.parse(text) as InstallRecord
    if (record.version !== RECORD_VERSION) throw new Error(`version ${String(record.version)}`)
    return record
  } catch (err) {
    throw new Error(`${file} is not an install record this claudemesh understands (${(err as Error).message}). Move it away to start over; nothing was changed.`)
  }
}

/** The command `claudemesh install` wrote for a hook event, or null when it is not installed (or the record is unreadable). */
export function installedHookCommand (event: string): string | null {
  try {
    return readRecord()?.hooks?.entries.find((e) => e.event === event)?.command ?? null
  } catch {
    return null
  }
}

function writeRecord (record: InstallRecord): void {
  ensureHome(homePaths())
  writeFileAtomic(recordPath(), JSON.stringify(record, null, 2) + '\n')
}

const sha256 = (text: string): string => crypto.createHash('sha256').update(text).digest('hex')
const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b)

/** A file change worked out before anything is touched, so bad input changes nothing. */
type Change = { kind: 'write', file: { path: string, mode: number | null }, text: string, mode: number } | { kind: 'delete', path: string }

function apply (changes: Change[]): void {
  for (const c of changes) {
    if (c.kind === 'write') writeText({ path: c.file.path, mode: c.file.mode, text: null }, c.text, c.mode)
    else fs.rmSync(c.path, { force: true })
  }
}

function jsonChange (json: JsonFile, deleteIfEmpty: boolean): Change {
  if (deleteIfEmpty && Object.keys(json.value).length === 0) return { kind: 'delete', path: json.file.path }
  return { kind: 'write', file: json.file, text: formatJson(json), mode: 0o600 }
}

function runClaude (claude: string, args: string[]): { ok: boolean, output: string } {
  const res = spawnSync(claude, args, { encoding: 'utf-8', env: process.env, timeout: 60_000 })
  const output = `${res.stdout ?? ''}${res.stderr ?? ''}`.trim() || (res.error?.message ?? '')
  return { ok: res.status === 0, output }
}

/** bash by absolute path (Claude Code's PATH may differ from this shell's): on PATH, else /bin/bash, else null. */
export function findBash (env: NodeJS.ProcessEnv = process.env): string | null {
  const found = findOnPath('bash', env)
  if (found !== null) return found
  try {
    fs.accessSync('/bin/bash', fs.constants.X_OK)
    return '/bin/bash'
  } catch {
    return null
  }
}

/**
 * The command Claude Code runs for a hook. The guard before edits is bash running the guard's
 * script (it must answer faster than Node starts), handed the claudemesh command to fall back on;
 * without bash it is the Node hook.
 */
export function hookCommand (invocation: { command: string, args: string[] }, event: string, bash: string | null = findBash()): string {
  const node = [invocation.command, ...invocation.args, 'hook', event].map(shellQuote).join(' ')
  if (event !== 'PreToolUse' || bash === null) return node
  // a bash that is gone later must not fail every edit: then the Node hook
  return `[ -x ${shellQuote(bash)} ] && exec ${[bash, GUARD_SCRIPT, invocation.command, ...invocation.args].map(shellQuote).join(' ')} || exec ${node}`
}

function checkHooksShape (json: JsonFile, file: string): void {
  const hooks = json.value.hooks
  if (hooks === undefined) return
  if (!isPlainObject(hooks)) throw new Error(`${file}: "hooks" must be an object of event names to arrays; fix it, then run the command again. Nothing was changed.`)
  for (const event of HOOK_EVENTS) {
    if (hooks[event] !== undefined && !Array.isArray(hooks[event])) throw new Error(`${file}: "hooks.${event}" must be an array; fix it, then run the command again. Nothing was changed.`)
  }
}

/** Installs claudemesh into Claude Code for this HOME. A second install replaces the first cleanly. */
export async function runInstall (): Promise<{ record: InstallRecord, report: Report }> {
  const previous = readRecord()
  const report: Report = { done: [], notes: [] }
  if (previous !== null) {
    // start from the user's own files again: the previous install comes out first
    const undone = uninstallRecord(previous)
    report.notes.push(...undone.notes)
    report.replaced = true
    fs.rmSync(recordPath(), { force: true })
  }
  const paths = claudePaths()
  const invocation = claudemeshCommand()
  const record: InstallRecord = {
    version: RECORD_VERSION,
    installedAt: new Date().toISOString(),
    home: paths.home,
    invocation,
    mcp: null,
    hooks: null,
    guidance: null,
    memory: null,
    createdDir: null
  }

  // work everything out first
  const claude = findOnPath('claude')
  const changes: Change[] = []
  const dirExisted = fs.existsSync(paths.dir)

  let mcpFile: McpRecord | null = null
  if (claude === null) {
    const config = readJsonFile(paths.userConfig, '~/.claude.json')
    const servers = config.value.mcpServers
    if (servers !== undefined && !isPlainObject(servers)) throw new Error(`${paths.userConfig}: "mcpServers" must be an object; fix it, then run the command again. Nothing was changed.`)
    const entry: JsonObject = { type: 'stdio', command: invocation.command, args: [...invocation.args, 'mcp'], env: {} }
    const createdKey = servers === undefined
    const map: JsonObject = servers ?? {}
    const before = map[SERVER_NAME] ?? null
    map[SERVER_NAME] = entry
    config.value.mcpServers = map
    changes.push(jsonChange(config, false))
    mcpFile = { via: 'file', file: config.file.path, entry, previous: before, createdFile: config.file.text === null, createdKey }
    if (before !== null && !same(before, entry)) report.notes.push(`~/.claude.json already had an MCP server named "${SERVER_NAME}"; it is replaced, and uninstall puts it back.`)
  }

  const settings = readJsonFile(paths.settings, '~/.claude/settings.json')
  checkHooksShape(settings, paths.settings)
  const hooksCreated = settings.value.hooks === undefined
  const hooks = (settings.value.hooks ?? {}) as Record<string, unknown[]>
  const entries: Array<{ event: string, command: string, createdEvent: boolean }> = []
  const bash = findBash()
  if (bash === null) report.notes.push('bash was not found (on PATH or at /bin/bash), so the guard before edits runs on Node: slower (~70 ms an edit instead of ~6 ms). Install bash, then run `claudemesh install` again.')
  for (const event of HOOK_EVENTS) {
    const command = hookCommand(invocation, event, bash)
    const list = hooks[event] ?? []
    const present = list.some((group) => isPlainObject(group) && Array.isArray(group.hooks) && group.hooks.some((h) => isPlainObject(h) && h.command === command))
    if (present) {
      report.notes.push(`~/.claude/settings.json already runs "${command}" on ${event}; left as it is (and uninstall leaves it too).`)
      continue
    }
    entries.push({ event, command, createdEvent: hooks[event] === undefined })
    // the guard runs only before Claude Code's file edits
    list.push({ ...(event === 'PreToolUse' ? { matcher: GUARD_MATCHER } : {}), hooks: [{ type: 'command', command, timeout: HOOK_TIMEOUT_S }] })
    hooks[event] = list
  }
  if (entries.length > 0) {
    settings.value.hooks = hooks
    changes.push(jsonChange(settings, false))
    record.hooks = { file: settings.file.path, createdFile: settings.file.text === null, createdKey: hooksCreated, entries }
  }

  const guidance = readText(paths.guidance)
  if (guidance.text === null || guidance.text === GUIDANCE) {
    if (guidance.text === null) changes.push({ kind: 'write', file: guidance, text: GUIDANCE, mode: 0o644 })
    record.guidance = { file: guidance.path, sha256: sha256(GUIDANCE) }
  } else {
    report.notes.push(`${paths.guidance} exists with other content; left as it is.`)
  }

  const memory = readText(paths.memory)
  const lines = (memory.text ?? '').split('\n').map((l) => l.trim())
  if (lines.includes(IMPORT_LINE)) {
    report.notes.push(`${paths.memory} already imports ${IMPORT_LINE}; left as it is.`)
  } else {
    const text = memory.text ?? ''
    const appended = text === '' ? `${IMPORT_LINE}\n` : `${text.endsWith('\n') ? '' : '\n'}\n${IMPORT_LINE}\n`
    changes.push({ kind: 'write', file: memory, text: text + appended, mode: 0o644 })
    record.memory = { file: memory.path, line: IMPORT_LINE, appended, createdFile: memory.text === null }
  }

  // then change things: Claude Code's own command first, since it can fail
  let touched = false
  try {
    if (claude !== null) {
      const res = runClaude(claude, ['mcp', 'add', '-s', 'user', SERVER_NAME, '--', invocation.command, ...invocation.args, 'mcp'])
      if (res.ok) {
        record.mcp = { via: 'claude', name: SERVER_NAME }
        report.done.push(`MCP server "${SERVER_NAME}" added at user scope: claude mcp add -s user ${SERVER_NAME} -- ${[invocation.command, ...invocation.args, 'mcp'].map(shellQuote).join(' ')}`)
      } else if (/already exists/i.test(res.output)) {
        report.notes.push(`Claude Code already has an MCP server named "${SERVER_NAME}" (${res.output.split('\n')[0]}); left as it is. To replace it: claude mcp remove -s user ${SERVER_NAME}, then claudemesh install.`)
      } else {
        const changed = report.replaced === true ? 'The previous install was taken out; nothing new was added.' : 'Nothing was changed.'
        throw new Error(`\`claude mcp add -s user ${SERVER_NAME} ...\` failed: ${res.output || 'no output'}. ${changed}`)
      }
    }
    if (!dirExisted && changes.some((c) => c.kind === 'write' && c.file.path.startsWith(paths.dir + path.sep))) record.createdDir = paths.dir
    if (mcpFile !== null) record.mcp = mcpFile
    touched = true
    apply(changes)
    if (mcpFile !== null) report.done.push(`MCP server "${SERVER_NAME}" added at user scope in ${paths.userConfig} (claude is not on PATH)`)
    if (record.hooks !== null) report.done.push(`hooks ${record.hooks.entries.map((e) => e.event).join(', ')} added to ${paths.settings}`)
    if (record.guidance !== null) report.done.push(`guidance in ${paths.guidance}`)
    if (record.memory !== null) report.done.push(`"${IMPORT_LINE}" import added to ${paths.memory}`)
  } finally {
    // a record of what may have been changed, so uninstall can take it out again
    if (record.mcp !== null || (touched && (record.hooks !== null || record.guidance !== null || record.memory !== null))) writeRecord(record)
  }
  return { record, report }
}

/** Removes exactly what the recorded install added. */
export async function runUninstall (): Promise<Report & { installed: boolean }> {
  const record = readRecord()
  if (record === null) return { installed: false, done: [], notes: [] }
  const report = uninstallRecord(record)
  fs.rmSync(recordPath(), { force: true })
  return { installed: true, ...report }
}

function uninstallRecord (record: InstallRecord): Report {
  const report: Report = { done: [], notes: [] }
  const changes: Change[] = []
  let mcpFile: JsonFile | null = null
  if (record.mcp?.via === 'file') {
    const mcp = record.mcp
    mcpFile = readJsonFile(mcp.file, '~/.claude.json')
    const servers = mcpFile.value.mcpServers
    if (isPlainObject(servers) && same(servers[SERVER_NAME], mcp.entry)) {
      if (mcp.previous !== null && mcp.previous !== undefined) servers[SERVER_NAME] = mcp.previous
      else delete servers[SERVER_NAME]
      if (mcp.createdKey && Object.keys(servers).length === 0) delete mcpFile.value.mcpServers
      changes.push(jsonChange(mcpFile, mcp.createdFile))
      report.done.push(`MCP server "${SERVER_NAME}" removed from ${mcp.file}`)
    } else {
      report.notes.push(`the "${SERVER_NAME}" MCP server in ${mcp.file} was changed or removed since install; left as it is.`)
    }
  }

  if (record.hooks !== null) {
    const rec = record.hooks
    const settings = readJsonFile(rec.file, '~/.claude/settings.json')
    const hooks = settings.value.hooks
    let removed = 0
    if (isPlainObject(hooks)) {
      for (const entry of rec.entries) {
        const list = hooks[entry.event]
        if (!Array.isArray(list)) continue
        for (let i = 0; i < list.length; i++) {
          const group = list[i]
          if (!isPlainObject(group) || !Array.isArray(group.hooks)) continue
          const at = group.hooks.findIndex((h) => isPlainObject(h) && h.command === entry.command)
          if (at === -1) continue
          group.hooks.splice(at, 1)
          if (group.hooks.length === 0) list.splice(i, 1)
          removed++
          break
        }
        if (entry.createdEvent && list.length === 0) delete hooks[entry.event]
      }
      if (rec.createdKey && Object.keys(hooks).length === 0) delete settings.value.hooks
    }
    if (removed > 0) {
      changes.push(jsonChange(settings, rec.createdFile))
      report.done.push(`${removed} hook${removed === 1 ? '' : 's'} removed from ${rec.file}`)
    }
    if (removed < rec.entries.length) report.notes.push(`${rec.entries.length - removed} of the hooks install added were no longer in ${rec.file}.`)
  }

  if (record.guidance !== null) {
    const guidance = readText(record.guidance.file)
    if (guidance.text !== null && sha256(guidance.text) === record.guidance.sha256) {
      changes.push({ kind: 'delete', path: guidance.path })
      report.done.push(`${record.guidance.file} removed`)
    } else if (guidance.text !== null) {
      report.notes.push(`${record.guidance.file} was edited since install; kept.`)
    }
  }

  if (record.memory !== null) {
    const mem = record.memory
    const memory = readText(mem.file)
    if (memory.text !== null) {
      let text = memory.text
      if (text.endsWith(mem.appended)) {
        text = text.slice(0, text.length - mem.appended.length)
      } else {
        const lines = text.split('\n')
        const at = lines.findIndex((l) => l.trim() === mem.line)
        if (at !== -1) lines.splice(at, 1)
        text = lines.join('\n')
      }
      if (text !== memory.text) {
        changes.push(mem.createdFile && text.trim() === '' ? { kind: 'delete', path: memory.path } : { kind: 'write', file: memory, text, mode: 0o644 })
        report.done.push(`"${mem.line}" import removed from ${mem.file}`)
      }
    }
  }

  // Claude Code's own command, then the files
  if (record.mcp?.via === 'claude') {
    const claude = findOnPath('claude')
    if (claude === null) {
      report.notes.push(`claude is not on PATH, so the "${SERVER_NAME}" MCP server could not be removed; run: claude mcp remove -s user ${SERVER_NAME}`)
    } else {
      const res = runClaude(claude, ['mcp', 'remove', '-s', 'user', SERVER_NAME])
      if (res.ok) report.done.push(`MCP server "${SERVER_NAME}" removed: claude mcp remove -s user ${SERVER_NAME}`)
      else report.notes.push(`claude mcp remove -s user ${SERVER_NAME} failed (${res.output.split('\n')[0] || 'no output'}); it may be gone already.`)
    }
  }
  apply(changes)
  if (record.createdDir !== null) {
    try {
      fs.rmdirSync(record.createdDir) // only when empty: anything else in it is the user's
    } catch {}
  }
  return report
}
