// The PreToolUse hook on Claude Code's file-editing tools (Edit, Write, MultiEdit, NotebookEdit):
// before the edit, the daemon looks up the target against live claims. A file another session
// holds exclusively gets `permissionDecision: "ask"` (or "deny", by settings.json) with the holder,
// its note and until when; a file this session holds, or nobody holds, passes silently. It never
// holds Claude Code up: with no daemon (or no answer in time) it passes and says why on stderr.
import type { ClaimCheck } from '../daemon/contract.js'

export const GUARDED_TOOLS = ['Edit', 'Write', 'MultiEdit', 'NotebookEdit'] as const
export const GUARD_MATCHER = GUARDED_TOOLS.join('|')
const ANSWER_MS = 1000

/** The file a tool call edits, from Claude Code's PreToolUse input; null for other tools. */
export function targetOf (input: Record<string, unknown>): string | null {
  if (typeof input.tool_name !== 'string' || !(GUARDED_TOOLS as readonly string[]).includes(input.tool_name)) return null
  const args = input.tool_input
  if (args === null || typeof args !== 'object') return null
  const { file_path: file, notebook_path: notebook } = args as { file_path?: unknown, notebook_path?: unknown }
  const target = typeof file === 'string' ? file : typeof notebook === 'string' ? notebook : null
  return target !== null && target.length > 0 && target.length <= 4096 ? target : null
}

/** What Claude Code reads from the hook's stdout (hooks reference, PreToolUse decision control); null: pass. */
export function guardOutput (check: ClaimCheck): string | null {
  const c = check.holder
  if (c === null) return null
  const note = c.note !== '' ? ` (${c.note.replace(/[\u0000-\u001f\u007f]/g, ' ')})` : ''
  const reason = `claudemesh: ${check.path ?? 'this file'} is claimed ${c.status === 'pending' ? '(pending) ' : ''}by session ${c.session.name} on ${c.by.member}${note} until ${new Date(c.expiresAt).toISOString()} (claim ${c.id}, ${c.paths.join(', ')}). Ask ${c.session.name} with send_message before editing it, or wait until it is released.`
  return JSON.stringify({ hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: check.decision, permissionDecisionReason: reason } })
}

export async function runGuard (input: Record<string, unknown>, pids: number[]): Promise<string | null> {
  const target = targetOf(input)
  if (target === null) return null
  const cwd = typeof input.cwd === 'string' ? input.cwd : process.cwd()
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<'late'>((resolve) => { timer = setTimeout(() => resolve('late'), ANSWER_MS) })
  const ask = (async (): Promise<ClaimCheck | 'down'> => {
    const { connectDaemon } = await import('./daemon-client.js')
    const client = await connectDaemon()
    if (client === null) return 'down'
    try {
      return await client.request('claims.check', { pids, path: target, cwd })
    } finally {
      client.close()
    }
  })()
  ask.catch(() => {})
  try {
    const answer = await Promise.race([ask, timeout])
    if (answer === 'down') { process.stderr.write('claudemesh hook: the daemon is not running, so claims were not checked; the edit goes ahead\n'); return null }
    if (answer === 'late') { process.stderr.write(`claudemesh hook: the daemon did not answer within ${ANSWER_MS} ms, so claims were not checked; the edit goes ahead\n`); return null }
    return guardOutput(answer)
  } catch (err) {
    process.stderr.write(`claudemesh hook: claims were not checked (${(err as Error).message}); the edit goes ahead\n`)
    return null
  } finally {
    clearTimeout(timer)
  }
}
