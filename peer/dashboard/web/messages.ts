// Messages: the opt-in log of what this daemon's sessions sent and received. Off until turned on
// here (or in settings.json); kept on this machine only, for the retention chosen; turning it off
// deletes it.
import { html, useState } from './preact-htm.js'
import { call, useLive, when } from './api.js'
import { ErrorBox, ConfirmButton, Empty } from './ui.js'
import type { LoggedMessage, MessageLogSettings } from '../../daemon/contract.js'

function Settings ({ settings, onChange }: { settings: MessageLogSettings, onChange: () => void }): unknown {
  const [days, setDays] = useState(String(settings.retentionDays))
  const [error, setError] = useState<string | null>(null)
  const save = (next: { enabled?: boolean, retentionDays?: number }): void => {
    setError(null)
    call('messages.configure', next).then(onChange, (err: Error) => setError(err.message))
  }
  const retention = html`<label>Keep for <input class="days" name="retention" type="number" min="1" max="365" value=${days} onInput=${(e: Event) => setDays((e.target as HTMLInputElement).value)} /> days</label>
    <button data-action="retention" onClick=${() => save({ retentionDays: Number(days) })}>Save</button>`
  return html`<div class="settings">
    ${settings.enabled
      ? html`<span class="on">Logging is on.</span> ${retention} <${ConfirmButton} name="log-off" label="Turn off" confirm="Turn off and delete the log" onConfirm=${() => save({ enabled: false })} />`
      : html`<p>The message log is <strong>off</strong>. When on, this daemon keeps a copy of every message its sessions send and receive, on this machine only, for the days you choose.</p>
        ${retention} <button data-action="log-on" onClick=${() => save({ enabled: true, retentionDays: Number(days) })}>Turn on</button>`}
    <${ErrorBox} error=${error} />
  </div>`
}

export function MessagesPage ({ mesh }: { mesh: string }): unknown {
  const [thread, setThread] = useState<string | null>(null)
  const live = useLive<{ settings: MessageLogSettings, messages: LoggedMessage[] }>(() => call('messages.log', { mesh, thread }), ['messages'], mesh, [mesh, thread])
  if (live.data === null) return html`<${ErrorBox} error=${live.error} />`
  const { settings, messages } = live.data
  return html`
    <${ErrorBox} error=${live.error} />
    <section>
      <h2>Messages ${settings.enabled ? html`<span class="count">${messages.length}</span>` : null}</h2>
      <${Settings} settings=${settings} onChange=${live.reload} />
      ${thread === null ? null : html`<p class="filter">Thread of ${thread.slice(0, 12)} <button data-action="all-threads" onClick=${() => setThread(null)}>Show all</button></p>`}
      ${settings.enabled && messages.length === 0 ? html`<${Empty}>No messages logged yet.</${Empty}>` : null}
      <ul class="entries">${messages.map((m) => html`
        <li class=${`entry message ${m.direction}`} data-message=${m.id} key=${`${m.id}:${m.direction}:${m.session.id}`}>
          <div class="head"><span class="dir">${m.direction === 'sent' ? '→ sent' : '← received'}</span>
            <strong>${m.from.name}</strong> <span class="meta">on ${m.from.member}</span> → ${m.to.join(', ')}
            ${m.group === null ? null : html`<span class="tag">@${m.group}</span>`}
            <span class="tag">${m.priority}</span>
            <span class="meta">${when(m.at)}</span>
            <button class="small" data-action="thread" onClick=${() => setThread(m.thread ?? m.id)}>Thread</button></div>
          <div class="content">${m.content}</div>
          ${m.files.length === 0 ? null : html`<div class="meta">Attached: ${m.files.map((f) => f.name).join(', ')}</div>`}
        </li>`)}
      </ul>
    </section>`
}
