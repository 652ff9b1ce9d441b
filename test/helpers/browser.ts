// A real Chromium for the dashboard tests, driven by playwright-core. Chromium can reach out on its
// own (updates, safe browsing, DNS prefetch): every name resolves to nothing but 127.0.0.1, and
// everything else goes to a proxy on 127.0.0.1:9 where nothing listens, so no packet leaves the
// machine; background networking is off.
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser, type Page } from 'playwright-core'

interface Teardown { teardown (fn: () => unknown, opts?: { order?: number }): void }

/** Screenshots for a reviewer: test/artifacts/ in the repository (not committed). */
export const ARTIFACTS = fileURLToPath(new URL('../../../test/artifacts/', import.meta.url))

const FLAGS = [
  '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--no-default-browser-check',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-default-apps', '--disable-domain-reliability',
  '--disable-client-side-phishing-detection', '--disable-quic', '--no-pings', '--metrics-recording-only',
  '--proxy-server=127.0.0.1:9', '--proxy-bypass-list=127.0.0.1;localhost',
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost'
]

export function chromiumPath (): string | null {
  const configured = process.env.CLAUDEMESH_CHROMIUM
  if (configured !== undefined && configured !== '') return configured
  for (const p of ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome']) if (fs.existsSync(p)) return p
  return null
}

export async function openBrowser (t: Teardown, executablePath: string): Promise<Browser> {
  const browser = await chromium.launch({ executablePath, args: FLAGS, headless: true, timeout: 60_000 })
  t.teardown(() => browser.close(), { order: 1 })
  return browser
}

/** A page that fails the test on a script error in it. */
export async function openPage (browser: Browser, onerror: (message: string) => void): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 }, acceptDownloads: true })
  page.on('pageerror', (err) => onerror(err.message))
  page.setDefaultTimeout(30_000)
  return page
}

export async function screenshot (page: Page, name: string): Promise<string> {
  fs.mkdirSync(ARTIFACTS, { recursive: true })
  const file = path.join(ARTIFACTS, `${name}.png`)
  await page.screenshot({ path: file, fullPage: true })
  return file
}
