// The dashboard page: one mesh at a time, five live views of it.
import { html, render, useState, useEffect } from './preact-htm.js'
import { call, useLive, useConnected } from './api.js'
import { ErrorBox } from './ui.js'
import { PeersPage } from './peers.js'
import { StatePage } from './state.js'
import { MemoryPage } from './memory.js'
import { FilesPage } from './files.js'
import { MessagesPage } from './messages.js'
import type { MeshSummary } from '../../daemon/contract.js'

const PAGES = [
  { id: 'peers', title: 'Peers', view: PeersPage },
  { id: 'state', title: 'State', view: StatePage },
  { id: 'memory', title: 'Memory', view: MemoryPage },
  { id: 'files', title: 'Files', view: FilesPage },
  { id: 'messages', title: 'Messages', view: MessagesPage }
] as const

function fromHash (): { page: string, mesh: string | null } {
  const [page, mesh] = location.hash.replace(/^#\/?/, '').split('/')
  return { page: PAGES.some((p) => p.id === page) ? page : 'peers', mesh: mesh === undefined || mesh === '' ? null : decodeURIComponent(mesh) }
}

function App (): unknown {
  const [where, setWhere] = useState(fromHash())
  useEffect(() => {
    const onhash = (): void => setWhere(fromHash())
    addEventListener('hashchange', onhash)
    return () => removeEventListener('hashchange', onhash)
  }, [])
  const connected = useConnected()
  const meshes = useLive<MeshSummary[]>(() => call('list', {}), ['meshes'], null, [])
  const names = (meshes.data ?? []).map((m) => m.name)
  const mesh = where.mesh !== null && names.includes(where.mesh) ? where.mesh : names[0] ?? null
  const page = PAGES.find((p) => p.id === where.page) ?? PAGES[0]
  const link = (id: string, m: string | null): string => `#/${id}${m === null ? '' : `/${encodeURIComponent(m)}`}`
  useEffect(() => { document.title = `${page.title}${mesh === null ? '' : ` · ${mesh}`} · claudemesh` }, [page.id, mesh])
  const View = page.view
  return html`
    <header>
      <span class="brand">claudemesh</span>
      <nav>${PAGES.map((p) => html`<a href=${link(p.id, mesh)} class=${p.id === page.id ? 'on' : ''} data-page=${p.id}>${p.title}</a>`)}</nav>
      <span class="spacer"></span>
      ${names.length > 1
        ? html`<label class="mesh">Mesh <select name="mesh" value=${mesh ?? ''} onChange=${(e: Event) => { location.hash = link(page.id, (e.target as HTMLSelectElement).value) }}>${names.map((n) => html`<option value=${n}>${n}</option>`)}</select></label>`
        : html`<span class="mesh">${mesh ?? ''}</span>`}
      <span class=${connected ? 'live on' : 'live'} title=${connected ? 'changes arrive as they happen' : 'reconnecting to the daemon'}>${connected ? 'live' : 'offline'}</span>
    </header>
    <main>
      <${ErrorBox} error=${meshes.error} />
      ${meshes.data === null ? null : mesh === null
        ? html`<p class="empty">No mesh is joined yet: run <code>claudemesh create team</code>, or start a Claude Code session with claudemesh (it makes this machine's local mesh).</p>`
        : html`<${View} key=${`${page.id}:${mesh}`} mesh=${mesh} />`}
    </main>`
}

const root = document.getElementById('app')
if (root !== null) {
  root.textContent = ''
  render(html`<${App} />`, root)
}
