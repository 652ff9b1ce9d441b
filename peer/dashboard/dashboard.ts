// The daemon's dashboard: its HTTP server (http.ts) wired to the daemon. The browser is a person
// at this machine, like the CLI: it calls the daemon's contract (only the methods marked `web`),
// as this member, with the same checks and errors; it downloads files through files.get into a
// private folder of the home, streamed and then deleted.
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Daemon } from '../daemon/daemon.js'
import { CONTRACT, isMethod } from '../daemon/contract.js'
import { writeFileAtomic } from '../daemon/home.js'
import { MeshError } from '../../protocol/errors.js'
import { randomBytes, toHex } from '../../protocol/crypto.js'
import { fileId } from '../../protocol/ops.js'
import { parse } from '../../protocol/schema.js'
import { DashboardServer, readAsset, type Asset } from './http.js'
import { LiveChanges } from './live.js'
import { INDEX_HTML, STYLE_CSS } from './page.js'

export interface Dashboard { url: string, origin: string, port: number, close: () => Promise<void> }

const WEB_DIR = fileURLToPath(new URL('./web/', import.meta.url))
const VIEW_LIBRARY = fileURLToPath(import.meta.resolve('htm/preact/standalone'))

export async function startDashboard (daemon: Daemon, port: number): Promise<Dashboard> {
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw MeshError.BAD_INPUT('dashboard.port', 'must be a port number from 0 to 65535')
  const downloads = path.join(daemon.paths.root, 'dashboard-downloads')
  fs.rmSync(downloads, { recursive: true, force: true })
  fs.mkdirSync(downloads, { recursive: true, mode: 0o700 })
  const live = new LiveChanges(daemon)
  const server = new DashboardServer(dashboardToken(path.join(daemon.paths.root, 'dashboard.token')), {
    call: async (method, params) => {
      if (!isMethod(method) || !CONTRACT[method].web) throw new MeshError('FORBIDDEN', `the dashboard cannot call ${method.slice(0, 64)}`)
      return await daemon.ipc.call(method, params, null)
    },
    download: async (mesh, id) => {
      parse(fileId, id, 'id')
      const saveTo = path.join(downloads, toHex(randomBytes(16)))
      const got = await daemon.ipc.call('files.get', { id, saveTo, mesh }, null) as { name: string, bytes: number }
      // open, then unlink: the stream reads the open file, and nothing is left behind whatever happens next
      const fd = fs.openSync(saveTo, 'r')
      fs.rmSync(saveTo, { force: true })
      return { name: got.name, size: got.bytes, stream: fs.createReadStream('', { fd }) }
    },
    changes: (onchange) => {
      live.on('change', onchange)
      return () => live.off('change', onchange)
    },
    assets: assets()
  })
  await server.listen(port)
  return {
    url: server.url,
    origin: server.origin,
    port: server.port,
    close: async () => {
      live.close()
      await server.close()
    }
  }
}

/** The page, its styles, its scripts (this build's web/ folder) and the view library. */
function assets (): Record<string, Asset> {
  const out: Record<string, Asset> = {
    'index.html': { type: 'text/html; charset=utf-8', body: () => INDEX_HTML },
    'style.css': { type: 'text/css; charset=utf-8', body: () => STYLE_CSS },
    'preact-htm.js': { type: 'text/javascript; charset=utf-8', body: readAsset(VIEW_LIBRARY) }
  }
  for (const name of fs.readdirSync(WEB_DIR)) {
    if (name.endsWith('.js')) out[name] = { type: 'text/javascript; charset=utf-8', body: readAsset(path.join(WEB_DIR, name)) }
  }
  return out
}

/** The daemon's secret for its dashboard, kept in the home (mode 0600) so a bookmarked URL keeps working. */
function dashboardToken (file: string): string {
  try {
    const token = fs.readFileSync(file, 'utf-8').trim()
    if (/^[0-9a-f]{64}$/.test(token)) return token
  } catch {}
  const token = toHex(randomBytes(32))
  writeFileAtomic(file, token + '\n')
  return token
}
