// `launch`, `install`, `uninstall` and `hook`: how Claude Code sessions join the mesh.
// Each action imports its module lazily, so `--help` and hooks stay fast.
import type { Command } from 'commander'

const EVENTS = 'SessionStart, UserPromptSubmit, Stop, SessionEnd'

export function addSessionCommands (program: Command): void {
  program.command('launch')
    .description('Start Claude Code as a session of the mesh: asks for what is missing, then runs `claude` with the claudemesh MCP server and channel.')
    .usage('[options] [-- <claude args...>]')
    .option('--name <name>', 'session name others address you by: letters, digits, ".", "-", "_", up to 64 (default: folder name + short suffix)')
    .option('--role <role>', 'your role, free text up to 32 characters, for example backend or reviewer (default: member)')
    .option('--groups <list>', 'comma list of groups, each name or name:role, for example "frontend,api:lead" (default: none)')
    .option('--mesh <name>', 'which joined mesh (asked when several are joined; with none, a local mesh is created)')
    .option('--join <link>', 'join the mesh of this claudemesh://join/... invite link first, and use it')
    .option('-q, --quiet', 'no banner')
    .option('-y, --yes', 'skip the autonomous-mode confirmation')
    .argument('[claude-args...]', 'arguments for claude, after --')
    .addHelpText('after', `
The wizard asks one line per question for what no flag gave: name, role, groups, the mesh when
several are joined, and a confirmation that this session will receive messages from other sessions
and act on them (autonomous mode; -y skips it). Without a terminal, answers are read from stdin,
one line per question, an empty line taking the default.

With no mesh joined, launch creates one called "local" whose relay is embedded in this machine's
daemon on loopback, so sessions on one machine find each other with no set-up.

claude then runs with CLAUDEMESH_NAME, CLAUDEMESH_ROLE, CLAUDEMESH_GROUPS and CLAUDEMESH_MESH set,
plus --mcp-config (the claudemesh MCP server) and --dangerously-load-development-channels
server:claudemesh, unless you pass those flags yourself. Its exit status becomes launch's.

Examples:
  claudemesh launch
  claudemesh launch --name api --role backend --groups api:lead -y
  claudemesh launch --join 'claudemesh://join/...' -- --model opus`)
    .action(async (claudeArgs: string[], opts: { name?: string, role?: string, groups?: string, mesh?: string, join?: string, quiet?: boolean, yes?: boolean }) => {
      const { runLaunch } = await import('./launch.js')
      await runLaunch(opts, claudeArgs)
    })

  program.command('install')
    .description('Register claudemesh with Claude Code for this user: MCP server, hooks and guidance, merged into your own settings.')
    .option('--json', 'print what was installed as JSON')
    .addHelpText('after', `
What it adds, at user scope (HOME from the environment):
  - the MCP server "claudemesh": \`claude mcp add -s user claudemesh -- claudemesh mcp\` when claude is
    on PATH, else the same entry under "mcpServers" in ~/.claude.json
  - command hooks \`claudemesh hook <event>\` for ${EVENTS} in ~/.claude/settings.json,
    next to your own hooks
  - ~/.claude/CLAUDEMESH.md (how to use the mesh) and an "@CLAUDEMESH.md" import line in ~/.claude/CLAUDE.md
When claudemesh is not on PATH, the entries run this Node and this package's bin.js by absolute path.
What was added is recorded in $CLAUDEMESH_HOME/install.json; running install again replaces it
without duplicates, and \`claudemesh uninstall\` removes exactly that. Restart Claude Code sessions
to pick the changes up.`)
    .action(async (opts: { json?: boolean }) => {
      const { runInstall } = await import('./install.js')
      const { record, report } = await runInstall()
      if (opts.json === true) {
        process.stdout.write(JSON.stringify({ record, notes: report.notes }, null, 2) + '\n')
        return
      }
      const title = report.replaced === true ? 'Installed claudemesh in Claude Code again (the previous install was replaced, nothing duplicated):' : 'Installed claudemesh in Claude Code:'
      process.stdout.write(report.done.length === 0 ? 'Nothing to add: claudemesh is already set up in Claude Code.\n' : `${title}\n` + report.done.map((d) => `  ${d}\n`).join(''))
      for (const note of report.notes) process.stdout.write(`Note: ${note}\n`)
      process.stdout.write('Restart running Claude Code sessions to pick this up. `claudemesh uninstall` removes it again.\n')
    })

  program.command('uninstall')
    .description('Remove exactly what `claudemesh install` added to Claude Code, and nothing of yours.')
    .option('--json', 'print what was removed as JSON')
    .addHelpText('after', '\nIt follows the record in $CLAUDEMESH_HOME/install.json. Entries you changed since install are left alone and listed.')
    .action(async (opts: { json?: boolean }) => {
      const { runUninstall } = await import('./install.js')
      const res = await runUninstall()
      if (opts.json === true) {
        process.stdout.write(JSON.stringify(res, null, 2) + '\n')
        return
      }
      if (!res.installed) {
        process.stdout.write('Nothing to uninstall: there is no record of `claudemesh install` for this CLAUDEMESH_HOME.\n')
        return
      }
      process.stdout.write('Removed claudemesh from Claude Code:\n' + res.done.map((d) => `  ${d}\n`).join(''))
      for (const note of res.notes) process.stdout.write(`Note: ${note}\n`)
    })

  program.command('hook')
    .description('Run by Claude Code\'s hooks (see `claudemesh install`): reports the session\'s lifecycle to a running daemon, and checks claims before an edit (PreToolUse).')
    .argument('[event]', EVENTS)
    .allowUnknownOption()
    .allowExcessArguments()
    .addHelpText('after', `
Claude Code passes its hook JSON on stdin (session_id, cwd, hook_event_name, ...). The hook talks
to the daemon only if it is already running, never starts it, and gives up after about 2.5 s. It
always exits 0, and prints only when the daemon hands over messages held for the session: as
additional context on UserPromptSubmit and SessionStart, as the reason to go on at Stop. On
PreToolUse (Edit, Write, MultiEdit, NotebookEdit) it asks the daemon whether another session claimed
the file, and prints Claude Code's permission decision ("ask", or "deny" by settings.json) if so;
with no daemon, or no answer within 1 s, the edit goes ahead.
Set CLAUDEMESH_DEBUG=1 to see on stderr why it did nothing.`)
    .action(async (event: string | undefined) => {
      const { runHook } = await import('./hook.js')
      await runHook(event)
      process.exit(0)
    })
}
