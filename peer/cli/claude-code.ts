// What this machine's Claude Code offers for getting messages to a session, so `launch` adds only
// the flags that help and `doctor` can say which path works and why:
// - its own session inbox (Claude Code 2.1.224 and later): works on every sign-in, wakes an idle session;
// - development channels: only with a claude.ai sign-in, and only where the organisation allows
//   them (an API key, Bedrock, Vertex or Foundry: the flag is ignored);
// - otherwise hooks (`claudemesh install`) and check_messages.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { spawnSync } from 'node:child_process'
import type { Receives } from '../../protocol/session-wire.js'

/** the first Claude Code with a session inbox for its MCP servers */
export const INBOX_SINCE = [2, 1, 224] as const

export interface Delivery {
  receives: Receives
  /** whether `--dangerously-load-development-channels server:claudemesh` can help */
  channelFlag: boolean
  why: string
}

/** `claude --version`: [major, minor, patch], or null when it does not say. */
export function claudeVersion (claude: string): number[] | null {
  const run = spawnSync(claude, ['--version'], { encoding: 'utf-8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] })
  const m = /(\d+)\.(\d+)\.(\d+)/.exec(run.stdout ?? '')
  return m === null ? null : [Number(m[1]), Number(m[2]), Number(m[3])]
}

function atLeast (v: number[], min: readonly number[]): boolean {
  for (let i = 0; i < min.length; i++) {
    if ((v[i] ?? 0) !== min[i]) return (v[i] ?? 0) > min[i]
  }
  return true
}

/** How Claude Code is signed in, as far as its environment and settings tell: channels need claude.ai. */
export function signIn (env: NodeJS.ProcessEnv = process.env): 'api-key' | 'provider' | 'claude.ai' {
  for (const k of ['CLAUDE_CODE_USE_BEDROCK', 'CLAUDE_CODE_USE_VERTEX', 'CLAUDE_CODE_USE_FOUNDRY']) {
    const v = env[k]
    if (v !== undefined && v !== '' && v !== '0') return 'provider'
  }
  if ((env.ANTHROPIC_API_KEY ?? '') !== '' || (env.ANTHROPIC_AUTH_TOKEN ?? '') !== '') return 'api-key'
  const config = (env.CLAUDE_CONFIG_DIR ?? '') !== '' ? env.CLAUDE_CONFIG_DIR as string : path.join(env.HOME ?? os.homedir(), '.claude')
  try {
    const settings = JSON.parse(fs.readFileSync(path.join(config, 'settings.json'), 'utf-8')) as { apiKeyHelper?: unknown }
    if (typeof settings.apiKeyHelper === 'string' && settings.apiKeyHelper !== '') return 'api-key'
  } catch {}
  return 'claude.ai'
}

/** The path a session of this Claude Code will use, and why. */
export function delivery (version: number[] | null, how: ReturnType<typeof signIn>): Delivery {
  if (version !== null && atLeast(version, INBOX_SINCE)) {
    return { receives: 'inbox', channelFlag: false, why: `Claude Code ${version.join('.')} gives claudemesh its session inbox: messages arrive as they come and wake an idle session, on any sign-in` }
  }
  const which = version === null ? 'this Claude Code (its version unknown)' : `Claude Code ${version.join('.')}`
  if (how !== 'claude.ai') {
    return { receives: 'hooks', channelFlag: false, why: `${which} has no session inbox (2.1.224 or later has), and channels need a claude.ai sign-in (this one uses ${how === 'api-key' ? 'an API key' : 'Bedrock, Vertex or Foundry'}): messages reach the session through its hooks (run \`claudemesh install\` once) and check_messages` }
  }
  return { receives: 'channel', channelFlag: true, why: `${which} has no session inbox (2.1.224 or later has): messages are pushed as channel notifications (a claude.ai sign-in where the organisation allows channels; otherwise they wait for hooks and check_messages)` }
}
