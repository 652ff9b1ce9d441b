// Files: shared files in folders by tag, attachments under Recent by day; size, uploader, who
// fetched them; download in the browser; delete where the mesh allows it (uploader or owner).
import { html, useState } from './preact-htm.js'
import { call, useLive, when, bytes, author } from './api.js'
import { ErrorBox, ConfirmButton, Empty } from './ui.js'
import type { FileEntry, FileAccess } from '../../daemon/contract.js'

type Row = FileEntry & { accesses: FileAccess[] }

const ALL = 'All shared'
const UNTAGGED = 'Untagged'
const RECENT = 'Recent'

function folders (rows: Row[]): Array<{ name: string, rows: Row[] }> {
  const shared = rows.filter((f) => f.kind === 'persistent')
  const tags = [...new Set(shared.flatMap((f) => f.tags))].sort()
  return [
    { name: ALL, rows: shared },
    ...tags.map((t) => ({ name: t, rows: shared.filter((f) => f.tags.includes(t)) })),
    { name: UNTAGGED, rows: shared.filter((f) => f.tags.length === 0) },
    { name: RECENT, rows: rows.filter((f) => f.kind === 'attachment') }
  ]
}

function day (at: number): string {
  return new Date(at).toLocaleDateString(undefined, { dateStyle: 'full' })
}

function FileRow ({ mesh, f, onDelete }: { mesh: string, f: Row, onDelete: (f: Row) => void }): unknown {
  const href = `./api/files/${f.id}?mesh=${encodeURIComponent(mesh)}`
  return html`
    <tr data-file=${f.name} key=${f.id}>
      <td><strong>${f.name}</strong><div class="id">${f.id.slice(0, 12)} · ${f.mime}</div></td>
      <td>${bytes(f.size)}</td>
      <td>${author(f.by)}<div class="meta">${when(f.at)}</div></td>
      <td>${f.tags.map((t) => html`<span class="tag">${t}</span>`)}${f.kind === 'attachment' && f.expiresAt !== null ? html`<div class="meta">expires ${when(f.expiresAt)}</div>` : null}</td>
      <td class="fetched">${f.accesses.length === 0 ? 'nobody yet' : f.accesses.map((a) => html`<div>${author(a.by)}, ${when(a.at)}</div>`)}</td>
      <td class="actions"><a class="button" href=${href} download=${f.name} data-action="download">Download</a>
        <${ConfirmButton} name="delete" label="Delete" confirm="Delete for everyone" onConfirm=${() => onDelete(f)} /></td>
    </tr>`
}

export function FilesPage ({ mesh }: { mesh: string }): unknown {
  const live = useLive<Row[]>(() => call('files.overview', { mesh }), ['files'], mesh, [mesh])
  const [folder, setFolder] = useState(ALL)
  const [error, setError] = useState<string | null>(null)
  const all = folders(live.data ?? [])
  const open = all.find((f) => f.name === folder) ?? all[0]
  const remove = (f: Row): void => {
    setError(null)
    call('files.delete', { mesh, id: f.id }).then(live.reload, (err: Error) => setError(`${f.name}: ${err.message}`))
  }
  const head = html`<thead><tr><th>File</th><th>Size</th><th>Uploaded by</th><th>Tags</th><th>Fetched by</th><th></th></tr></thead>`
  const table = (rows: Row[]): unknown => html`<table class="files">${head}<tbody>${rows.map((f) => html`<${FileRow} mesh=${mesh} f=${f} onDelete=${remove} />`)}</tbody></table>`
  let body: unknown
  if (open.rows.length === 0) body = html`<${Empty}>${open.name === RECENT ? 'No attachments sent or received here.' : 'No files here.'}</${Empty}>`
  else if (open.name === RECENT) {
    const days = [...new Set(open.rows.map((f) => day(f.at)))]
    body = days.map((d) => html`<h3>${d}</h3>${table(open.rows.filter((f) => day(f.at) === d))}`)
  } else body = table(open.rows)
  return html`
    <${ErrorBox} error=${live.error ?? error} />
    <section class="split">
      <nav class="folders">${all.map((f) => html`
        <button class=${f.name === open.name ? 'folder on' : 'folder'} data-folder=${f.name} onClick=${() => setFolder(f.name)}>${f.name} <span class="count">${f.rows.length}</span></button>`)}
      </nav>
      <div class="folder-view"><h2>${open.name}</h2>${body}</div>
    </section>`
}
