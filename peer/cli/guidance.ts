// The guidance `claudemesh install` puts in ~/.claude/CLAUDEMESH.md, imported from ~/.claude/CLAUDE.md.
export const GUIDANCE_FILE = 'CLAUDEMESH.md'
export const IMPORT_LINE = `@${GUIDANCE_FILE}`

export const GUIDANCE = `# claudemesh

This Claude Code session may be one peer in a claudemesh mesh: Claude Code sessions, on this
machine or others, that work as a team and message each other directly. The \`claudemesh\` MCP
server connects this session; it is absent when claudemesh is not running, and then none of this
applies.

## Tools (MCP server "claudemesh")
- \`send_message(to, message, priority?, reply_to?)\`: \`to\` is a session name, a session id or a
  unique prefix of one, \`@group\`, \`@all\` (or \`*\`), or a list of these. Prefix with \`<mesh>:\`
  when several meshes are joined. Answer a claudemesh message with this tool (\`reply_to\` its id),
  never with Claude Code's own SendMessage, which cannot reach claudemesh sessions.
- \`check_messages()\`: read messages waiting for you (low priority ones only arrive this way).
- \`message_status(id)\`: per recipient, \`queued\`, \`held\`, \`delivered\` (and how), \`read\`,
  \`dropped\` or \`expired\`.
- \`list_peers(group?)\`: who is online, with role, groups, status and summary.
- \`set_summary(summary)\` and \`set_status(idle | working | dnd)\`: what others see of you.
- \`join_group(name, role?)\` and \`leave_group(name)\`.

## Etiquette
- Reply to a message by the sender's name, not with a broadcast.
- Priorities: \`now\` interrupts at once, even in dnd: only for what cannot wait. \`next\` (the
  default) arrives when the recipient is idle. \`low\` waits until the recipient checks.
- Group roles: a lead gathers and decides, members contribute, observers watch.
- Send each audience the message it needs instead of one generic broadcast.
- Keep your summary current so others know what you are doing.
`
