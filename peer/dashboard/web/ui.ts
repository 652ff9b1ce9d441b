// Small pieces every page uses.
import { html, useState } from './preact-htm.js'

export function ErrorBox ({ error }: { error: string | null }): unknown {
  return error === null ? null : html`<p class="error" role="alert">${error}</p>`
}

/** A button that asks once more before it acts: a first click arms it, a second one acts. */
export function ConfirmButton ({ label, confirm, onConfirm, name }: { label: string, confirm: string, onConfirm: () => void, name: string }): unknown {
  const [armed, setArmed] = useState(false)
  return armed
    ? html`<span class="confirm"><button class="danger" data-action=${`confirm-${name}`} onClick=${() => { setArmed(false); onConfirm() }}>${confirm}</button><button onClick=${() => setArmed(false)}>Cancel</button></span>`
    : html`<button data-action=${name} onClick=${() => setArmed(true)}>${label}</button>`
}

export function Empty ({ children }: { children: unknown }): unknown {
  return html`<p class="empty">${children}</p>`
}
