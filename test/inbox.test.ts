// How messages reach Claude when Claude Code offers its session inbox, and what survives a daemon
// dying under its sessions. The inbox is the test's own listener speaking Claude Code's frame
// format (test/helpers/fake-inbox.ts); the sessions are real `claudemesh mcp` processes on real
// daemons. The real Claude Code CLI is driven in claude-code.test.ts.
import test from 'brittle'
import { joinedHomes, Member, cli } from './helpers/cli.js'
import { McpSession, messageId } from './helpers/mcp.js'
import { FakeInbox } from './helpers/fake-inbox.js'
import type { SessionInfo } from '../protocol/session-wire.js'

function statusOf (text: string, name: string): string {
  return new RegExp(`- ${name} \\([0-9a-f]{64}\\): (\\w+( \\(\\w+\\))?)`).exec(text)?.[1] ?? 'missing'
}

async function sessionsOf (m: Member): Promise<SessionInfo[]> {
  return (await m.ipc('sessions.list'))[0].sessions
}

test('a session with a Claude Code inbox gets each message there once: who sent it, how to answer; delivered once Claude Code took it, read once answered', { timeout: 120_000 }, async (t) => {
  const [alice, bob] = await joinedHomes(t, ['alice', 'bob'])
  const inbox = await FakeInbox.start(t)
  const sender = await McpSession.start(t, alice.home, ['--name', 'sender'])
  const rcpt = await McpSession.start(t, bob.home, ['--name', 'rcpt'], { ...inbox.env(), CLAUDEMESH_CHANNELS: '0' })
  await alice.wait({ sessions: 2 })
  t.ok((await sender.call('list_peers')).text.includes('- rcpt ') && (await sender.call('list_peers')).text.includes('receives by inbox'), 'others see that it receives by its inbox')
  const senderInfo = (await sessionsOf(alice)).find((s) => s.name === 'sender') as SessionInfo
  const aliceKey = senderInfo.member

  const id = messageId((await sender.call('send_message', { to: 'rcpt', message: 'which port does the dev server use?' })).text)
  const got = await inbox.next((f) => f.content.includes(id))
  t.is(got.priority, 'next', 'with its priority')
  t.is(got.content, [
    `claudemesh message ${id} (mesh team):`,
    `<claudemesh-message from="sender" from_id="${senderInfo.id}" member="alice (${aliceKey.slice(0, 8)})" priority="next" id="${id}">`,
    'which port does the dev server use?',
    '</claudemesh-message>',
    `Reply on the mesh with claudemesh's send_message (to: "sender", reply_to: "${id}"), not SendMessage: SendMessage cannot reach claudemesh sessions.`
  ].join('\n'), 'the exact text Claude gets: who sent it, and how to answer on the mesh')
  await alice.wait({ delivered: id })
  t.is(statusOf((await sender.call('message_status', { id })).text, 'rcpt'), 'delivered (inbox)', 'delivered once the transcript shows Claude Code took it, and by which path')

  const urgent = messageId((await sender.call('send_message', { to: 'rcpt', message: 'prod is down', priority: 'now' })).text)
  t.is((await inbox.next((f) => f.content.includes(urgent))).priority, 'now', '`now` goes as now')
  const fyi = messageId((await sender.call('send_message', { to: 'rcpt', message: 'fyi only', priority: 'low' })).text)
  await alice.wait({ status: { id: fyi, is: 'held' } })
  const checked = await rcpt.call('check_messages')
  t.ok(checked.text.includes('\nfyi only\n'), '`low` is never pushed, check_messages hands it over')
  t.absent(inbox.taken.some((f) => f.content.includes('fyi only')), 'and it never went to the inbox')

  const reply = await rcpt.call('send_message', { to: 'sender', message: 'port 5173', reply_to: id })
  t.absent(reply.isError, reply.text)
  await sender.notification((n) => n.content === 'port 5173')
  t.is(statusOf((await sender.call('message_status', { id })).text, 'rcpt'), 'read (inbox)', 'answered: read')
  t.is(rcpt.notifications.length, 0, 'no channel notification to a session with an inbox: one path per message')
  t.is(inbox.taken.filter((f) => f.content.includes(id)).length, 1, 'and the inbox got it once')
  const hook = await cli(bob.home, ['hook', 'UserPromptSubmit'], {}, '{}')
  t.is(hook.stdout, '', 'its hooks hand nothing over twice')
  const bad = await rcpt.call('send_message', { to: 'sender', message: 'x', reply_to: 'f'.repeat(32) })
  t.ok(bad.isError && bad.text.includes('reply_to: ') && bad.text.includes('not a message this session received'), 'reply_to must name a message received: ' + bad.text)
})

test('an inbox that does not take messages (a wrong token): nothing counted delivered, the session falls back to hooks and check_messages', { timeout: 120_000 }, async (t) => {
  const [alice, bob] = await joinedHomes(t, ['alice', 'bob'])
  const inbox = await FakeInbox.start(t)
  const sender = await McpSession.start(t, alice.home, ['--name', 'sender'])
  const rcpt = await McpSession.start(t, bob.home, ['--name', 'rcpt'], { ...inbox.env('0'.repeat(32)), CLAUDEMESH_CHANNELS: '0', CLAUDEMESH_INBOX_CONFIRM_MS: '1500' })
  await alice.wait({ sessions: 2 })
  const id = messageId((await sender.call('send_message', { to: 'rcpt', message: 'are you there?' })).text)
  await inbox.refusals(1)
  await alice.wait({ peer: { name: 'rcpt', receives: 'hooks' } })
  t.is(statusOf((await sender.call('message_status', { id })).text, 'rcpt'), 'held', 'the inbox dropped it in silence, so it is held, not delivered')
  t.is(inbox.taken.length, 0)
  const checked = await rcpt.call('check_messages')
  t.ok(checked.text.includes('\nare you there?\n'), 'check_messages hands it over')
  t.is(statusOf((await sender.call('message_status', { id })).text, 'rcpt'), 'read (check_messages)')
})

test('kill -9 of the daemon under two live sessions: both carry on with the same ids, held messages kept, back on the mesh for the others', { timeout: 150_000 }, async (t) => {
  const [alice, bob] = await joinedHomes(t, ['alice', 'bob'])
  const a = await McpSession.start(t, alice.home, ['--name', 'a'], { CLAUDEMESH_CHANNELS: '0' })
  const b = await McpSession.start(t, alice.home, ['--name', 'b'], { CLAUDEMESH_CHANNELS: '0' })
  const watcher = await McpSession.start(t, bob.home, ['--name', 'watcher'])
  await bob.wait({ sessions: 3 })
  const before = await sessionsOf(alice)
  await a.call('set_summary', { summary: 'migrating orders' })
  const held = messageId((await a.call('send_message', { to: 'b', message: 'held across the crash', priority: 'low' })).text)
  const fromBob = messageId((await watcher.call('send_message', { to: 'b', message: 'from the other machine', priority: 'low' })).text)
  await bob.wait({ status: { id: fromBob, is: 'held' } })
  t.is(statusOf((await watcher.call('message_status', { id: fromBob })).text, 'b'), 'held', 'held on alice\'s daemon before the crash (low waits for check_messages)')

  const pid = alice.pid() as number
  process.kill(pid, 'SIGKILL')
  // the first call waits for the MCP server to bring the daemon back and register again
  const checked = await b.call('check_messages')
  t.absent(checked.isError, checked.text)
  t.ok(checked.text.includes('\nheld across the crash\n') && checked.text.includes('\nfrom the other machine\n'), 'no held message was lost: ' + JSON.stringify(checked.text))
  t.not(alice.pid(), pid, 'a new daemon runs')
  await alice.wait({ peer: { name: 'a' } })
  await alice.wait({ peer: { name: 'b' } })
  const local = (s: SessionInfo[]): string[][] => s.filter((x) => x.name === 'a' || x.name === 'b').map((x) => [x.name, x.id]).sort()
  t.alike(local(await sessionsOf(alice)), local(before), 'both sessions are back with their ids')
  await bob.wait({ peer: { name: 'a', summary: 'migrating orders' } })
  t.pass('the other member sees session a again, with its summary')
  const sent = await a.call('send_message', { to: 'watcher', message: 'back' })
  t.absent(sent.isError, sent.text)
  await watcher.notification((n) => n.content === 'back')
  await bob.wait({ status: { id: fromBob, is: 'read' } })
  t.is(statusOf((await watcher.call('message_status', { id: fromBob })).text, 'b'), 'read (check_messages)', 'and the sender\'s status stayed true throughout')
  const heldStatus = (await a.call('message_status', { id: held })).text
  t.is(statusOf(heldStatus, 'b'), 'read (check_messages)', 'also for a message sent from the daemon that died: ' + JSON.stringify(heldStatus))
})
