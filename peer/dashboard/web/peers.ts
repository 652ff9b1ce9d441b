// Peers: the members of the mesh and how this daemon reaches each; every session, live.
import { html } from './preact-htm.js'
import { call, useLive, ago } from './api.js'
import { ErrorBox, Empty } from './ui.js'
import type { MeshOverview, Connection } from '../../daemon/contract.js'

const CONNECTION: Record<Connection, string> = {
  self: 'this daemon',
  direct: 'direct',
  'tcp-link': 'TCP link',
  relayed: 'relayed',
  offline: 'offline'
}

export function PeersPage ({ mesh }: { mesh: string }): unknown {
  const live = useLive<MeshOverview[]>(() => call('mesh.overview', { mesh }), ['peers', 'meshes'], mesh, [mesh])
  const o = live.data?.[0]
  if (o === undefined) return html`<${ErrorBox} error=${live.error} />`
  return html`
    <${ErrorBox} error=${live.error} />
    <section>
      <h2>Sessions <span class="count">${o.sessions.length}</span></h2>
      ${o.sessions.length === 0 ? html`<${Empty}>No session is online in ${o.name}.</${Empty}>` : html`
      <table class="sessions">
        <thead><tr><th>Name</th><th>Role</th><th>Groups</th><th>Status</th><th>Summary</th><th>Working directory</th><th>Member</th><th>Receives by</th><th>Claims</th><th>Last seen</th></tr></thead>
        <tbody>${o.sessions.map((s) => html`
          <tr data-session=${s.name} key=${s.id}>
            <td><strong>${s.name}</strong>${s.local ? html` <span class="tag">here</span>` : null}<div class="id">${s.id.slice(0, 12)}</div></td>
            <td>${s.role}</td>
            <td>${s.groups.length === 0 ? '—' : s.groups.map((g) => html`<span class="tag">@${g.name}${g.role === null ? '' : `: ${g.role}`}</span>`)}</td>
            <td><span class=${`status status-${s.status}`}>${s.status}</span></td>
            <td class="summary">${s.summary === '' ? '—' : s.summary}</td>
            <td class="path">${s.cwd}</td>
            <td>${s.label}</td>
            <td>${s.receives ?? 'unknown'}</td>
            <td class="claims">${s.claims.filter((c) => c.verdict === 'granted').length === 0 ? '—' : s.claims.filter((c) => c.verdict === 'granted').map((c) => html`<div title=${c.note} class=${`claim claim-${c.status}`}><code>${c.paths.join(', ')}</code> ${c.mode}${c.status === 'pending' ? ' (pending)' : ''}</div>`)}</td>
            <td>${ago(s.lastSeen)}</td>
          </tr>`)}
        </tbody>
      </table>`}
    </section>
    <section>
      <h2>Members <span class="count">${o.members.length}</span></h2>
      <table class="members">
        <thead><tr><th>Member</th><th>Role</th><th>Connection</th><th>Online</th><th>Writer key</th><th>Joined</th></tr></thead>
        <tbody>${o.members.map((m) => html`
          <tr data-member=${m.label} key=${m.swarmKey}>
            <td><strong>${m.label}</strong></td>
            <td>${m.role}</td>
            <td><span class=${`conn conn-${m.connection}`}>${CONNECTION[m.connection]}</span></td>
            <td>${m.online ? 'yes' : 'no'}</td>
            <td class="id">${m.writerKey.slice(0, 16)}</td>
            <td>${ago(m.joinedAt)}</td>
          </tr>`)}
        </tbody>
      </table>
    </section>`
}
