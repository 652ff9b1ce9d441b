// State: every key with its value as formatted JSON, who set it and when; edit, add and delete,
// through the same set_state and delete_state checks as a session's.
import { html, useState } from './preact-htm.js'
import { call, useLive, when, author } from './api.js'
import { ErrorBox, ConfirmButton, Empty } from './ui.js'
import type { StateEntry } from '../../daemon/contract.js'

/** The text of a value box as JSON, or the rule it breaks (as the CLI says it). */
function parseValue (text: string): { value: unknown } | { error: string } {
  try {
    return { value: JSON.parse(text) }
  } catch (err) {
    return { error: `value: must be JSON (${(err as Error).message}); quote text as "text"` }
  }
}

function Editor ({ mesh, entry, onDone }: { mesh: string, entry: StateEntry | null, onDone: () => void }): unknown {
  const [key, setKey] = useState(entry?.key ?? '')
  const [text, setText] = useState(entry === null ? '' : JSON.stringify(entry.value, null, 2))
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const save = async (e: Event): Promise<void> => {
    e.preventDefault()
    const parsed = parseValue(text)
    if ('error' in parsed) return setError(parsed.error)
    setBusy(true)
    try {
      await call('state.set', { mesh, key, value: parsed.value })
      onDone()
    } catch (err) {
      setError((err as Error).message)
    } finally {
      setBusy(false)
    }
  }
  return html`
    <form class=${entry === null ? 'editor add' : 'editor'} onSubmit=${save}>
      ${entry === null ? html`<label>Key <input name="key" value=${key} onInput=${(e: Event) => setKey((e.target as HTMLInputElement).value)} placeholder="deploy/status" /></label>` : null}
      <label>Value (JSON) <textarea name="value" rows=${Math.min(16, Math.max(3, text.split('\n').length + 1))} value=${text} onInput=${(e: Event) => setText((e.target as HTMLTextAreaElement).value)}></textarea></label>
      <${ErrorBox} error=${error} />
      <div class="buttons"><button type="submit" data-action="save" disabled=${busy}>Save</button><button type="button" onClick=${onDone}>Cancel</button></div>
    </form>`
}

export function StatePage ({ mesh }: { mesh: string }): unknown {
  const live = useLive<StateEntry[]>(() => call('state.list', { mesh }), ['state'], mesh, [mesh])
  const [editing, setEditing] = useState<string | null>(null)
  const [adding, setAdding] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const remove = (key: string): void => {
    setError(null)
    call('state.delete', { mesh, key }).then(live.reload, (err: Error) => setError(err.message))
  }
  const entries = live.data ?? []
  return html`
    <${ErrorBox} error=${live.error ?? error} />
    <section>
      <h2>Shared state <span class="count">${entries.length}</span>
        ${adding ? null : html`<button class="small" data-action="add" onClick=${() => setAdding(true)}>Add entry</button>`}</h2>
      ${adding ? html`<${Editor} mesh=${mesh} entry=${null} onDone=${() => { setAdding(false); live.reload() }} />` : null}
      ${entries.length === 0 && !adding ? html`<${Empty}>No state entries. Sessions set them with set_state; add one here.</${Empty}>` : null}
      <ul class="entries">${entries.map((e) => html`
        <li class="entry" data-key=${e.key} key=${e.key}>
          <div class="head"><code class="key">${e.key}</code><span class="meta">set by ${author(e.by)}, ${when(e.at)}</span>
            <span class="actions">
              <button data-action="edit" onClick=${() => setEditing(e.key)}>Edit</button>
              <${ConfirmButton} name="delete" label="Delete" confirm="Delete for everyone" onConfirm=${() => remove(e.key)} />
            </span></div>
          ${editing === e.key
            ? html`<${Editor} mesh=${mesh} entry=${e} onDone=${() => { setEditing(null); live.reload() }} />`
            : html`<pre class="json">${JSON.stringify(e.value, null, 2)}</pre>`}
        </li>`)}
      </ul>
    </section>`
}
