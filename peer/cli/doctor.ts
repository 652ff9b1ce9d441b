// `claudemesh doctor`: checks with a fix for each failure.
import fs from 'node:fs'
import os from 'node:os'
import { spawnSync } from 'node:child_process'
import { hookCommand, installedHookCommand } from './install.js'
import { homePaths } from '../daemon/home.js'
import path from 'node:path'
import { connectDaemon, startDaemon } from './daemon-client.js'
import { findOnPath, claudemeshCommand, shellQuote, GUARD_SCRIPT } from './claude-config.js'
import { claudeVersion, signIn, delivery } from './claude-code.js'
import type { SessionInfo } from '../../protocol/session-wire.js'

export interface Check { name: string, ok: boolean, detail: string, fix: string }

const MAX_SKEW_MS = 60_000

export async function runDoctor (): Promise<Check[]> {
  const paths = homePaths()
  const checks: Check[] = []
  const major = Number(process.versions.node.split('.')[0])
  checks.push({ name: 'node', ok: major >= 20, detail: `Node.js ${process.versions.node}`, fix: 'install Node.js 20 or newer' })

  let mode: number | null = null
  try { mode = fs.statSync(paths.root).mode & 0o777 } catch {}
  checks.push(mode === null
    ? { name: 'home', ok: true, detail: `${paths.root} does not exist yet (made on first use)`, fix: '' }
    : { name: 'home', ok: (mode & 0o077) === 0, detail: `${paths.root} mode ${mode.toString(8)}`, fix: `chmod 700 ${paths.root}` })

  checks.push(messagePath(paths.root))

  let client = await connectDaemon(paths)
  if (client === null) {
    try {
      await startDaemon(paths)
      client = await connectDaemon(paths)
    } catch (err) {
      checks.push({ name: 'daemon', ok: false, detail: (err as Error).message, fix: `read ${paths.log}, then run \`claudemesh daemon start\`` })
      return checks
    }
  }
  if (client === null) {
    checks.push({ name: 'daemon', ok: false, detail: 'its socket does not answer', fix: `read ${paths.log}, then run \`claudemesh daemon stop\` and \`claudemesh daemon start\`` })
    return checks
  }
  try {
    const status = await client.request('status')
    let sockMode = 0
    try { sockMode = fs.statSync(paths.socket).mode & 0o777 } catch {}
    checks.push({ name: 'daemon', ok: (sockMode & 0o077) === 0, detail: `running, pid ${status.pid}, socket mode ${sockMode.toString(8)}`, fix: `chmod 600 ${paths.socket}` })
    checks.push(guardCheck(paths.guard))
    for (const mesh of status.meshes) {
      try {
        const ping = await client.request('relay.ping', { mesh: mesh.name })
        checks.push({ name: `relay ${mesh.name}`, ok: true, detail: `${mesh.relay.addresses.join(', ')} answers in ${ping.rttMs} ms`, fix: '' })
        const skew = Math.round(ping.skewMs)
        checks.push({ name: `clock ${mesh.name}`, ok: Math.abs(skew) <= MAX_SKEW_MS, detail: `${skew} ms from the relay's clock`, fix: 'turn on time sync (for example `timedatectl set-ntp true`); invites and owner requests depend on the clock' })
      } catch (err) {
        checks.push({ name: `relay ${mesh.name}`, ok: false, detail: (err as Error).message, fix: `check that the relay at ${mesh.relay.addresses.join(', ')} runs and that its UDP port is reachable from here` })
      }
    }
    // each live session of this machine, and the path it really has
    const meshes = await client.request('sessions.list')
    for (const { mesh, sessions } of meshes) {
      for (const s of sessions) {
        if (s.member !== status.swarmKey) continue
        const hooks = s.receives === 'hooks'
        checks.push({
          name: `session ${s.name}`,
          ok: true,
          detail: `mesh ${mesh}: receives messages by ${s.receives ?? 'an unknown path'}${hooks ? ' (at its next prompt, the end of a turn, or check_messages; an idle session is not woken)' : ''}`,
          fix: ''
        })
      }
    }
  } finally {
    client.close()
  }
  return checks
}

/**
 * The guard before edits as Claude Code runs it (the command install wrote, else the one it would
 * write), on a file nobody claims: it must answer through bash and the guard port, saying nothing.
 */
function guardCheck (guardFile: string): Check {
  const restart = 'restart the daemon: `claudemesh daemon stop`, then `claudemesh daemon start`'
  if (!fs.existsSync(guardFile)) return { name: 'guard', ok: false, detail: `the daemon has no guard port (${guardFile} is missing): the guard before edits asks through a Node process, ~70 ms an edit`, fix: restart }
  const installed = installedHookCommand('PreToolUse')
  const command = installed ?? hookCommand(claudemeshCommand(), 'PreToolUse')
  const which = installed !== null ? 'the installed guard' : 'the guard `claudemesh install` would add'
  if (!command.includes(shellQuote(GUARD_SCRIPT))) return { name: 'guard', ok: false, detail: `${which} is the Node hook (\`claudemesh hook PreToolUse\`), ~70 ms an edit: ${installed !== null ? 'installed by an older claudemesh or without bash' : 'bash was not found (on PATH or at /bin/bash)'}`, fix: 'install bash, then run `claudemesh install` again' }
  const probe = { hook_event_name: 'PreToolUse', tool_name: 'Edit', tool_input: { file_path: path.join(os.tmpdir(), 'claudemesh-doctor-probe') }, cwd: os.tmpdir() }
  const started = Date.now()
  const res = spawnSync('/bin/sh', ['-c', command], { input: JSON.stringify(probe), encoding: 'utf-8', timeout: 10_000, env: { ...process.env, CLAUDEMESH_DEBUG: '1' } })
  const ms = Date.now() - started
  const said = (res.stderr ?? '').trim()
  if (res.status === 0 && said === '') return { name: 'guard', ok: true, detail: `${which} answers through bash and the guard port in ${ms} ms`, fix: '' }
  return { name: 'guard', ok: false, detail: `${which}: ${said.split('\n')[0] ?? `exit ${String(res.status)}`}`, fix: `${restart}; if it persists, run \`claudemesh install\` again` }
}

/** Which path sessions started on this machine get, and why; a failure when that is hooks and they are not installed. */
function messagePath (home: string): Check {
  const claude = findOnPath('claude')
  if (claude === null) return { name: 'messages', ok: true, detail: 'claude is not on PATH here: nothing to check for sessions on this machine', fix: '' }
  const d = delivery(claudeVersion(claude), signIn())
  const installed = fs.existsSync(path.join(home, 'install.json'))
  const ok = d.receives !== 'hooks' || installed
  return {
    name: 'messages',
    ok,
    detail: `${d.receives}: ${d.why}${d.receives === 'hooks' ? (installed ? ' (hooks are installed)' : ' (hooks are NOT installed)') : ''}`,
    fix: 'run `claudemesh install` (hooks), or update Claude Code to 2.1.224 or later (its session inbox): `npm install -g @anthropic-ai/claude-code`'
  }
}
