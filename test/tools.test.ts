// The MCP tool table is the one source: the server registers from it, the instructions list it, the
// README's table agrees with it, and every answer carries its data as structuredContent.
import fs from 'node:fs'
import test from 'brittle'
import { fileURLToPath } from 'node:url'
import { TOOL_LIST, hintsOf, signature } from '../peer/mcp/tools.js'
import { CONTRACT, METHODS } from '../peer/daemon/contract.js'
import { LIMITS } from '../protocol/limits.js'
import { Member } from './helpers/cli.js'
import { McpSession } from './helpers/mcp.js'

const README = fileURLToPath(new URL('../../README.md', import.meta.url))

/** The rows of the README's MCP tools table: name and hints. */
function readmeTools (): Array<{ name: string, hints: string }> {
  const text = fs.readFileSync(README, 'utf-8')
  const section = text.slice(text.indexOf('## MCP tools'), text.indexOf('\n## ', text.indexOf('## MCP tools') + 5))
  const rows: Array<{ name: string, hints: string }> = []
  for (const line of section.split('\n')) {
    const m = /^\| `([a-z_]+)` \| ([a-z-]+) \|/.exec(line)
    if (m !== null) rows.push({ name: m[1], hints: m[2] })
  }
  return rows
}

test('the README\'s tool table lists exactly the tools of the table, with their hints, in order', async (t) => {
  const rows = readmeTools()
  t.ok(rows.length > 0, 'the README has an MCP tools table')
  t.alike(rows.map((r) => r.name), TOOL_LIST.map((x) => x.name), 'the same tools in the same order')
  for (const tool of TOOL_LIST) {
    const row = rows.find((r) => r.name === tool.name)
    t.is(row?.hints, hintsOf(tool), `${tool.name}: ${hintsOf(tool)}`)
  }
})

test('every tool calls a method of the daemon\'s contract, and every contract method is one entry with a label', async (t) => {
  for (const tool of TOOL_LIST) t.ok(METHODS.includes(tool.method), `${tool.name} -> ${tool.method}`)
  for (const m of METHODS) t.ok(CONTRACT[m].label.length > 0 && CONTRACT[m].params !== undefined, `${m} has params and a label`)
  t.is(new Set(TOOL_LIST.map((x) => x.name)).size, TOOL_LIST.length, 'tool names are unique')
})

test('a real MCP server registers the table: titles, hints, schemas with the protocol\'s limits; the instructions list every tool; answers carry structuredContent', { timeout: 90_000 }, async (t) => {
  const alice = new Member(t, 'alice')
  const a = await McpSession.start(t, alice.home, ['--name', 'a'])
  const listed = (await a.client.listTools()).tools
  t.alike(listed.map((x) => x.name), TOOL_LIST.map((x) => x.name), 'tools/list is the table')
  for (const tool of TOOL_LIST) {
    const got = listed.find((x) => x.name === tool.name)
    t.is(got?.title, tool.title, `${tool.name}: title`)
    t.is(got?.annotations?.readOnlyHint, tool.annotations.readOnlyHint, `${tool.name}: readOnlyHint`)
    t.is(got?.annotations?.destructiveHint, tool.annotations.destructiveHint, `${tool.name}: destructiveHint`)
  }
  const props = (name: string): Record<string, any> => (listed.find((x) => x.name === name)?.inputSchema as { properties: Record<string, any> }).properties
  t.is(props('set_state').key.maxLength, LIMITS.stateKey, 'set_state.key says its limit')
  t.is(props('recall').limit.maximum, 100, 'recall.limit says its range')
  t.is(props('send_message').files.maxItems, LIMITS.attachments, 'send_message.files says how many')
  t.alike((listed.find((x) => x.name === 'set_state')?.inputSchema as { required: string[] }).required.sort(), ['key', 'value'], 'set_state needs key and value')

  const instructions = a.client.getInstructions() ?? ''
  for (const tool of TOOL_LIST) t.ok(instructions.includes(`- ${signature(tool)}: `), `instructions list ${signature(tool)}`)

  const set = await a.call('set_state', { key: 'build/status', value: { ok: true } })
  t.is(set.data.entry.key, 'build/status', 'set_state: the entry as data')
  t.alike(set.data.entry.value, { ok: true })
  t.is(set.data.entry.by.session, 'a', 'written as the session')
  t.is(set.data.text, set.text, 'the text rides along (a client that shows only structuredContent still reads it)')
  const peers = await a.call('list_peers')
  t.is(peers.data.sessions[0].name, 'a', 'list_peers: the sessions as data')
  t.is(peers.data.self, peers.data.sessions[0].id, 'and which is this one')
  const remembered = await a.call('remember', { content: 'the staging database is read-only on Fridays', tags: ['ops'] })
  const hits = await a.call('recall', { query: 'stagng databse' })
  t.is(hits.data.hits[0].id, remembered.data.entry.id, 'recall: ranked hits as data, typos forgiven')

  const bad = await a.call('set_state', { key: 'k'.repeat(LIMITS.stateKey + 1), value: 1 })
  t.ok(bad.isError, 'a key over the limit is refused')
  t.is(bad.text, `set_state.key: must be at most ${LIMITS.stateKey} characters [BAD_INPUT]`, 'naming the field and the rule')
  t.is(bad.data.error.code, 'BAD_INPUT', 'with the code as data')
  const missing = await a.call('set_state', { key: 'x' })
  t.is(missing.text, 'set_state.value: is required [BAD_INPUT]', 'a missing value is named')
  const unknown = await a.call('launch_missiles', {})
  t.ok(unknown.isError && unknown.text.includes('no tool launch_missiles'), 'an unknown tool is refused by name')
  t.is((await a.call('get_state', { key: 'k'.repeat(LIMITS.stateKey + 1) })).isError, true)
  t.alike((await a.call('get_state', { key: 'build/status' })).data.entry.value, { ok: true }, 'the bad calls changed nothing')
})
