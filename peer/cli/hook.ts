// `claudemesh hook <event>`: what Claude Code's hooks run. It tells a running daemon about the
// session's lifecycle and hands messages held for it to Claude (as context on UserPromptSubmit,
// as the reason to go on at Stop).
// It must never hold Claude up for long and never fail the session: every path exits 0.
// Imports stay light (no zod, no holepunch): this runs on every prompt.
import { lineageOf } from '../daemon/process.js'
import { LIMITS } from '../../protocol/limits.js'
import type { HookAnswer, Params } from '../daemon/contract.js'

export const HOOK_EVENTS = ['SessionStart', 'UserPromptSubmit', 'Stop', 'SessionEnd', 'PreToolUse'] as const
export type HookEvent = typeof HOOK_EVENTS[number]

const STDIN_TIMEOUT_MS = 1000
const DAEMON_TIMEOUT_MS = 1500
/** events whose hook output may carry `hookSpecificOutput.additionalContext` (Claude Code hooks reference) */
const CONTEXT_EVENTS = new Set<string>(['UserPromptSubmit', 'SessionStart'])


export async function runHook (event: string | undefined): Promise<void> {
  // whatever goes wrong, the session goes on
  process.on('uncaughtException', (err) => { debug(err); process.exit(0) })
  process.on('unhandledRejection', (err) => { debug(err); process.exit(0) })
  try {
    if (event === undefined || !(HOOK_EVENTS as readonly string[]).includes(event)) {
      process.stderr.write(`claudemesh hook: ${event === undefined ? 'no event given' : `unknown event "${event}"`}; expected one of ${HOOK_EVENTS.join(', ')}. Claude Code runs this command from the hooks \`claudemesh install\` adds.\n`)
      return
    }
    const text = await readStdin()
    if (event === 'PreToolUse' && text === null) {
      process.stderr.write(`claudemesh hook: the tool call is over ${LIMITS.hookInput / 1024 / 1024} MiB, so claims were not checked; the edit goes ahead\n`)
      return
    }
    const input = parseInput(text ?? '')
    if (event === 'PreToolUse') {
      const { runGuard } = await import('./guard-hook.js')
      const out = await runGuard(input, ancestorPids())
      if (out !== null) await new Promise<void>((resolve) => process.stdout.write(out + '\n', () => resolve()))
      return
    }
    const answer = await askDaemon({
      event: event as Params<'hook'>['event'],
      pids: ancestorPids(),
      cwd: typeof input.cwd === 'string' ? input.cwd : process.cwd(),
      claudeSessionId: typeof input.session_id === 'string' ? input.session_id : null
    })
    const out = answer === null ? null : hookOutput(event, answer)
    if (out !== null) await new Promise<void>((resolve) => process.stdout.write(out + '\n', () => resolve()))
  } catch (err) {
    debug(err)
  } finally {
    process.exitCode = 0
  }
}

/**
 * What to print for Claude Code, or null (Claude Code hooks reference, JSON output on exit 0):
 * - UserPromptSubmit, SessionStart: `{"hookSpecificOutput": {"hookEventName", "additionalContext"}}`,
 *   added to Claude's context;
 * - Stop: `{"decision": "block", "reason"}`, so Claude goes on with the messages the daemon handed
 *   over instead of stopping (Claude Code caps consecutive blocks, and the daemon hands each message
 *   over once, so this cannot loop);
 * - SessionEnd: nothing.
 */
export function hookOutput (event: string, answer: HookAnswer): string | null {
  const context = answer.additionalContext
  if (typeof context !== 'string' || context.trim() === '') return null
  if (CONTEXT_EVENTS.has(event)) return JSON.stringify({ hookSpecificOutput: { hookEventName: event, additionalContext: context } })
  if (event === 'Stop') return JSON.stringify({ decision: 'block', reason: context })
  return null
}

/** Claude Code's JSON on stdin: read up to 8 MiB (null: more), give up after 1 s, skip a terminal (a person). */
function readStdin (): Promise<string | null> {
  if (process.stdin.isTTY === true) return Promise.resolve('')
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    let size = 0
    const finish = (): void => {
      clearTimeout(timer)
      process.stdin.removeAllListeners('data')
      process.stdin.removeAllListeners('end')
      process.stdin.on('error', () => {})
      process.stdin.pause()
      process.stdin.destroy()
      resolve(size > LIMITS.hookInput ? null : Buffer.concat(chunks).toString('utf-8'))
    }
    const timer = setTimeout(finish, STDIN_TIMEOUT_MS)
    process.stdin.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > LIMITS.hookInput) { debug(new Error('hook input over 8 MiB ignored')); chunks.length = 0; finish(); return }
      chunks.push(chunk)
    })
    process.stdin.once('end', finish)
    process.stdin.once('error', finish)
  })
}

function parseInput (text: string): Record<string, unknown> {
  if (text.trim() === '') return {}
  try {
    const value: unknown = JSON.parse(text)
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? value as Record<string, unknown> : {}
  } catch {
    debug(new Error('hook input is not JSON'))
    return {}
  }
}

/**
 * This process's ancestors, nearest first: the shell Claude Code ran us in, Claude Code itself,
 * and on up. The daemon matches them against its sessions' processes.
 */
export function ancestorPids (): number[] {
  return lineageOf(process.ppid)
}

/** Asks the daemon, only if it already runs (a hook never starts it); null on any failure or after 1.5 s. */
async function askDaemon (params: Params<'hook'>): Promise<HookAnswer | null> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<null>((resolve) => {
    timer = setTimeout(() => { debug(new Error('the daemon did not answer within 1.5 s')); resolve(null) }, DAEMON_TIMEOUT_MS)
  })
  const ask = (async (): Promise<HookAnswer | null> => {
    const { connectDaemon } = await import('./daemon-client.js')
    const client = await connectDaemon()
    if (client === null) return null
    try {
      const answer = await client.request('hook', params)
      return answer !== null && typeof answer === 'object' ? answer : null
    } finally {
      client.close()
    }
  })()
  ask.catch(() => {})
  try {
    return await Promise.race([ask, timeout])
  } catch (err) {
    debug(err)
    return null
  } finally {
    clearTimeout(timer)
  }
}

function debug (err: unknown): void {
  const flag = process.env.CLAUDEMESH_DEBUG
  if (flag === undefined || flag === '' || flag === '0') return
  process.stderr.write(`claudemesh hook: ${err instanceof Error ? err.message : String(err)}\n`)
}
