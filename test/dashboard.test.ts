// The dashboard in a real Chromium (playwright-core), against real daemons of two members joined
// through a real relay, with live MCP sessions: what a person sees and what their clicks do.
// Screenshots of each page go to test/artifacts/. Without Chromium (`.ci/run` installs Debian's),
// the browser tests are not run and say so (in CI they fail instead); the port's refusals are
// tested with plain HTTP requests either way.
import fs from 'node:fs'
import path from 'node:path'
import http from 'node:http'
import crypto from 'node:crypto'
import test from 'brittle'
import { Member, joinedHomes, tmpDir } from './helpers/cli.js'
import { McpSession } from './helpers/mcp.js'
import { chromiumPath, openBrowser, openPage, screenshot } from './helpers/browser.js'
import { homePaths } from '../peer/daemon/home.js'

interface T { teardown (fn: () => unknown, opts?: { order?: number }): void, fail (message: string): void }

const CHROMIUM = chromiumPath()

async function dashboardUrl (member: Member): Promise<string> {
  const res = await member.run('dashboard', '--url')
  if (res.code !== 0) throw new Error(`dashboard --url failed: ${res.stderr}`)
  return res.stdout.trim()
}

function sha256 (bytes: Buffer): string {
  return crypto.createHash('sha256').update(bytes).digest('hex')
}

if (CHROMIUM === null) {
  if (process.env.CI === 'true') {
    test('Chromium is installed for the dashboard tests', async (t) => { t.fail('no chromium: .ci/run should have installed Debian\'s chromium') })
  } else {
    process.stdout.write('# NOT RUN (not counted): the dashboard\'s browser tests (dashboard.test.js): no Chromium (install Debian\'s chromium, or set CLAUDEMESH_CHROMIUM)\n')
  }
} else {
  const chromium = CHROMIUM

  test('dashboard in Chromium: peers appear live; a state edit reaches a session; a misspelt memory search finds it; forget and delete', { timeout: 180_000 }, async (t) => {
    const [alice, bob] = await joinedHomes(t, ['alice', 'bob'])
    const lead = await McpSession.start(t, alice.home, ['--name', 'lead', '--groups', 'dev:lead'])
    const worker = await McpSession.start(t, bob.home, ['--name', 'worker', '--role', 'backend'])
    await worker.call('set_summary', { summary: 'migrating the orders table' })
    await alice.wait({ peer: { name: 'worker', summary: 'migrating the orders table' } })
    const browser = await openBrowser(t, chromium)
    const page = await openPage(browser, (m) => t.fail(`script error in the page: ${m}`))
    const url = await dashboardUrl(alice)
    t.ok(url.startsWith('http://127.0.0.1:') && /\/t\/[0-9a-f]{64}\/$/.test(url), 'dashboard --url prints a loopback URL with the token in its path')

    // Peers
    await page.goto(url + '#/peers')
    await page.locator('[data-session="lead"]').waitFor()
    const workerRow = page.locator('[data-session="worker"]')
    await workerRow.waitFor()
    const workerText = await workerRow.textContent() ?? ''
    t.ok(workerText.includes('backend') && workerText.includes('migrating the orders table') && workerText.includes('bob'), 'a session on the other member shows its role, summary and member')
    t.ok((await page.locator('[data-session="lead"]').textContent())?.includes('@dev: lead'), 'groups and roles show')
    const bobConnection = await page.locator('[data-member="bob"] .conn').textContent()
    t.ok(['direct', 'TCP link', 'relayed'].includes(bobConnection ?? ''), `the other member's connection shows: ${bobConnection}`)
    await page.evaluate(() => { (window as unknown as { stayed: boolean }).stayed = true })
    const late = await McpSession.start(t, bob.home, ['--name', 'late'])
    await page.locator('[data-session="late"]').waitFor()
    t.is(await page.evaluate(() => (window as unknown as { stayed?: boolean }).stayed), true, 'a new session appears without a reload')
    await lead.call('claim', { paths: ['docs/dashboard/**'], note: 'writing the guide' })
    await page.locator('[data-session="lead"] .claims', { hasText: 'docs/dashboard/**' }).waitFor()
    t.pass('a session\'s live claims show, live')
    await screenshot(page, 'peers')
    await late.close()
    await page.locator('[data-session="late"]').waitFor({ state: 'detached' })
    t.pass('a session that ends goes away live')

    // State: an edit in the page reaches a session as a state change
    await lead.call('set_state', { key: 'deploy/status', value: { stage: 'canary', percent: 10 } })
    await page.goto(url + '#/state')
    const entry = page.locator('[data-key="deploy/status"]')
    await entry.locator('pre.json').waitFor()
    t.ok((await entry.locator('pre.json').textContent())?.includes('"stage": "canary"'), 'the value shows as formatted JSON')
    t.ok((await entry.textContent())?.includes('set by lead on alice'), 'who set it')
    await entry.locator('[data-action="edit"]').click()
    await entry.locator('textarea[name="value"]').fill('{ "stage": "live", "percent": 100 }')
    await entry.locator('[data-action="save"]').click()
    const change = await worker.notification((n) => n.meta.kind === 'state_change' && n.meta.key === 'deploy/status' && n.meta.value === '{"stage":"live","percent":100}')
    t.is(change.meta.by_member, 'alice', 'the session on the other member is told, by alice')
    await entry.locator('pre.json', { hasText: '"live"' }).waitFor()
    t.pass('the page shows the new value')
    // the same checks as set_state: a value that is not JSON, a key over the limit
    await entry.locator('[data-action="edit"]').click()
    await entry.locator('textarea[name="value"]').fill('{ stage: live }')
    await entry.locator('[data-action="save"]').click()
    t.ok((await entry.locator('.error').textContent())?.startsWith('value: must be JSON'), 'not JSON: refused, naming the value')
    await page.locator('[data-action="add"]').click()
    const editor = page.locator('form.editor.add')
    await editor.locator('input[name="key"]').fill('k'.repeat(300))
    await editor.locator('textarea[name="value"]').fill('1')
    await editor.locator('[data-action="save"]').click()
    t.is(await editor.locator('.error').textContent(), 'set_state.key: must be at most 256 characters', 'a key over the limit: set_state\'s own error')
    await screenshot(page, 'state')
    t.alike((await alice.json('state', 'get', 'deploy/status')).value, { stage: 'live', percent: 100 }, 'the refused edits changed nothing')
    t.is((await alice.json('state', 'list')).length, 1, 'and added nothing')
    await page.goto(url + '#/state')
    await entry.locator('[data-action="delete"]').click()
    await entry.locator('[data-action="confirm-delete"]').click()
    await entry.waitFor({ state: 'detached' })
    await worker.notification((n) => n.meta.kind === 'state_change' && n.meta.key === 'deploy/status' && n.meta.deleted === 'true')
    t.is((await bob.run('state', 'get', 'deploy/status')).code, 1, 'deleted for everyone')

    // Memory: ranked, fuzzy recall; tags as filters; forget
    const runbook = (await bob.json('memory', 'remember', 'The deployment runbook is in docs/runbook.md', '--tag', 'ops')).id as string
    await bob.json('memory', 'remember', 'Lunch is at noon on Fridays', '--tag', 'social')
    await alice.wait({ memory: 2 })
    await page.goto(url + '#/memory')
    await page.locator('[data-tag="social"]').waitFor()
    await page.locator('input[name="query"]').fill('deploymnet runbok')
    await page.locator(`ul.entries li:first-child[data-memory="${runbook}"] .score`).waitFor()
    t.ok((await page.locator('ul.entries li').first().textContent())?.includes('docs/runbook.md'), 'a misspelt search finds the runbook first')
    await page.locator('input[name="query"]').fill('')
    // with no query, every entry, newest first (no scores)
    await page.locator('ul.entries li:first-child:not(:has(.score))', { hasText: 'Lunch' }).waitFor()
    await page.locator('[data-tag="social"]').click()
    await page.locator(`[data-memory="${runbook}"]`).waitFor({ state: 'detached' })
    t.is(await page.locator('ul.entries li').count(), 1, 'a tag filters: only the social entry')
    t.ok((await page.locator('ul.entries li').textContent())?.includes('Lunch'), 'the lunch entry')
    await page.locator('[data-tag="social"]').click()
    await screenshot(page, 'memory')
    const item = page.locator(`[data-memory="${runbook}"]`)
    await item.locator('[data-action="forget"]').click()
    await item.locator('[data-action="confirm-forget"]').click()
    await item.waitFor({ state: 'detached' })
    await bob.wait({ memory: 1 })
    t.absent((await bob.json('memory', 'list')).some((m: { id: string }) => m.id === runbook), 'forgotten for everyone')
  })

  test('dashboard in Chromium: files by tag, download with identical bytes, who fetched it, delete refused and allowed; the opt-in message log', { timeout: 180_000 }, async (t) => {
    const [alice, bob] = await joinedHomes(t, ['alice', 'bob'])
    const dir = tmpDir(t, 'cm-files-')
    const design = path.join(dir, 'design.bin')
    const bytes = crypto.randomBytes(300 * 1024)
    fs.writeFileSync(design, bytes)
    const notes = path.join(dir, 'notes.txt')
    fs.writeFileSync(notes, 'meeting notes\n')
    const shared = await bob.json('files', 'share', design, '--tag', 'designs')
    await alice.json('files', 'share', notes, '--tag', 'docs')
    await alice.wait({ files: 2 })
    await bob.wait({ files: 2 })
    const browser = await openBrowser(t, chromium)
    const page = await openPage(browser, (m) => t.fail(`script error in the page: ${m}`))
    const url = await dashboardUrl(alice)

    await page.goto(url + '#/files')
    await page.locator('[data-folder="designs"]').click()
    const row = page.locator('[data-file="design.bin"]')
    await row.waitFor()
    t.ok((await row.textContent())?.includes('bob (person)'), 'the uploader shows')
    t.ok((await row.locator('.fetched').textContent())?.includes('nobody yet'), 'nobody fetched it yet')
    const downloading = page.waitForEvent('download')
    await row.locator('[data-action="download"]').click()
    const download = await downloading
    t.is(download.suggestedFilename(), 'design.bin', 'the browser saves it under its name')
    const saved = await download.path()
    t.is(sha256(fs.readFileSync(saved)), sha256(bytes), 'the downloaded bytes are identical')
    await row.locator('.fetched', { hasText: 'alice (person)' }).waitFor()
    t.pass('who fetched it updates live')
    t.is(fs.readdirSync(path.join(alice.home, 'dashboard-downloads')).length, 0, 'nothing of the download is left in the home')
    await screenshot(page, 'files')

    // delete where the rules allow it: bob (a member) cannot delete alice's file; alice (the owner) can delete bob's
    const bobPage = await openPage(browser, (m) => t.fail(`script error in bob's page: ${m}`))
    await bobPage.goto(await dashboardUrl(bob) + '#/files')
    const notesRow = bobPage.locator('[data-file="notes.txt"]')
    await notesRow.locator('[data-action="delete"]').click()
    await notesRow.locator('[data-action="confirm-delete"]').click()
    const refused = await bobPage.locator('.error').textContent()
    t.ok(refused?.includes('notes.txt') && refused.includes('or the mesh owner can delete it'), `refused for bob: ${refused}`)
    t.ok((await bob.json('files', 'list')).some((f: { name: string }) => f.name === 'notes.txt'), 'and it is still there')
    await row.locator('[data-action="delete"]').click()
    await row.locator('[data-action="confirm-delete"]').click()
    await row.waitFor({ state: 'detached' })
    await bob.wait({ files: 1 })
    t.absent((await bob.json('files', 'list')).some((f: { id: string }) => f.id === shared.id), 'the owner deleted it for everyone')

    // attachments go under Recent, by day
    const lead = await McpSession.start(t, alice.home, ['--name', 'lead'])
    const worker = await McpSession.start(t, bob.home, ['--name', 'worker'])
    await alice.wait({ sessions: 2 })
    await lead.call('send_message', { to: 'worker', message: 'the notes', file: notes })
    await page.locator('[data-folder="Recent"]').click()
    await page.locator('.folder-view h3').waitFor()
    t.ok((await page.locator('.folder-view').textContent())?.includes('notes.txt'), 'an attachment alice sent shows under Recent, by day')

    // the message log: off until turned on, then live; off again deletes it
    await page.goto(url + '#/messages')
    await page.locator('[data-action="log-on"]').waitFor()
    t.ok((await page.locator('.settings').textContent())?.includes('off'), 'the message log is off by default')
    t.is((await alice.ipc('messages.log', {})).messages.length, 0, 'nothing was kept before')
    await page.locator('[data-action="log-on"]').click()
    await page.locator('[data-action="log-off"]').waitFor()
    await lead.call('send_message', { to: 'worker', message: 'please review PR 7' })
    await page.locator('.entry.message.sent', { hasText: 'please review PR 7' }).waitFor()
    await worker.call('send_message', { to: 'lead', message: 'on it' })
    await page.locator('.entry.message.received', { hasText: 'on it' }).waitFor()
    t.pass('sent and received messages appear live')
    await screenshot(page, 'messages')
    t.alike((await bob.ipc('messages.log', {})).settings.enabled, false, 'bob\'s daemon logs nothing: the log is this machine\'s own choice')
    const logFile = path.join(alice.home, 'message-log.jsonl')
    t.ok(fs.existsSync(logFile) && (fs.statSync(logFile).mode & 0o077) === 0, 'the log is a file only this user can read')
    await page.locator('[data-action="log-off"]').click()
    await page.locator('[data-action="confirm-log-off"]').click()
    await page.locator('[data-action="log-on"]').waitFor()
    t.absent(fs.existsSync(logFile), 'turning it off deletes it')
  })
}

/** One HTTP request with whatever Host and Origin the caller says (fetch cannot set Host). */
function request (port: number, opts: { path: string, method?: string, host?: string, origin?: string, body?: unknown }): Promise<{ status: number, body: string }> {
  return new Promise((resolve, reject) => {
    const body = opts.body === undefined ? undefined : JSON.stringify(opts.body)
    const headers: Record<string, string> = { Host: opts.host ?? `127.0.0.1:${port}` }
    if (opts.origin !== undefined) headers.Origin = opts.origin
    if (body !== undefined) { headers['Content-Type'] = 'application/json'; headers['Content-Length'] = String(Buffer.byteLength(body)) }
    const req = http.request({ host: '127.0.0.1', port, path: opts.path, method: opts.method ?? 'GET', headers }, (res) => {
      let text = ''
      res.setEncoding('utf-8').on('data', (d: string) => { text += d }).on('end', () => resolve({ status: res.statusCode ?? 0, body: text }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

test('the dashboard port refuses requests without the token, with a wrong one, from another Origin or Host, and what it may not call; they change nothing', { timeout: 90_000 }, async (t) => {
  const alice = new Member(t, 'alice')
  await alice.json('create', 'team')
  await alice.json('state', 'set', 'guarded', '1')
  const url = new URL(await dashboardUrl(alice))
  const port = Number(url.port)
  const token = url.pathname.split('/')[2]
  const set = `/t/${token}/api/call/state.set`
  const evil = { key: 'guarded', value: 'changed' }

  const ok = await request(port, { path: set, method: 'POST', body: { key: 'probe', value: 1 }, origin: `http://127.0.0.1:${port}` })
  t.is(ok.status, 200, 'with the token and this origin, a call works (so the refusals below are the guard)')
  t.is((await request(port, { path: '/' })).status, 401, 'no token: 401')
  t.is((await request(port, { path: '/api/call/state.set', method: 'POST', body: evil })).status, 401, 'an API call without the token: 401')
  t.is((await request(port, { path: `/t/${'0'.repeat(64)}/api/call/state.set`, method: 'POST', body: evil })).status, 401, 'a wrong token: 401')
  t.is((await request(port, { path: `/t/${token.slice(0, 63)}/`, method: 'GET' })).status, 401, 'a token one character short: 401')
  t.is((await request(port, { path: `/t/${'0'.repeat(64)}/api/events` })).status, 401, 'the live stream with a wrong token: 401')
  const foreign = await request(port, { path: set, method: 'POST', body: evil, origin: 'http://evil.example' })
  t.is(foreign.status, 403, 'another web page (a foreign Origin), even with the token: 403')
  t.ok(foreign.body.includes('evil.example'), 'saying which origin was refused')
  t.is((await request(port, { path: set, method: 'POST', body: evil, origin: `http://127.0.0.1:${port + 1}` })).status, 403, 'a page on another local port: 403')
  t.is((await request(port, { path: set, method: 'POST', body: evil, host: `rebound.example:${port}` })).status, 403, 'a rebound DNS name (foreign Host): 403')
  t.is((await request(port, { path: `/t/${token}/`, host: `rebound.example:${port}` })).status, 403, 'the page itself under a foreign Host: 403')
  const stop = await request(port, { path: `/t/${token}/api/call/stop`, method: 'POST', body: {} })
  t.is(stop.status, 403, 'a method the dashboard may not call (stop): 403')
  t.is((await request(port, { path: `/t/${token}/api/call/session.register`, method: 'POST', body: { cwd: '/' } })).status, 403, 'nor register a session')
  const download = await request(port, { path: `/t/${token}/api/files/${'a'.repeat(32)}?mesh=team` })
  t.is(download.status, 404, 'a file that does not exist: 404')
  const bad = await request(port, { path: set, method: 'POST', body: { key: '', value: 1 } })
  t.is(bad.status, 400, 'bad parameters: 400')
  t.ok(bad.body.includes('set_state.key: must not be empty'), 'with set_state\'s error')
  t.is((await alice.json('state', 'get', 'guarded')).value, 1, 'no refused request changed anything')
  t.is((await alice.json('status')).running, true, 'the daemon still runs')
  const mode = fs.statSync(path.join(homePaths(alice.home).root, 'dashboard.token')).mode & 0o777
  t.is(mode, 0o600, 'the token is kept in a file only this user can read')
  t.is(await dashboardUrl(alice), url.href, 'the URL stays the same while the daemon runs')
})
