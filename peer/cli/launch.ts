// `claudemesh launch`: asks for what is missing, picks (or makes) the mesh, then runs `claude` with
// the session's identity and the claudemesh MCP server, plus the development channel flag only
// where it can help (no session inbox, a claude.ai sign-in), and says which path this session gets.
import { spawn } from 'node:child_process'
import tty from 'node:tty'
import os from 'node:os'
import { checkName, checkRole, parseGroups, formatGroups, defaultSessionName, type Group } from './identity.js'
import { findOnPath, BIN_PATH, CLAUDE_INSTALL_HINT } from './claude-config.js'
import { makeAsker } from './wizard.js'
import { claudeVersion, signIn, delivery } from './claude-code.js'
import { LIMITS } from '../../protocol/limits.js'
import { MeshError } from '../../protocol/errors.js'

export const SERVER_NAME = 'claudemesh'
export const CHANNEL_ENTRY = `server:${SERVER_NAME}`
const MCP_FLAG = '--mcp-config'
const CHANNEL_FLAG = '--dangerously-load-development-channels'
const LOCAL_MESH = 'local'

export interface LaunchOptions {
  name?: string
  role?: string
  groups?: string
  mesh?: string
  join?: string
  quiet?: boolean
  yes?: boolean
}

interface MeshInfo { name: string }

export async function runLaunch (opts: LaunchOptions, claudeArgs: string[]): Promise<void> {
  // flags first: a typo fails before anything starts
  let name = opts.name === undefined ? undefined : checkName('--name', opts.name)
  let role = opts.role === undefined ? undefined : checkRole('--role', opts.role)
  let groups = opts.groups === undefined ? undefined : parseGroups('--groups', opts.groups)
  const meshFlag = opts.mesh === undefined ? undefined : checkName('--mesh', opts.mesh, LIMITS.meshName)
  if (opts.join !== undefined && opts.join.trim() === '') throw MeshError.BAD_INPUT('--join', 'must be a claudemesh://join/... link')

  const claude = findOnPath('claude')
  if (claude === null) throw new Error(`claude is not installed or not on PATH: ${CLAUDE_INSTALL_HINT}`)

  const asker = makeAsker()
  const usedTerminal = tty.isatty(0)
  if (name === undefined) {
    name = await asker.text({ field: 'name', message: 'Session name', default: defaultSessionName(), check: (v) => checkName('name', v) })
  }
  if (role === undefined) {
    role = await asker.text({ field: 'role', message: 'Role', default: 'member', check: (v) => checkRole('role', v) })
  }
  if (groups === undefined) {
    let parsed: Group[] = []
    await asker.text({ field: 'groups', message: 'Groups, comma separated, each name or name:role', default: '', check: (v) => { parsed = parseGroups('groups', v); return v } })
    groups = parsed
  }

  const { daemonClient } = await import('./daemon-client.js')
  const client = await daemonClient()
  let mesh: string
  try {
    let joined: string | undefined
    if (opts.join !== undefined) {
      if (opts.quiet !== true) process.stderr.write('Joining the mesh (this waits for its relay and a member online)...\n')
      joined = (await client.request('join', { link: opts.join.trim() })).name
      if (opts.quiet !== true) process.stderr.write(`Joined mesh ${joined}.\n`)
    }
    const meshes = (await client.request('list')).map((m) => m.name)
    let create = false
    if (meshFlag !== undefined) {
      if (meshes.includes(meshFlag)) mesh = meshFlag
      else if (meshes.length === 0 && meshFlag === LOCAL_MESH) { mesh = meshFlag; create = true }
      else throw new MeshError('MESH_UNKNOWN', `--mesh: no mesh named "${meshFlag}" is joined here; joined: ${meshes.length === 0 ? 'none' : meshes.join(', ')}. Join it with --join <link>, or leave out --mesh.`)
    } else if (joined !== undefined) {
      mesh = joined
    } else if (meshes.length === 0) {
      mesh = LOCAL_MESH
      create = true
    } else if (meshes.length === 1) {
      mesh = meshes[0]
    } else {
      mesh = await asker.select({ field: 'mesh', message: 'Which mesh?', choices: meshes, default: meshes[0] })
    }

    if (opts.yes !== true) {
      const ok = await asker.confirm({
        field: 'confirmation',
        message: `This session will receive and act on messages from other sessions in mesh "${mesh}" (autonomous mode). Launch?`,
        default: true
      })
      if (!ok) {
        process.stderr.write('Not launched.\n')
        return
      }
    }

    if (create) {
      try {
        await client.request('create', { name: mesh })
        if (opts.quiet !== true) process.stderr.write(`Created local mesh "${mesh}" (embedded relay on loopback): other sessions on this machine join it automatically.\n`)
      } catch (err) {
        if ((err as { code?: string }).code !== 'MESH_EXISTS') throw err // another launch made it a moment ago
      }
    }
  } finally {
    client.close()
  }
  if (usedTerminal) process.stdin.pause()

  const identity: Record<string, string> = {
    CLAUDEMESH_NAME: name,
    CLAUDEMESH_ROLE: role,
    CLAUDEMESH_GROUPS: formatGroups(groups),
    CLAUDEMESH_MESH: mesh
  }
  // which path this session will have: the flag for channels only where it can help
  const path = delivery(claudeVersion(claude), signIn())
  const plan = claudeArguments(claudeArgs, identity, path.channelFlag)
  const env: Record<string, string> = { ...identity }
  if (plan.channel) env.CLAUDEMESH_CHANNELS = '1'

  if (opts.quiet !== true) {
    const groupText = groups.length === 0 ? 'none' : groups.map((g) => g.role === undefined ? g.name : `${g.name} (${g.role})`).join(', ')
    process.stderr.write(`claudemesh: starting Claude Code as ${name}, role ${role}, groups ${groupText}, mesh ${mesh}\n`)
    process.stderr.write(`claudemesh: messages: ${path.why}\n`)
    for (const note of plan.notes) process.stderr.write(`claudemesh: ${note}\n`)
  }

  process.exitCode = await runClaude(claude, plan.args, { ...process.env, ...env })
}

export interface ClaudePlan {
  args: string[]
  /** true when claudemesh runs as a development channel (ours, or the user's list names it) */
  channel: boolean
  notes: string[]
}

/**
 * The argv for `claude`: the user's arguments in their order, plus `--mcp-config <json>` and
 * `--dangerously-load-development-channels server:claudemesh` unless the user gave those flags.
 * Both flags take several values (`<configs...>`), so ours go after the user's options, where no
 * prompt of the user's can be read as one of their values, and before a `--` of the user's.
 */
export function claudeArguments (userArgs: string[], identity: Record<string, string>, channelFlag = true): ClaudePlan {
  const end = userArgs.indexOf('--')
  const options = end === -1 ? userArgs : userArgs.slice(0, end)
  let hasMcp = false
  let hasChannels = false
  let listed = false
  for (let i = 0; i < options.length; i++) {
    const arg = options[i]
    if (arg === MCP_FLAG || arg.startsWith(`${MCP_FLAG}=`)) hasMcp = true
    if (arg === CHANNEL_FLAG || arg.startsWith(`${CHANNEL_FLAG}=`)) {
      hasChannels = true
      const values = arg === CHANNEL_FLAG ? takeValues(options, i + 1) : [arg.slice(CHANNEL_FLAG.length + 1)]
      if (values.flatMap((v) => v.split(/[\s,]+/)).includes(CHANNEL_ENTRY)) listed = true
    }
  }
  const ours: string[] = []
  const notes: string[] = []
  const channel = hasChannels ? listed : channelFlag
  if (!hasMcp) ours.push(MCP_FLAG, mcpConfig(identity, channel))
  else notes.push(`your own ${MCP_FLAG} is passed as is: it must register the "${SERVER_NAME}" MCP server (or run \`claudemesh install\` once).`)
  if (!hasChannels && channelFlag) ours.push(CHANNEL_FLAG, CHANNEL_ENTRY)
  else if (hasChannels && !listed) notes.push(`your ${CHANNEL_FLAG} does not list ${CHANNEL_ENTRY}: messages will not be pushed to this session as they arrive (they wait for hooks or check_messages).`)
  const args = end === -1 ? [...userArgs, ...ours] : [...userArgs.slice(0, end), ...ours, ...userArgs.slice(end)]
  return { args, channel, notes }
}

function takeValues (args: string[], from: number): string[] {
  const values: string[] = []
  for (let i = from; i < args.length && !args[i].startsWith('-'); i++) values.push(args[i])
  return values
}

/** The MCP config for `--mcp-config`: this Node running this package's bin.js, so no global install is needed. */
export function mcpConfig (identity: Record<string, string>, channel = true): string {
  // only a session whose Claude Code really loads the channel may have messages pushed (and counted delivered)
  const env: Record<string, string> = { ...identity, CLAUDEMESH_CHANNELS: channel ? '1' : '0' }
  if (process.env.CLAUDEMESH_HOME !== undefined && process.env.CLAUDEMESH_HOME !== '') env.CLAUDEMESH_HOME = process.env.CLAUDEMESH_HOME
  return JSON.stringify({ mcpServers: { [SERVER_NAME]: { type: 'stdio', command: process.execPath, args: [BIN_PATH, 'mcp'], env } } })
}

/**
 * Runs claude in the foreground and resolves with the exit status to use. Node cannot exec(), so
 * signals sent to this process are passed on. On a terminal, Ctrl-C already reaches claude (same
 * process group); passing it on too would look like a double Ctrl-C, which exits claude.
 */
function runClaude (claude: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(claude, args, { stdio: 'inherit', env })
    const interactive = tty.isatty(0)
    const handlers = new Map<NodeJS.Signals, () => void>()
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as NodeJS.Signals[]) {
      const handler = (): void => {
        if (signal === 'SIGINT' && interactive) return
        if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      }
      handlers.set(signal, handler)
      process.on(signal, handler)
    }
    const cleanup = (): void => { for (const [signal, handler] of handlers) process.off(signal, handler) }
    child.once('error', (err) => {
      cleanup()
      reject(new Error(`could not run ${claude}: ${err.message}`))
    })
    child.once('exit', (code, signal) => {
      cleanup()
      if (signal !== null) {
        // end the same way claude did, so a calling shell sees the signal
        const number = os.constants.signals[signal] ?? 0
        process.kill(process.pid, signal)
        resolve(128 + number)
        return
      }
      resolve(code ?? 1)
    })
  })
}
