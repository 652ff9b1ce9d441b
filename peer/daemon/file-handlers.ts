// IPC methods for files: share, get, list, status, delete. A session sees the
// mesh's shared files plus the attachments sent to it or by it; the CLI (this machine's user) sees
// the attachments this daemon sent or received.
import type { Daemon } from './daemon.js'
import type { IpcConnection } from './ipc.js'
import { caller, type Caller } from './caller.js'
import type { FileEntry } from '../mesh/apply.js'
import type { FileStatus } from './contract.js'
import { notForYou, type Progress } from '../mesh/files.js'

export function registerFileHandlers (daemon: Daemon): void {
  const ipc = daemon.ipc

  ipc.handle('files.share', async (p, conn) => {
    const c = caller(daemon, conn, p.mesh)
    const { entry } = await c.mesh.files.share(p.path, { name: p.name ?? null, tags: p.tags ?? [], by: c.by, onprogress: progress(conn, p.progress) })
    return entry
  })

  ipc.handle('files.get', async (p, conn) => {
    const c = caller(daemon, conn, p.mesh)
    if (c.sessions.keys.holds(p.id)) await c.mesh.files.arrival(p.id, p.timeoutSeconds * 1000)
    const entry = await c.mesh.files.usable(p.id)
    if (!visible(c, entry)) throw notForYou(entry)
    const key = entry.encrypted ? c.sessions.keys.keyFor(entry.id, c.session?.info.id ?? null) : null
    const fetched = await c.mesh.files.get(entry, { saveTo: p.saveTo, overwrite: p.overwrite, key, by: c.by, idleMs: p.timeoutSeconds * 1000, onprogress: progress(conn, p.progress) })
    return { ...fetched, name: entry.name, size: entry.size, mime: entry.mime }
  })

  ipc.handle('files.list', async (p, conn) => {
    const c = caller(daemon, conn, p.mesh)
    const query = (p.query ?? '').trim().toLowerCase()
    const from = (p.from ?? '').trim()
    const tags = p.tags ?? []
    return (await c.mesh.files.list()).filter((e) =>
      visible(c, e) &&
      (query === '' || e.name.toLowerCase().includes(query) || e.tags.some((t) => t.toLowerCase().includes(query))) &&
      (from === '' || e.by.session === from || e.by.member === from || (from.length >= 4 && e.by.sessionId?.startsWith(from) === true)) &&
      tags.every((t) => e.tags.includes(t)))
  })

  ipc.handle('files.overview', async (p, conn) => {
    const c = caller(daemon, conn, p.mesh)
    const out = []
    for (const entry of await c.mesh.files.list()) {
      if (visible(c, entry)) out.push({ ...entry, accesses: await c.mesh.files.accesses(entry.id) })
    }
    return out
  })

  ipc.handle('files.status', async (p, conn) => {
    const c = caller(daemon, conn, p.mesh)
    const entry = await c.mesh.files.usable(p.id)
    if (!visible(c, entry)) throw notForYou(entry)
    return { file: entry, accesses: await c.mesh.files.accesses(p.id) }
  })

  ipc.handle('files.delete', async (p, conn) => {
    const c = caller(daemon, conn, p.mesh)
    const entry = await c.mesh.files.usable(p.id)
    if (!visible(c, entry)) throw notForYou(entry)
    await c.mesh.files.delete(p.id, c.by)
    return { id: p.id, name: entry.name, deleted: true as const }
  })
}

/** Attachments are for their sender and recipients; everything else is for the whole mesh. */
function visible (c: Caller, entry: FileEntry): boolean {
  if (entry.kind === 'persistent') return true
  if (c.session === null) return entry.writer === c.mesh.localWriter || c.sessions.keys.holds(entry.id)
  return entry.by.sessionId === c.session.info.id || c.sessions.keys.keyFor(entry.id, c.session.info.id) !== null
}

/** Progress pushed to the caller's connection, at most every 200 ms and once at the end. */
function progress (conn: IpcConnection | null, token: string | null | undefined): Progress | undefined {
  if (conn === null || token === undefined || token === null) return undefined
  let last = 0
  return (bytes, total) => {
    const now = Date.now()
    if (bytes < total && now - last < 200) return
    last = now
    conn.send({ event: 'progress', data: { token, bytes, total } })
  }
}
