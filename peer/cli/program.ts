// The `claudemesh` command line. Every command is a thin client of the daemon's IPC, except
// `relay` (runs a relay in this process) and `doctor` (also checks things without a daemon).
// Heavy modules are imported inside actions so `--help` stays fast.
import { Command, Option, InvalidArgumentError } from 'commander'
import { print, printJson, fail, ago, parseDuration } from './output.js'
import { VERSION } from './version.js'
import { addSessionCommands } from './session-commands.js'
import { addFileCommands } from './files-commands.js'
import { call } from './daemon-call.js'

interface MeshMember { label: string, role: string, writerKey: string, swarmKey: string, self: boolean, connected: boolean, online: boolean }
interface StateRow { key: string, value: unknown, by: { session: string | null, member: string }, at: number }
interface MeshSummary { name: string, key: string, owner: boolean, relay: { addresses: string[], embedded: boolean, connected: boolean }, members: MeshMember[], online: number }

function positiveInt (field: string, max: number) {
  return (value: string): number => {
    const n = Number(value)
    if (!Number.isInteger(n) || n < 1 || n > max) throw new InvalidArgumentError(`${field} must be a whole number from 1 to ${max}.`)
    return n
  }
}

function duration (value: string): number {
  const ms = parseDuration(value)
  if (ms === null) throw new InvalidArgumentError('use a number with a unit: 30m, 12h, 7d or 2w.')
  return ms
}

function memberLine (m: MeshMember): string {
  const state = m.self ? 'this daemon' : m.connected ? 'connected' : m.online ? 'online' : 'offline'
  return `  ${m.label.padEnd(28)} ${m.role.padEnd(7)} ${m.writerKey.slice(0, 12)}  ${state}`
}

function printMesh (mesh: MeshSummary): void {
  const relay = mesh.relay.embedded ? `embedded relay ${mesh.relay.addresses.join(', ')}` : `relay ${mesh.relay.addresses.join(', ')}`
  print(`${mesh.name}${mesh.owner ? ' (owner)' : ''}: ${mesh.members.length} member${mesh.members.length === 1 ? '' : 's'}, ${mesh.online} online, ${relay}`)
  for (const m of mesh.members) print(memberLine(m))
}

export function buildProgram (): Command {
  const program = new Command()
  program
    .name('claudemesh')
    .description('Claude Code sessions that work as a team: a peer-to-peer mesh with direct messages, presence, shared state, memory and files. A small relay, run by the mesh owner, only verifies invites and bootstraps presence; everything else travels directly between peers, encrypted.')
    .version(VERSION, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', `
Data lives in $CLAUDEMESH_HOME (default ~/.claudemesh). Several homes on one machine are independent members.

Examples:
  claudemesh create team                       a mesh with a relay embedded in this machine's daemon
  claudemesh create team --relay relay.example.com:49737
  claudemesh invite --uses 1 --expires 7d       prints a claudemesh://join/... link
  claudemesh join claudemesh://join/...         on a teammate's machine
  claudemesh list`)

  program.command('create')
    .description('Create a new mesh owned by this member and register it with its relay.')
    .argument('<name>', 'mesh name: letters, digits, ".", "-", "_" (up to 64)')
    .option('--relay <host:port>', 'use a relay run elsewhere (`claudemesh relay`); also <relay-key>@host:port')
    .option('--relay-listen <host:port>', 'without --relay: make the embedded relay reachable on this address (for teammates on a LAN)')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nWithout --relay, the relay runs embedded in this daemon on loopback: a local mesh for this machine.')
    .action(async (name: string, opts: { relay?: string, relayListen?: string, json?: boolean }) => {
      const mesh = await call('create', { name, relay: opts.relay ?? null, relayListen: opts.relayListen ?? null })
      if (opts.json === true) return printJson(mesh)
      print(`Created mesh ${mesh.name} (${mesh.relay.embedded ? 'embedded relay' : 'relay'} ${mesh.relay.addresses.join(', ')}).`)
      print('Invite teammates with: claudemesh invite')
    })

  const invite = program.command('invite')
    .description('Print an invite link for a mesh you own (single use and expiring by default).')
    .option('--mesh <name>', 'which mesh (needed when several are joined)')
    .option('--uses <n>', 'how many members may join with it', positiveInt('--uses', 1000), 1)
    .addOption(new Option('--expires <duration>', 'how long it stays valid: 30m, 12h, 7d, 2w').argParser(duration).default(7 * 24 * 3600 * 1000, '7d'))
    .addOption(new Option('--role <role>', 'role of members who join with it').choices(['member', 'admin']).default('member'))
    .option('--json', 'print id, link, expiry and uses as JSON')
    .addHelpText('after', '\nThe link is a secret: anyone holding it can join until it is used up, expires or is revoked.')
    .action(async (opts: { mesh?: string, uses: number, expires: number, role: string, json?: boolean }) => {
      const res = await call('invite.create', { mesh: opts.mesh ?? null, uses: opts.uses, expiresMs: opts.expires, role: opts.role as 'member' | 'admin' })
      if (opts.json === true) return printJson(res)
      print(res.link)
      process.stderr.write(`invite ${res.id.slice(0, 12)} for ${res.mesh}: ${res.uses} use${res.uses === 1 ? '' : 's'}, role ${res.role}, expires ${new Date(res.expires).toISOString()}\n`)
    })

  invite.command('list')
    .description('List the invites of a mesh you own, with their state.')
    .option('--mesh <name>', 'which mesh')
    .option('--json', 'print as JSON')
    .action(async (_opts: { mesh?: string, json?: boolean }, cmd: Command) => {
      // `invite` has --mesh and --json of its own: commander hands them to it, so read both levels
      const opts = cmd.optsWithGlobals<{ mesh?: string, json?: boolean }>()
      const list = await call('invite.list', { mesh: opts.mesh ?? null })
      if (opts.json === true) return printJson(list)
      if (list.length === 0) return print('No invites yet. Create one with: claudemesh invite')
      for (const i of list) print(`${i.id.slice(0, 12)}  ${i.state.padEnd(8)} ${i.used}/${i.uses} used  ${i.role.padEnd(7)} expires ${new Date(i.expires).toISOString()}`)
    })

  invite.command('revoke')
    .description('Revoke an invite so nobody can join with it any more.')
    .argument('<id>', 'invite id or a unique prefix of it (see `claudemesh invite list`)')
    .option('--mesh <name>', 'which mesh')
    .option('--json', 'print as JSON')
    .action(async (id: string, _opts: { mesh?: string, json?: boolean }, cmd: Command) => {
      const opts = cmd.optsWithGlobals<{ mesh?: string, json?: boolean }>()
      const res = await call('invite.revoke', { mesh: opts.mesh ?? null, id })
      if (opts.json === true) return printJson(res)
      print(`Revoked invite ${res.id.slice(0, 12)}.`)
    })

  program.command('join')
    .description('Join a mesh with an invite link: pairs through the mesh\'s relay and becomes a member.')
    .argument('<link>', 'the claudemesh://join/... link from the mesh owner')
    .addOption(new Option('--timeout <duration>', 'how long to wait for an online member to admit this daemon').argParser(duration).default(30_000, '30s'))
    .option('--json', 'print the mesh and its members as JSON')
    .addHelpText('after', '\nJoining needs the relay and at least one member of the mesh online (to admit you). If none is, join\ntimes out and leaves nothing behind; run the same command again later: the link stays yours.')
    .action(async (link: string, opts: { timeout: number, json?: boolean }) => {
      const mesh = await call('join', { link, timeoutMs: opts.timeout })
      if (opts.json === true) return printJson(mesh)
      print(`Joined mesh ${mesh.name}.`)
      printMesh(mesh)
    })

  program.command('list')
    .description('List joined meshes with their members and how many are online.')
    .option('--json', 'print each mesh with its members as JSON')
    .action(async (opts: { json?: boolean }) => {
      const meshes = await call('list')
      if (opts.json === true) return printJson(meshes)
      if (meshes.length === 0) return print('No mesh joined yet. Create one with `claudemesh create <name>` or join with `claudemesh join <link>`.')
      meshes.forEach((m, i) => { if (i > 0) print(''); printMesh(m) })
    })

  program.command('leave')
    .description('Leave a mesh on this machine: stop syncing it and forget its keys.')
    .argument('<mesh>', 'mesh name')
    .option('--force', 'leave even if you own it')
    .action(async (mesh: string, opts: { force?: boolean }) => {
      const res = await call('leave', { mesh, force: opts.force === true })
      print(`Left mesh ${res.left}.`)
    })

  program.command('kick')
    .description('Remove a member from a mesh you own; every daemon drops its connections.')
    .argument('<member>', 'member label, or a prefix of its writer or swarm key (see `claudemesh list`)')
    .option('--mesh <name>', 'which mesh')
    .option('--json', 'print as JSON')
    .action(async (member: string, opts: { mesh?: string, json?: boolean }) => {
      const res = await call('kick', { mesh: opts.mesh ?? null, member })
      if (opts.json === true) return printJson(res)
      print(`Removed ${res.removed.label} (${res.removed.writerKey.slice(0, 12)}) from ${res.mesh}.`)
      if (!res.relayUpdated) print('The relay could not be reached; it will be told as soon as this daemon reconnects to it. Every member\'s daemon already refuses the removed member.')
    })

  program.command('status')
    .description('Show the daemon, relay reachability and connected peers per mesh.')
    .option('--json', 'print as JSON')
    .action(async (opts: { json?: boolean }) => {
      const { connectDaemon } = await import('./daemon-client.js')
      const client = await connectDaemon()
      if (client === null) {
        if (opts.json === true) return printJson({ running: false })
        return print('Daemon: not running (it starts on demand; or run `claudemesh daemon start`).')
      }
      const s = await client.request('status')
      client.close()
      if (opts.json === true) return printJson({ running: true, ...s })
      print(`Daemon: running, pid ${s.pid}, up ${ago(s.uptimeMs)}, key ${s.swarmKey.slice(0, 12)}`)
      print(`Owner key (for a relay's --owners): ${s.ownerKey}`)
      if (s.meshes.length === 0) print('No mesh joined.')
      for (const m of s.meshes) print(`${m.name}: relay ${m.relay.addresses.join(', ')} ${m.relay.connected ? 'reachable' : 'UNREACHABLE'}; ${m.peers.length} of ${m.members - 1} other member${m.members === 2 ? '' : 's'} connected`)
    })

  program.command('doctor')
    .description('Check this machine: node version, home permissions, daemon, relay per mesh, clock skew.')
    .option('--json', 'print the checks as JSON')
    .action(async (opts: { json?: boolean }) => {
      const { runDoctor } = await import('./doctor.js')
      const checks = await runDoctor()
      if (opts.json === true) printJson(checks)
      else for (const c of checks) print(`${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}${c.ok ? '' : `\n     fix: ${c.fix}`}`)
      if (checks.some((c) => !c.ok)) process.exitCode = 1
    })

  const daemon = program.command('daemon').description('Manage the background daemon by hand (it also starts on demand).')
  daemon.command('start').description('Start the daemon for this CLAUDEMESH_HOME.').action(async () => {
    const { startDaemon } = await import('./daemon-client.js')
    const res = await startDaemon()
    print(res.started ? `Daemon started, pid ${res.pid}.` : `Daemon already running, pid ${res.pid}.`)
  })
  daemon.command('stop').description('Stop the daemon and wait until it has exited.').action(async () => {
    const { stopDaemon } = await import('./daemon-client.js')
    const res = await stopDaemon()
    print(res === null ? 'Daemon was not running.' : `Daemon stopped (pid ${res.pid}).`)
  })
  daemon.command('status').description('Is the daemon running? pid, socket and meshes.').option('--json', 'print as JSON').action(async (opts: { json?: boolean }) => {
    const { connectDaemon } = await import('./daemon-client.js')
    const { homePaths } = await import('../daemon/home.js')
    const client = await connectDaemon()
    if (client === null) {
      if (opts.json === true) return printJson({ running: false, socket: homePaths().socket })
      process.exitCode = 3
      return print('Daemon: not running.')
    }
    const s = await client.request('status')
    client.close()
    if (opts.json === true) return printJson({ running: true, pid: s.pid, socket: s.socket, meshes: s.meshes.map((m) => m.name) })
    print(`Daemon: running, pid ${s.pid}, socket ${s.socket}, meshes: ${s.meshes.map((m) => m.name).join(', ') || 'none'}`)
  })

  program.command('mcp')
    .description('Run the stdio MCP server for one Claude Code session (Claude Code starts it; see `claudemesh install`).')
    .option('--name <name>', 'session name others address you by (env CLAUDEMESH_NAME; default: folder name + suffix)')
    .option('--role <role>', 'your role, for example backend or reviewer (env CLAUDEMESH_ROLE; default member)')
    .option('--groups <list>', 'comma list of group or group:role (env CLAUDEMESH_GROUPS)')
    .option('--mesh <name>', 'which joined mesh (env CLAUDEMESH_MESH; default: the only one, or the local mesh)')
    .option('--channels', 'Claude Code runs with claudemesh as a channel: push messages as they arrive (env CLAUDEMESH_CHANNELS=1; `launch` sets it)')
    .addHelpText('after', '\nWith no mesh joined it creates this machine\'s local mesh, so plain sessions on one machine find each other.')
    .action(async (opts: { name?: string, role?: string, groups?: string, mesh?: string, channels?: boolean }) => {
      const { runMcpServer } = await import('../mcp/server.js')
      const env = process.env
      await runMcpServer({
        name: opts.name ?? nonEmpty(env.CLAUDEMESH_NAME),
        role: opts.role ?? nonEmpty(env.CLAUDEMESH_ROLE),
        groups: opts.groups ?? nonEmpty(env.CLAUDEMESH_GROUPS),
        mesh: opts.mesh ?? nonEmpty(env.CLAUDEMESH_MESH),
        channel: opts.channels === true || env.CLAUDEMESH_CHANNELS === '1'
      })
    })

  const state = program.command('state').description('Read and write the mesh\'s shared state (the same entries sessions see with get_state/set_state).')
  state.command('get').description('Print one entry.').argument('<key>').option('--mesh <name>', 'which mesh').option('--json', 'print as JSON')
    .action(async (key: string, opts: { mesh?: string, json?: boolean }) => {
      const res = await call('state.get', { key, mesh: opts.mesh ?? null })
      if (opts.json === true) return printJson(res.entry)
      if (res.entry === null) {
        process.exitCode = 1
        return print(`"${key}" is not set.`)
      }
      print(JSON.stringify(res.entry.value))
    })
  state.command('set').description('Set an entry to a JSON value (or a plain string with --string).').argument('<key>').argument('<value>', 'JSON, for example 42, true, \'"text"\' or \'{"a":1}\'')
    .option('--string', 'store <value> as a string as it is').option('--mesh <name>', 'which mesh').option('--json', 'print the entry as JSON')
    .action(async (key: string, raw: string, opts: { string?: boolean, mesh?: string, json?: boolean }) => {
      let value: unknown = raw
      if (opts.string !== true) {
        try {
          value = JSON.parse(raw)
        } catch {
          throw new InvalidArgumentError(`value: must be JSON (quote text as '"${raw}"', or pass --string).`)
        }
      }
      const entry = await call('state.set', { key, value, mesh: opts.mesh ?? null })
      if (opts.json === true) return printJson(entry)
      print(`Set ${entry.key} = ${JSON.stringify(entry.value)}`)
    })
  state.command('list').description('List entries, optionally under a key prefix.').argument('[prefix]').option('--mesh <name>', 'which mesh').option('--json', 'print as JSON')
    .action(async (prefix: string | undefined, opts: { mesh?: string, json?: boolean }) => {
      const entries = await call('state.list', { prefix: prefix ?? null, mesh: opts.mesh ?? null })
      if (opts.json === true) return printJson(entries)
      if (entries.length === 0) return print('No state entries.')
      for (const e of entries) print(`${e.key} = ${JSON.stringify(e.value)}  (${e.by.session ?? 'cli'} on ${e.by.member}, ${new Date(e.at).toISOString()})`)
    })
  state.command('delete').description('Delete an entry for everyone.').argument('<key>').option('--mesh <name>', 'which mesh')
    .action(async (key: string, opts: { mesh?: string }) => {
      await call('state.delete', { key, mesh: opts.mesh ?? null })
      print(`Deleted ${key}.`)
    })

  const memory = program.command('memory').description('The mesh\'s shared memory (the same entries sessions use with remember/recall).')
  memory.command('remember').description('Store an entry; prints its id.').argument('<content>').option('--tag <tag...>', 'tags (up to 20)').option('--mesh <name>', 'which mesh').option('--json', 'print the entry as JSON')
    .action(async (content: string, opts: { tag?: string[], mesh?: string, json?: boolean }) => {
      const entry = await call('memory.remember', { content, tags: opts.tag ?? [], mesh: opts.mesh ?? null })
      if (opts.json === true) return printJson(entry)
      print(entry.id)
    })
  memory.command('recall').description('Search entries, best first (fuzzy and prefix).').argument('<query>').option('--limit <n>', 'how many', positiveInt('--limit', 100), 10).option('--tag <tag...>', 'only entries with these tags').option('--mesh <name>', 'which mesh').option('--json', 'print as JSON')
    .action(async (query: string, opts: { limit: number, tag?: string[], mesh?: string, json?: boolean }) => {
      const hits = await call('memory.recall', { query, limit: opts.limit, tags: opts.tag ?? [], mesh: opts.mesh ?? null })
      if (opts.json === true) return printJson(hits)
      if (hits.length === 0) return print('Nothing found.')
      for (const h of hits) print(`${h.id}  ${h.score}  ${h.content.split('\n')[0].slice(0, 100)}${h.tags.length > 0 ? `  [${h.tags.join(', ')}]` : ''}`)
    })
  memory.command('forget').description('Remove an entry for everyone.').argument('<id>').option('--mesh <name>', 'which mesh')
    .action(async (id: string, opts: { mesh?: string }) => {
      await call('memory.forget', { id, mesh: opts.mesh ?? null })
      print(`Forgot ${id}.`)
    })
  memory.command('list').description('List every entry, oldest first.').option('--mesh <name>', 'which mesh').option('--json', 'print as JSON')
    .action(async (opts: { mesh?: string, json?: boolean }) => {
      const entries = await call('memory.list', { mesh: opts.mesh ?? null })
      if (opts.json === true) return printJson(entries)
      if (entries.length === 0) return print('No memory entries.')
      for (const e of entries) print(`${e.id}  ${e.content.split('\n')[0].slice(0, 100)}${e.tags.length > 0 ? `  [${e.tags.join(', ')}]` : ''}`)
    })

  addFileCommands(program)

  const claims = program.command('claims')
    .description('Claims: which session holds which files or resources (sessions claim with the claim tool; `claudemesh install` adds a guard before edits).')
  claims.command('list', { isDefault: true }).description('Live claims: paths, mode, holder, until when, granted or pending.')
    .option('--path <path>', 'only claims covering this path (relative to the repository)')
    .option('--holder <who>', 'only this session name, member label or session id prefix')
    .option('--mesh <name>', 'which mesh').option('--json', 'print as JSON')
    .action(async (_opts: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<{ path?: string, holder?: string, mesh?: string, json?: boolean }>()
      const list = await call('claims.list', { path: opts.path ?? null, holder: opts.holder ?? null, mesh: opts.mesh ?? null })
      if (opts.json === true) return printJson(list)
      if (list.length === 0) return print('No live claims.')
      for (const c of list) print(`${c.id.slice(0, 12)}  ${c.status.padEnd(7)} ${c.mode.padEnd(9)} ${c.paths.join(', ')}  ${c.session.name} on ${c.by.member}, until ${new Date(c.expiresAt).toISOString()}${c.note !== '' ? `  (${c.note})` : ''}`)
    })
  claims.command('release').description('Release claims this member holds (or any, as the mesh owner), by id.').argument('<id...>', 'claim ids (see `claudemesh claims`)')
    .option('--mesh <name>', 'which mesh').option('--json', 'print as JSON')
    .action(async (ids: string[], _opts: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<{ mesh?: string, json?: boolean }>()
      const res = await call('claims.release', { ids, mesh: opts.mesh ?? null })
      if (opts.json === true) return printJson(res)
      print(`Released ${res.released.length} claim${res.released.length === 1 ? '' : 's'}.`)
    })

  program.command('dashboard')
    .description('Open the dashboard in your browser: who is online and doing what, shared state, memory, files, and (opt-in) a log of messages, live.')
    .option('--url', 'print the URL (it carries the daemon\'s secret token) and exit')
    .option('--message-log <on|off>', 'turn the dashboard\'s message log on or off (off deletes what it kept)')
    .option('--retention <days>', 'how many days the message log keeps messages (default 7)', positiveInt('--retention', 365))
    .option('--json', 'print the URL and the message log settings as JSON')
    .addHelpText('after', '\nThe dashboard is served by the daemon on 127.0.0.1 only, on a free port (or settings.json "dashboard": {"port": N}).\nIts URL holds a secret token: requests without it, or from another web page, are refused.\nWith no desktop to open a browser on (SSH), it prints the URL to open where you can reach 127.0.0.1 (an SSH tunnel).')
    .action(async (opts: { url?: boolean, messageLog?: string, retention?: number, json?: boolean }) => {
      if (opts.messageLog !== undefined && opts.messageLog !== 'on' && opts.messageLog !== 'off') throw new InvalidArgumentError('--message-log: must be on or off.')
      const { url } = await call('dashboard.url')
      const settings = opts.messageLog !== undefined || opts.retention !== undefined
        ? await call('messages.configure', { ...(opts.messageLog !== undefined ? { enabled: opts.messageLog === 'on' } : {}), ...(opts.retention !== undefined ? { retentionDays: opts.retention } : {}) })
        : null
      if (opts.json === true) return printJson({ url, ...(settings !== null ? { messageLog: settings } : {}) })
      if (settings !== null) print(`Message log: ${settings.enabled ? `on, kept ${settings.retentionDays} day${settings.retentionDays === 1 ? '' : 's'} on this machine` : 'off (nothing is kept)'}.`)
      if (opts.url === true) return print(url)
      if (settings !== null) return
      const { openBrowser } = await import('./open-browser.js')
      if (await openBrowser(url)) return print(`Opened the dashboard in your browser: ${url}`)
      print('No browser can be opened here; open this URL (keep it secret, it carries the dashboard\'s token):')
      print(url)
    })

  addSessionCommands(program)

  program.command('relay')
    .description('Run a relay: DHT bootstrap, invite verification, presence roster, blind-relay fallback, /health and /metrics.')
    .option('--host <host>', 'address to bind', '0.0.0.0')
    .option('--port <port>', 'UDP port of the DHT bootstrap (0 picks a free one)', portNumber, 49737)
    .option('--public-host <host>', 'address written into invite links (default: --host, or 127.0.0.1 for 0.0.0.0)')
    .option('--http-port <port>', 'port for /health and /metrics (0 picks a free one)', portNumber, 8080)
    .option('--data <dir>', 'where the ledger and the relay key live', process.env.CLAUDEMESH_RELAY_DATA ?? './relay-data')
    .option('--owners <keys>', 'only these owners may register meshes: a comma list of owner keys (64 hex each, as `claudemesh status` prints them); default: anyone', ownerKeys, nonEmpty(process.env.CLAUDEMESH_RELAY_OWNERS) === undefined ? undefined : ownerKeys(process.env.CLAUDEMESH_RELAY_OWNERS ?? ''))
    .addHelpText('after', '\nEach owner may register up to 32 meshes, and each mesh up to 256 valid invites (4096 kept in all).\nWith --owners (or CLAUDEMESH_RELAY_OWNERS), any other key is refused with RELAY_REFUSED.')
    .action(async (opts: { host: string, port: number, publicHost?: string, httpPort: number, data: string, owners?: string[] }) => {
      const { runRelay } = await import('./relay-command.js')
      await runRelay(opts)
    })

  return program
}

function nonEmpty (value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value
}

function ownerKeys (value: string): string[] {
  const keys = value.split(',').map((k) => k.trim().toLowerCase()).filter((k) => k !== '')
  if (keys.length === 0) throw new InvalidArgumentError('must list at least one owner key.')
  for (const key of keys) if (!/^[0-9a-f]{64}$/.test(key)) throw new InvalidArgumentError(`"${key.slice(0, 80)}" is not an owner key (64 hex characters, as \`claudemesh status\` prints it on the owner's machine).`)
  return keys
}

function portNumber (value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port number from 0 to 65535.')
  return n
}

export async function main (argv: string[]): Promise<void> {
  const program = buildProgram()
  try {
    await program.parseAsync(argv)
  } catch (err) {
    fail(err)
  }
}
