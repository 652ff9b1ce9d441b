// Sessions talk: real `claudemesh mcp` processes driven by the MCP SDK's stdio client, in two
// CLAUDEMESH_HOMEs joined to one mesh through a real relay.
import test from 'brittle'
import { JsonChannel } from '../protocol/channel.js'
import { SESSION_PROTOCOL } from '../protocol/session-wire.js'
import { fromHex, meshTopic } from '../protocol/crypto.js'
import { Member, cli, joinedHomes, joinedMesh } from './helpers/cli.js'
import { impersonate } from './helpers/rogue.js'
import { McpSession, messageId } from './helpers/mcp.js'

interface T { teardown (fn: () => unknown, opts?: { order?: number }): void }


async function twoHomes (t: T): Promise<{ alice: Member, bob: Member }> {
  const [alice, bob] = await joinedHomes(t, ['alice', 'bob'])
  return { alice, bob }
}

/** A session "sender" on alice, and "night-owl" on bob: seen by alice, then gone offline. */
async function senderAndAbsentNightOwl (t: T, alice: Member, bob: Member): Promise<McpSession> {
  const sender = await McpSession.start(t, alice.home, ['--name', 'sender'])
  const first = await McpSession.start(t, bob.home, ['--name', 'night-owl'])
  await alice.wait({ sessions: 2 })
  await first.close()
  await alice.wait({ sessions: 1 })
  return sender
}

function statusOf (text: string, name: string): string {
  return new RegExp(`- ${name} \\([0-9a-f]{64}\\): (\\w+)`).exec(text)?.[1] ?? 'missing'
}

test('three homes: messages by name, id prefix, @group, * and arrays reach each peer once, never the sender', { timeout: 120_000 }, async (t) => {
  const [alice, bob, carol] = await joinedHomes(t, ['alice', 'bob', 'carol'])
  const lead = await McpSession.start(t, alice.home, ['--name', 'lead', '--groups', 'dev:lead'])
  const worker = await McpSession.start(t, bob.home, ['--name', 'worker', '--groups', 'dev'])
  const reviewer = await McpSession.start(t, carol.home, ['--name', 'reviewer', '--groups', 'qa'])
  const helper = await McpSession.start(t, bob.home, ['--name', 'helper'])
  for (const m of [alice, bob, carol]) await m.wait({ sessions: 4 })

  const peers = await lead.call('list_peers')
  t.ok(/- lead \(you\) [0-9a-f]{64} role member/.test(peers.text), 'list_peers shows this session with its full id')
  t.ok(peers.text.includes('- worker ') && peers.text.includes('- reviewer '), 'and the sessions of the other home')
  const workerId = /- worker ([0-9a-f]{64})/.exec(peers.text)?.[1] ?? ''
  const reviewerId = /- reviewer ([0-9a-f]{64})/.exec(peers.text)?.[1] ?? ''
  const leadId = /- lead \(you\) ([0-9a-f]{64})/.exec(peers.text)?.[1] ?? ''

  const sent = await lead.call('send_message', { to: 'worker', message: 'please run the tests' })
  t.absent(sent.isError, sent.text)
  const id = messageId(sent.text)
  t.is(id.length, 32, 'send_message returns the complete message id')
  const got = await worker.notification((n) => n.content === 'please run the tests')
  const aliceKey = (await alice.json<{ swarmKey: string }>('status')).swarmKey
  t.alike(got, { content: 'please run the tests', meta: { from_name: 'lead', from_id: leadId, from_member: `alice (${aliceKey.slice(0, 8)})`, mesh: 'team', priority: 'next', message_id: id, thread: id } }, 'the channel notification has exactly this shape, the sending member named as the view knows it')
  await alice.wait({ delivered: id }) // the recipient's daemon reports back; the sender's daemon records it
  t.is(statusOf((await lead.call('message_status', { id })).text, 'worker'), 'delivered', 'status: delivered once pushed')

  await lead.call('send_message', { to: reviewerId.slice(0, 8), message: 'by id prefix' })
  await reviewer.notification((n) => n.content === 'by id prefix')
  t.pass('a unique id prefix addresses a session')

  await lead.call('send_message', { to: '@dev', message: 'group hello' })
  const groupMsg = await worker.notification((n) => n.content === 'group hello')
  t.is(groupMsg.meta.group, 'dev', 'a group message names its group')

  await lead.call('send_message', { to: '*', message: 'all hands' })
  await worker.notification((n) => n.content === 'all hands')
  await reviewer.notification((n) => n.content === 'all hands')

  await lead.call('send_message', { to: ['worker', '@dev', workerId, 'reviewer'], message: 'overlap' })
  await worker.call('send_message', { to: 'lead', message: 'sentinel' })
  await lead.notification((n) => n.content === 'sentinel')
  await reviewer.notification((n) => n.content === 'overlap')
  await lead.call('send_message', { to: 'worker', message: 'sentinel-2' })
  await worker.notification((n) => n.content === 'sentinel-2')
  t.is(worker.count((n) => n.content === 'overlap'), 1, 'named three ways, the worker gets the message once')
  t.is(lead.count((n) => ['group hello', 'all hands', 'overlap'].includes(n.content)), 0, 'the sender never receives its own multicast')

  await helper.notification((n) => n.content === 'all hands')
  const same = await worker.call('send_message', { to: 'helper', message: 'same member, two sessions' })
  t.absent(same.isError)
  await helper.notification((n) => n.content === 'same member, two sessions')
  t.pass('two sessions of one member message each other')
})

test('priorities are applied by the recipient: next waits for idle, now cuts through dnd, low waits for check_messages', { timeout: 120_000 }, async (t) => {
  const { alice, bob } = await twoHomes(t)
  const sender = await McpSession.start(t, alice.home, ['--name', 'sender'])
  const busy = await McpSession.start(t, bob.home, ['--name', 'busy'])
  await alice.wait({ sessions: 2 })

  await busy.call('set_status', { status: 'working' })
  const next = messageId((await sender.call('send_message', { to: 'busy', message: 'when you are free' })).text)
  await sender.call('send_message', { to: 'busy', message: 'low one', priority: 'low' })

  // the recipient reports `held` back; wait for it through another message that is pushed at once
  await busy.call('set_status', { status: 'dnd' })
  const urgent = messageId((await sender.call('send_message', { to: 'busy', message: 'production is down', priority: 'now' })).text)
  await busy.notification((n) => n.content === 'production is down')
  await alice.wait({ delivered: urgent })
  t.is(statusOf((await sender.call('message_status', { id: urgent })).text, 'busy'), 'delivered', '`now` is pushed even in dnd')
  t.is(statusOf((await sender.call('message_status', { id: next })).text, 'busy'), 'held', '`next` is held while the recipient is not idle')
  t.is(busy.count((n) => n.content === 'when you are free'), 0, 'and not pushed yet')

  await busy.call('set_status', { status: 'idle' })
  await busy.notification((n) => n.content === 'when you are free')
  await alice.wait({ delivered: next })
  t.is(statusOf((await sender.call('message_status', { id: next })).text, 'busy'), 'delivered', 'pushed and delivered once idle')
  t.is(busy.count((n) => n.content === 'low one'), 0, '`low` is never pushed')

  const checked = await busy.call('check_messages')
  t.ok(checked.text.includes('\nlow one\n') && checked.text.includes('<claudemesh-message from="sender"') && checked.text.includes('priority="low"'), 'check_messages hands over the low message, naming its sender: ' + JSON.stringify(checked.text))
  t.is((await busy.call('check_messages')).text, 'No new messages.', 'each message is handed over once')
})

test('a message to a name that is offline is queued and delivered when it starts', { timeout: 120_000 }, async (t) => {
  const { alice, bob } = await twoHomes(t)
  const sender = await senderAndAbsentNightOwl(t, alice, bob)

  const res = await sender.call('send_message', { to: 'night-owl', message: 'see this when you are back' })
  t.absent(res.isError, res.text)
  t.ok(res.text.includes('Queued for 24 h until online: night-owl'), res.text)
  const id = messageId(res.text)
  t.ok(/- night-owl: queued/.test((await sender.call('message_status', { id })).text), 'status: queued')

  const back = await McpSession.start(t, bob.home, ['--name', 'night-owl'])
  await back.notification((n) => n.content === 'see this when you are back')
  await alice.wait({ delivered: id })
  t.is(statusOf((await sender.call('message_status', { id })).text, 'night-owl'), 'delivered', 'delivered when the name appears')

  const unknown = await sender.call('send_message', { to: 'nobody-ever', message: 'hi' })
  t.ok(unknown.isError, 'a name never seen is an error')
  t.ok(unknown.text.includes('Online now: night-owl'), 'that lists who is online: ' + unknown.text)
})

test('time passing: a queued message expires after 24 h, and a peer silent for three heartbeats leaves the roster', { timeout: 120_000 }, async (t) => {
  const [alice, bob] = await joinedHomes(t, ['alice', 'bob'], { CLAUDEMESH_TEST_CLOCK: '1' })
  const sender = await senderAndAbsentNightOwl(t, alice, bob)
  const res = await sender.call('send_message', { to: 'night-owl', message: 'too late by a day' })
  const id = messageId(res.text)
  t.ok(/- night-owl: queued/.test((await sender.call('message_status', { id })).text), 'queued while night-owl is away')

  await alice.ipc('clock.advance', { ms: 24 * 3600 * 1000 + 1000 })
  t.ok(/- night-owl: expired/.test((await sender.call('message_status', { id })).text), 'expired 24 h later, and the sender can see it')
  const back = await McpSession.start(t, bob.home, ['--name', 'night-owl'])
  await alice.wait({ peer: { name: 'night-owl' } })
  const later = await sender.call('send_message', { to: 'night-owl', message: 'a fresh one' })
  t.absent(later.isError, later.text)
  await back.notification((n) => n.content === 'a fresh one')
  t.is(back.count((n) => n.content === 'too late by a day'), 0, 'the expired message is never delivered')

  // bob's heartbeats come every 30 s; 100 s with none of them on alice's clock: bob's session is gone
  await alice.ipc('clock.advance', { ms: 100_000 })
  await alice.wait({ sessions: 1 })
  t.pass('a remote session whose heartbeats stop is dropped from the roster')
})

test('presence: summary, status, groups and roles are visible to others; a killed session vanishes', { timeout: 120_000 }, async (t) => {
  const { alice, bob } = await twoHomes(t)
  const watcher = await McpSession.start(t, alice.home, ['--name', 'watcher'])
  const doer = await McpSession.start(t, bob.home, ['--name', 'doer', '--role', 'backend'])
  await alice.wait({ sessions: 2 })
  await doer.call('set_summary', { summary: 'migrating the orders table' })
  await doer.call('join_group', { name: 'db', role: 'lead' })
  await doer.call('set_status', { status: 'working' })
  await alice.wait({ peer: { name: 'doer', status: 'working', summary: 'migrating the orders table', group: 'db' } })
  const sessions = await alice.ipc('sessions.list')
  const seen = sessions[0].sessions.find((s) => s.name === 'doer')
  t.alike({ summary: seen?.summary, status: seen?.status, role: seen?.role, groups: seen?.groups }, { summary: 'migrating the orders table', status: 'working', role: 'backend', groups: [{ name: 'db', role: 'lead' }] }, 'the other home sees summary, status, role and group roles')
  const listed = await watcher.call('list_peers', { group: 'db' })
  t.ok(listed.text.includes('- doer ') && listed.text.includes('@db:lead') && listed.text.includes('migrating the orders table'), listed.text)

  process.kill(doer.pid ?? 0, 'SIGKILL')
  await alice.wait({ sessions: 1 })
  t.absent((await watcher.call('list_peers')).text.includes('doer'), 'a killed session is gone from the other home\'s roster')
})

test('bad arguments are refused with a clear error and change nothing', { timeout: 120_000 }, async (t) => {
  const alice = new Member(t, 'alice')
  // two sessions starting at once on a fresh machine share one local mesh
  const [a, b] = await Promise.all([McpSession.start(t, alice.home, ['--name', 'a']), McpSession.start(t, alice.home, ['--name', 'b'])])
  await alice.wait({ sessions: 2 })
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['send_message', { to: 'b', message: '' }, /message: must not be empty/],
    ['send_message', { to: 'b', message: 'x'.repeat(64 * 1024 + 1) }, /message: must be at most 65536 bytes/],
    ['send_message', { to: '@nogroup', message: 'x' }, /nobody online is in group @nogroup\. Online now: b/],
    ['send_message', { to: 'b', message: 'x', priority: 'urgent' }, /priority/],
    ['send_message', { to: [], message: 'x' }, /to/],
    ['message_status', { id: 'abc' }, /id: must be a 32-character message id/],
    ['set_status', { status: 'sleeping' }, /status/],
    ['join_group', { name: 'no spaces' }, /group\.name: may only contain/],
    ['leave_group', { name: 'never-joined' }, /not in group never-joined/]
  ]
  for (const [tool, args, expected] of cases) {
    const res = await a.call(tool, args)
    t.ok(res.isError, `${tool} ${JSON.stringify(args).slice(0, 60)} is refused`)
    t.ok(expected.test(res.text), `with a clear error: ${res.text.slice(0, 160)}`)
  }
  t.is(b.notifications.length, 0, 'nothing was delivered')
  t.is((await b.call('check_messages')).text, 'No new messages.')
  t.ok(a.client.getServerCapabilities()?.experimental?.['claude/channel'] !== undefined, 'the server declares the claude/channel capability')
  const instructions = a.client.getInstructions() ?? ''
  t.ok(instructions.includes('You are "a"') && instructions.includes('send_message'), 'instructions say who it is and the tools')
  t.ok(instructions.length < 6000, 'instructions stay short (under ~1,500 tokens)')
  t.ok((await alice.json<Array<{ name: string }>>('list'))[0].name === 'local', 'with no mesh joined, the first session created the local mesh')
})

test('bad frames and oversize messages from a peer: refused, counted, the daemon still serving', { timeout: 120_000 }, async (t) => {
  const { relay, members: [alice, bob], meshKey } = await joinedMesh(t, ['alice', 'bob'])
  // a misbehaving daemon with a genuine member identity: bob's
  const { conn, keyPair: bobKeyPair, destroy: destroyRogue } = await impersonate(t, relay, bob, alice)
  const channelClosed = (send: (ch: JsonChannel) => void): Promise<void> => new Promise((resolve) => {
    const ch = JsonChannel.open(conn, { protocol: SESSION_PROTOCOL, id: meshTopic(fromHex(meshKey)), maxFrame: 1 << 20, onopen: () => send(ch as JsonChannel), onframe: () => {}, onclose: () => resolve() })
  })

  await channelClosed((ch) => ch.sendRaw(Buffer.from('{"t": "msg", this is not json')))
  await alice.wait({ malformed: 1 })
  t.pass('a frame that is not JSON closes the channel and is counted')
  await channelClosed((ch) => ch.send({ t: 'msg', id: 'a'.repeat(32), from: { id: 'b'.repeat(64), name: 'bob', member: bobKeyPair.publicKey.toString('hex') }, to: ['c'.repeat(64)], group: null, priority: 'now', content: 'x'.repeat(70 * 1024), at: 1 }))
  await alice.wait({ malformed: 2 })
  t.pass('an oversize message closes the channel and is counted')
  await channelClosed((ch) => ch.sendRaw(Buffer.alloc(200 * 1024, 0x7b)))
  await alice.wait({ malformed: 3 })
  t.pass('an oversize frame closes the channel and is counted')
  const status = await alice.json<{ meshes: Array<{ malformedFrames: number }> }>('status')
  t.is(status.meshes[0].malformedFrames, 3, 'status reports the malformed frames')

  await destroyRogue()
  const a = await McpSession.start(t, alice.home, ['--name', 'a'])
  const b = await McpSession.start(t, bob.home, ['--name', 'b'])
  await alice.wait({ sessions: 2, connected: 1 })
  await a.call('send_message', { to: 'b', message: 'still here' })
  await b.notification((n) => n.content === 'still here')
  t.pass('the daemon kept serving: a real peer still gets messages')
})

test('hooks: a session without channels gets held messages at its next prompt, and its status follows the turn', { timeout: 120_000 }, async (t) => {
  const { alice, bob } = await twoHomes(t)
  const sender = await McpSession.start(t, alice.home, ['--name', 'sender'])
  // this test process plays Claude Code: it is the parent of the MCP server and an ancestor of the hook
  const plain = await McpSession.start(t, bob.home, ['--name', 'plain'], { CLAUDEMESH_CHANNELS: '0' })
  await alice.wait({ sessions: 2 })
  const hook = async (event: string): Promise<string> => {
    const res = await cli(bob.home, ['hook', event], {}, JSON.stringify({ hook_event_name: event, session_id: 'x', cwd: process.cwd() }))
    t.is(res.code, 0, `hook ${event} exits 0`)
    return res.stdout
  }
  const statusOfPlain = async (): Promise<string | undefined> => (await alice.ipc('sessions.list'))[0].sessions.find((s) => s.name === 'plain')?.status

  const id = messageId((await sender.call('send_message', { to: 'plain', message: 'review PR 42 please' })).text)
  t.is(plain.notifications.length, 0, 'no push to a session without channels')
  const out = JSON.parse(await hook('UserPromptSubmit')) as { hookSpecificOutput: { hookEventName: string, additionalContext: string } }
  t.is(out.hookSpecificOutput.hookEventName, 'UserPromptSubmit')
  t.ok(out.hookSpecificOutput.additionalContext.includes('review PR 42 please') && out.hookSpecificOutput.additionalContext.includes('from="sender"'), 'the held message is injected as additional context')
  await alice.wait({ delivered: id })
  t.pass('and counts as delivered')
  await alice.wait({ peer: { name: 'plain', status: 'working' } })
  t.is(await statusOfPlain(), 'working', 'UserPromptSubmit marks the session working, seen from the other home')
  t.is(await hook('UserPromptSubmit'), '', 'a message is injected once')

  await hook('Stop')
  await alice.wait({ peer: { name: 'plain', status: 'idle' } })
  t.is(await statusOfPlain(), 'idle', 'Stop marks it idle')
  await hook('SessionEnd')
  await alice.wait({ sessions: 1 })
  t.pass('SessionEnd takes the session offline everywhere')
})

test('threads across two machines: a reply joins its thread, shown to the recipient and in message_status; check_messages takes one thread', { timeout: 120_000 }, async (t) => {
  const { alice, bob } = await twoHomes(t)
  const lead = await McpSession.start(t, alice.home, ['--name', 'lead'])
  const worker = await McpSession.start(t, bob.home, ['--name', 'worker'])
  const plain = await McpSession.start(t, bob.home, ['--name', 'plain'], { CLAUDEMESH_CHANNELS: '0' })
  await alice.wait({ sessions: 3 })
  const first = await lead.call('send_message', { to: 'worker', message: 'can you take the orders migration?' })
  const root = first.data.id as string
  t.is(first.data.thread, root, 'a first message starts its own thread')
  await worker.notification((n) => n.meta.message_id === root)
  const reply = await worker.call('send_message', { to: 'lead', message: 'yes, starting now', reply_to: root })
  t.is(reply.data.thread, root, 'the reply is in the first message\'s thread')
  t.ok(reply.text.startsWith(`Message ${reply.data.id as string} (thread ${root})`), 'and says so')
  const got = await lead.notification((n) => n.meta.message_id === reply.data.id)
  t.is(got.meta.thread, root, 'the recipient on the other machine sees the thread')
  t.is(got.meta.reply_to, root, 'and what it answers')
  const again = await lead.call('send_message', { to: 'worker', message: 'thanks; ping me when done', reply_to: reply.data.id })
  t.is(again.data.thread, root, 'a reply to a reply stays in the thread')
  t.ok((await lead.call('message_status', { id: again.data.id })).text.includes(`(thread ${root})`), 'message_status shows the thread')
  await alice.wait({ status: { id: root, is: 'read' } })
  t.pass('answering in thread marks the first message read for its sender')

  // a session reading with check_messages takes one conversation at a time
  const a = await lead.call('send_message', { to: 'plain', message: 'topic A' })
  const b = await lead.call('send_message', { to: 'plain', message: 'topic B' })
  await alice.wait({ status: { id: b.data.id, is: 'held' } })
  const answer = await plain.call('send_message', { to: 'lead', message: 'about A', reply_to: a.data.id })
  const inA = await lead.notification((n) => n.meta.message_id === answer.data.id)
  await lead.call('send_message', { to: 'plain', message: 'more on A', reply_to: inA.meta.message_id })
  const c = await lead.call('send_message', { to: 'plain', message: 'topic C' })
  await alice.wait({ status: { id: c.data.id, is: 'held' } })
  const onlyA = await plain.call('check_messages', { thread: a.data.id })
  t.alike(onlyA.data.messages.map((m: { content: string }) => m.content), ['topic A', 'more on A'], 'check_messages(thread) takes only that thread: its first message and the replies')
  t.ok(onlyA.text.includes(`thread="${a.data.id as string}"`), 'and the block names the thread')
  const rest = await plain.call('check_messages')
  t.alike(rest.data.messages.map((m: { content: string }) => m.content).sort(), ['topic B', 'topic C'], 'the others waited')
  const bad = await plain.call('check_messages', { thread: 'nope' })
  t.is(bad.text, 'check_messages.thread: must be a 32-character message id as returned by send_message [BAD_INPUT]', 'a bad thread id is refused by name')
})
