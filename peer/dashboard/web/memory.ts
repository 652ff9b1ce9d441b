// Memory: the same ranked, fuzzy and prefix recall as a session's `recall`, tags as filters, and
// forget. With no query, every entry (newest first) with the chosen tags.
import { html, useState, useEffect } from './preact-htm.js'
import { call, useLive, when, author } from './api.js'
import { ErrorBox, ConfirmButton, Empty } from './ui.js'
import type { MemoryEntry, RecallHit } from '../../daemon/contract.js'

type Row = (MemoryEntry | RecallHit) & { score?: number }

export function MemoryPage ({ mesh }: { mesh: string }): unknown {
  const [typed, setTyped] = useState('')
  const [query, setQuery] = useState('')
  const [tags, setTags] = useState<string[]>([])
  const [error, setError] = useState<string | null>(null)
  // the query follows the typing once it pauses (each keystroke is not a search)
  useEffect(() => {
    const timer = setTimeout(() => setQuery(typed.trim()), 150)
    return () => clearTimeout(timer)
  }, [typed])
  const all = useLive<MemoryEntry[]>(() => call('memory.list', { mesh }), ['memory'], mesh, [mesh])
  const found = useLive<Row[]>(async () => {
    if (query === '') return (all.data ?? []).filter((e) => tags.every((t) => e.tags.includes(t))).slice().reverse()
    return await call('memory.recall', { mesh, query, limit: 50, tags })
  }, ['memory'], mesh, [mesh, query, tags.join('\u0000'), all.data])
  const allTags = [...new Set((all.data ?? []).flatMap((e) => e.tags))].sort()
  const toggle = (tag: string): void => setTags((ts) => ts.includes(tag) ? ts.filter((t) => t !== tag) : [...ts, tag])
  const forget = (id: string): void => {
    setError(null)
    call('memory.forget', { mesh, id }).then(all.reload, (err: Error) => setError(err.message))
  }
  const rows = found.data ?? []
  return html`
    <${ErrorBox} error=${all.error ?? found.error ?? error} />
    <section>
      <h2>Shared memory <span class="count">${all.data?.length ?? 0}</span></h2>
      <form class="search" onSubmit=${(e: Event) => { e.preventDefault(); setQuery(typed.trim()) }}>
        <input type="search" name="query" placeholder="Search what the team remembered (typos are fine)" value=${typed} onInput=${(e: Event) => setTyped((e.target as HTMLInputElement).value)} />
      </form>
      ${allTags.length === 0 ? null : html`<div class="tags">Tags: ${allTags.map((t) => html`<button class=${tags.includes(t) ? 'tag on' : 'tag'} data-tag=${t} onClick=${() => toggle(t)}>${t}</button>`)}</div>`}
      ${rows.length === 0 ? html`<${Empty}>${query === '' ? 'No memory entries.' : `Nothing found for "${query}".`}</${Empty}>` : null}
      <ul class="entries">${rows.map((m) => html`
        <li class="entry memory" data-memory=${m.id} key=${m.id}>
          <div class="head"><code class="id">${m.id.slice(0, 12)}</code>
            ${m.score === undefined ? null : html`<span class="score">score ${m.score.toFixed(2)}</span>`}
            ${m.tags.map((t) => html`<span class="tag">${t}</span>`)}
            <span class="meta">${author(m.by)}, ${when(m.at)}</span>
            <span class="actions"><${ConfirmButton} name="forget" label="Forget" confirm="Forget for everyone" onConfirm=${() => forget(m.id)} /></span></div>
          <div class="content">${m.content}</div>
        </li>`)}
      </ul>
    </section>`
}
