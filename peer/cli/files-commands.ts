// `claudemesh files share|get|list|status|delete`: the mesh's files, as sessions see them with
// share_file/get_file/list_files/file_status/delete_file. Thin clients of the daemon's files.* IPC;
// share and get draw a progress bar on stderr from the daemon's progress pushes.
import path from 'node:path'
import fs from 'node:fs'
import crypto from 'node:crypto'
import { InvalidArgumentError, type Command } from 'commander'
import type { IpcClient } from '../daemon/ipc-client.js'
import type { FileEntry, Result } from '../daemon/contract.js'
import { print, printJson, ago, humanBytes } from './output.js'
import { call, withDaemon } from './daemon-call.js'
import { MeshError } from '../../protocol/errors.js'

interface Fetched { id: string, path: string, bytes: number, hash: string, name: string, size: number, mime: string }
interface MeshOpts { mesh?: string, json?: boolean }
interface ProgressOpts extends MeshOpts { progress?: boolean }

const FULL_ID = /^[0-9a-f]{32}$/
const ID_PREFIX = /^[0-9a-f]{4,31}$/
const MAX_TIMEOUT_S = 86_400

const LIMITS_HELP = `
Limits: a file may be at most 1 GiB by default. The limit is the sharing daemon's: set it with
CLAUDEMESH_MAX_FILE_BYTES (read when the daemon starts) or "maxFileBytes" in
$CLAUDEMESH_HOME/settings.json, then restart the daemon (\`claudemesh daemon stop\`).
Files shared here are persistent: every member can list and fetch them until the uploader or the
mesh owner deletes them. Attachments are different: a session sends them with send_message's
\`file\`/\`files\`, only the recipients (and the sender) can read them, and they expire after 24 h.`

const ID_HELP = 'file id, or a unique prefix of it (4+ hex characters, as `claudemesh files list` shows)'

export function addFileCommands (program: Command): void {
  const files = program.command('files')
    .description('Share files with the mesh and fetch them (the same files sessions see with share_file/get_file/list_files).')
    .addHelpText('after', `
Each member's daemon keeps the files it shares in its own hyperdrive; the mesh's log indexes them,
and other members fetch the bytes directly from peers that have them, encrypted.
${LIMITS_HELP}

Examples:
  claudemesh files share ./design.pdf --tag docs
  claudemesh files list --tag docs
  claudemesh files get 3f2a9c1d ~/Downloads        # saves ~/Downloads/design.pdf
  claudemesh files status 3f2a9c1d                 # who fetched it, when
  claudemesh files delete 3f2a9c1d`)

  files.command('share')
    .description('Share a file with every member of the mesh; prints its id, name and size.')
    .argument('<path>', 'the file to share (a regular file; relative to the current folder)')
    .option('--name <name>', 'the name others see (default: the file\'s own name; no "/" or "\\", up to 255 characters)')
    .option('--tag <tag...>', 'tags to find it by (up to 20, each up to 64 characters); put this option last')
    .option('--mesh <name>', 'which mesh (needed when several are joined)')
    .option('--progress', 'draw the progress bar even when stderr is not a terminal (one line a second)')
    .option('--json', 'print the file entry as JSON (no progress bar)')
    .addHelpText('after', `
The daemon reads the file once, into its own drive (changing or removing the original later does
not change what was shared), so it must be readable by the daemon's user. Others fetch the bytes
from peers that hold them: keep this daemon running until they have.
${LIMITS_HELP}`)
    .action(async (file: string, opts: ProgressOpts & { name?: string, tag?: string[] }) => {
      const abs = path.resolve(file)
      const entry = await withDaemon(async (client) =>
        await withProgress(client, opts, `share ${path.basename(abs)}`, async (progress) =>
          await client.request('files.share', { path: abs, name: opts.name ?? null, tags: opts.tag ?? [], mesh: opts.mesh ?? null, progress })))
      if (opts.json === true) return printJson(entry)
      print(`Shared ${entry.name} (${sizeText(entry.size)}) as ${entry.id}`)
    })

  files.command('get')
    .description('Fetch a file from the peers that have it, verify its sha256, and save it.')
    .argument('<id>', ID_HELP)
    .argument('<save_to>', 'where to save it: a file path, or an existing folder to save it there under its name')
    .option('--overwrite', 'replace the file at <save_to> if there is one')
    .option('--timeout <seconds>', `give up when no peer sends any of it for this long (1 to ${MAX_TIMEOUT_S})`, seconds, 60)
    .option('--mesh <name>', 'which mesh (needed when several are joined)')
    .option('--progress', 'draw the progress bar even when stderr is not a terminal (one line a second)')
    .option('--json', 'print id, path, bytes, hash, name, size and mime as JSON (no progress bar)')
    .addHelpText('after', `
The file is written to a temporary file in the target folder, checked against the sha256 recorded
when it was shared, flushed to disk and only then moved into place: <save_to> never holds a partial
or corrupt file. An existing file is replaced only with --overwrite. Files of 16 MiB and more come
straight from a member that holds them and are not kept by this daemon; if that member goes away,
the transfer carries on from where it was when it (or another holder) is back. If nothing arrives
for --timeout seconds, get fails; what arrived is kept (for a large shared file, in a hidden
.<name>.<id>.claudemesh-partial beside <save_to>), so running it again to the same place resumes.
Each fetch is recorded and shown by \`claudemesh files status\`.
${LIMITS_HELP}`)
    .action(async (idArg: string, saveTo: string, opts: ProgressOpts & { overwrite?: boolean, timeout: number }) => {
      const res = await withDaemon(async (client) => {
        const id = await resolveId(client, idArg, opts.mesh)
        let target = path.resolve(saveTo)
        if (isDirectory(target)) {
          const status = await client.request('files.status', { id, mesh: opts.mesh ?? null })
          target = path.join(target, status.file.name)
        }
        return await withProgress(client, opts, `get ${path.basename(target)}`, async (progress) =>
          await client.request('files.get', { id, saveTo: target, overwrite: opts.overwrite === true, timeoutSeconds: opts.timeout, mesh: opts.mesh ?? null, progress }))
      }).catch((err: unknown) => { throw forCli(err) })
      if (opts.json === true) return printJson(res)
      print(`Saved ${res.name} (${sizeText(res.bytes)}) to ${res.path}`)
    })

  files.command('list')
    .description('List the mesh\'s files, oldest first: id prefix, name, size, kind, who shared it and when.')
    .option('--query <text>', 'only files whose name or a tag contains this text (any case)')
    .option('--from <who>', 'only files shared by this session name, member label, or session id prefix')
    .option('--tag <tag...>', 'only files with all of these tags')
    .option('--mesh <name>', 'which mesh (needed when several are joined)')
    .option('--json', 'print the whole entries as JSON (full ids, hashes, expiry)')
    .addHelpText('after', `
Shows persistent files, plus the attachments this daemon sent or received; expired and deleted
files are gone. Use the id prefix with get, status and delete.`)
    .action(async (opts: MeshOpts & { query?: string, from?: string, tag?: string[] }) => {
      const list = await call('files.list', { query: opts.query ?? null, from: opts.from ?? null, tags: opts.tag ?? [], mesh: opts.mesh ?? null })
      if (opts.json === true) return printJson(list)
      if (list.length === 0) return print('No files. Share one with: claudemesh files share <path>')
      const now = Date.now()
      const rows = list.map((e) => [e.id.slice(0, 12), clip(e.name, 48), humanBytes(e.size), kindText(e, now), author(e.by), `${ago(Math.max(0, now - e.at))} ago`])
      printTable(['ID', 'NAME', 'SIZE', 'KIND', 'BY', 'WHEN'], rows)
    })

  files.command('status')
    .description('Show one file: what it is, who shared it, and who fetched it when.')
    .argument('<id>', ID_HELP)
    .option('--mesh <name>', 'which mesh (needed when several are joined)')
    .option('--json', 'print {file, accesses} as JSON')
    .action(async (idArg: string, opts: MeshOpts) => {
      const res = await requestById('files.status', idArg, opts.mesh)
      if (opts.json === true) return printJson(res)
      const { file: e, accesses } = res
      const now = Date.now()
      print(`${e.name}  ${e.id}`)
      print(`  size     ${sizeText(e.size)}, ${e.mime}`)
      print(`  kind     ${e.kind}${e.expiresAt !== null ? `, expires ${when(e.expiresAt, now)}` : ''}${e.encrypted ? ', sealed for its recipients' : ''}`)
      print(`  shared   by ${author(e.by)}, ${when(e.at, now)}`)
      if (e.tags.length > 0) print(`  tags     ${e.tags.join(', ')}`)
      print(`  sha256   ${e.hash}${e.encrypted ? ' (of the sealed bytes)' : ''}`)
      if (accesses.length === 0) return print('  fetched  not yet')
      print(`  fetched  ${accesses.length} time${accesses.length === 1 ? '' : 's'}:`)
      for (const a of [...accesses].sort((x, y) => x.at - y.at)) print(`    ${author(a.by).padEnd(28)} ${when(a.at, now)}`)
    })

  files.command('delete')
    .description('Delete a file for everyone: its entry goes, and every member clears its blocks. Uploader or mesh owner only.')
    .argument('<id>', ID_HELP)
    .option('--mesh <name>', 'which mesh (needed when several are joined)')
    .option('--json', 'print {id, name, deleted} as JSON')
    .action(async (idArg: string, opts: MeshOpts) => {
      const res = await requestById('files.delete', idArg, opts.mesh)
      if (opts.json === true) return printJson(res)
      print(`Deleted ${res.name} (${res.id}).`)
    })
}

/**
 * Runs a request with a progress token when a bar is wanted: on a terminal, or forced with
 * --progress; never with --json. The daemon pushes {token, bytes, total} on the same connection.
 */
async function withProgress<T> (client: IpcClient, opts: ProgressOpts, label: string, fn: (token: string | null) => Promise<T>): Promise<T> {
  const wanted = opts.json !== true && (opts.progress === true || process.stderr.isTTY === true)
  if (!wanted) return await fn(null)
  const { ByteProgress } = await import('./progress.js')
  const bar = new ByteProgress(label)
  const token = crypto.randomBytes(8).toString('hex')
  const onpush = (event: string, data: { token?: unknown, bytes?: unknown, total?: unknown } | undefined): void => {
    if (event !== 'progress' || data?.token !== token || typeof data.bytes !== 'number' || typeof data.total !== 'number') return
    bar.update(data.bytes, data.total)
  }
  client.on('push', onpush)
  try {
    return await fn(token)
  } finally {
    client.off('push', onpush)
    bar.stop()
  }
}

/** A full id as it is; a prefix (as `files list` prints) looked up among the files this caller sees. */
/** One daemon request about one file, named by its id or a unique prefix of it. */
async function requestById<M extends 'files.status' | 'files.delete'> (method: M, idArg: string, mesh: string | undefined): Promise<Result<M>> {
  return await withDaemon(async (client) => await client.raw(method, { id: await resolveId(client, idArg, mesh), mesh: mesh ?? null }) as Result<M>)
}

async function resolveId (client: IpcClient, id: string, mesh: string | undefined): Promise<string> {
  const wanted = id.trim().toLowerCase()
  if (FULL_ID.test(wanted)) return wanted
  if (!ID_PREFIX.test(wanted)) throw MeshError.BAD_INPUT('id', `must be a 32-character file id or a unique prefix of it (4+ hex characters, see \`claudemesh files list\`); got "${id}"`)
  const matches = (await client.request('files.list', { mesh: mesh ?? null })).filter((e) => e.id.startsWith(wanted))
  if (matches.length === 1) return matches[0].id
  if (matches.length === 0) throw MeshError.FILE_UNKNOWN(wanted, 'starts a listed file id (see `claudemesh files list`; a full id also finds deleted and expired files)')
  throw MeshError.BAD_INPUT('id', `${wanted} starts ${matches.length} file ids (${matches.map((e) => e.id.slice(0, 12)).join(', ')}); give more of it`)
}

/** The daemon speaks to tools (`overwrite: true`); the command line has --overwrite. */
function forCli (err: unknown): unknown {
  if (!(err instanceof MeshError) || !err.message.includes('pass overwrite: true')) return err
  return new MeshError(err.code, err.message.replace('pass overwrite: true', 'pass --overwrite'))
}

function isDirectory (p: string): boolean {
  try {
    return fs.statSync(p).isDirectory()
  } catch {
    return false
  }
}

function seconds (value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1 || n > MAX_TIMEOUT_S) throw new InvalidArgumentError(`--timeout must be a whole number of seconds from 1 to ${MAX_TIMEOUT_S}.`)
  return n
}

function sizeText (bytes: number): string {
  return bytes < 1024 ? humanBytes(bytes) : `${humanBytes(bytes)}, ${bytes} bytes`
}

function kindText (e: FileEntry, now: number): string {
  if (e.expiresAt === null) return e.kind
  return e.expiresAt > now ? `attachment, ${ago(e.expiresAt - now)} left` : 'attachment, expired'
}

function author (by: FileEntry['by']): string {
  return by.session === null ? `cli on ${by.member}` : `${by.session} on ${by.member}`
}

function when (at: number, now: number): string {
  const rel = at <= now ? `${ago(now - at)} ago` : `in ${ago(at - now)}`
  return `${new Date(at).toISOString()} (${rel})`
}

function clip (text: string, max: number): string {
  return text.length <= max ? text : text.slice(0, max - 1) + '…'
}

function printTable (head: string[], rows: string[][]): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)))
  const line = (cells: string[]): string => cells.map((c, i) => i === cells.length - 1 ? c : c.padEnd(widths[i])).join('  ')
  print(line(head))
  for (const r of rows) print(line(r))
}
