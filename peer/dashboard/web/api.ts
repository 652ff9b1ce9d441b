// The page's line to its daemon: calls of the daemon's contract (typed by it), and the one stream
// of changes every page listens to. All URLs are relative: the page lives under /t/<token>/.
import { useState, useEffect } from './preact-htm.js'
import type { Method, Params, Result } from '../../daemon/contract.js'
import type { Change, Topic } from '../live.js'

export class ApiError extends Error {
  readonly code: string
  constructor (code: string, message: string) {
    super(message)
    this.code = code
  }
}

export async function call<M extends Method> (method: M, params: Params<M>): Promise<Result<M>> {
  const res = await fetch(`./api/call/${method}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(params) })
  let body: { ok: boolean, result?: unknown, error?: { code: string, message: string } }
  try {
    body = await res.json()
  } catch {
    throw new ApiError('INTERNAL', `the daemon answered ${res.status} without JSON`)
  }
  if (body.ok !== true) throw new ApiError(body.error?.code ?? 'INTERNAL', body.error?.message ?? `the daemon answered ${res.status}`)
  return body.result as Result<M>
}

type Listener = (change: Change) => void
const listeners = new Set<Listener>()
const connection = { open: false, listeners: new Set<(open: boolean) => void>() }
let source: EventSource | null = null

function ensureSource (): void {
  if (source !== null) return
  source = new EventSource('./api/events')
  source.addEventListener('open', () => setOpen(true))
  source.addEventListener('error', () => setOpen(false))
  source.addEventListener('change', (e) => {
    const change = JSON.parse((e as MessageEvent<string>).data) as Change
    for (const l of [...listeners]) l(change)
  })
}

function setOpen (open: boolean): void {
  connection.open = open
  document.body.dataset.live = open ? 'on' : 'off'
  for (const l of connection.listeners) l(open)
}

export function onChange (fn: Listener): () => void {
  ensureSource()
  listeners.add(fn)
  return () => { listeners.delete(fn) }
}

/** Whether the stream of changes is connected (the page then shows it as live). */
export function useConnected (): boolean {
  const [open, setState] = useState(connection.open)
  useEffect(() => {
    ensureSource()
    connection.listeners.add(setState)
    return () => { connection.listeners.delete(setState) }
  }, [])
  return open
}

export interface Live<T> { data: T | null, error: string | null, reload: () => void }

/**
 * Data that follows the mesh: loaded once, and again on every change of one of `topics` in `mesh`
 * (or in any mesh, for changes that name none) and whenever `deps` change.
 */
export function useLive<T> (load: () => Promise<T>, topics: Topic[], mesh: string | null, deps: unknown[]): Live<T> {
  const [state, setState] = useState<{ data: T | null, error: string | null }>({ data: null, error: null })
  const [tick, setTick] = useState(0)
  useEffect(() => {
    let current = true
    load().then(
      (data) => { if (current) setState({ data, error: null }) },
      (err: Error) => { if (current) setState((s) => ({ data: s.data, error: err.message })) }
    )
    return () => { current = false }
  }, [...deps, tick])
  useEffect(() => onChange((c) => {
    if (topics.includes(c.topic) && (c.mesh === null || mesh === null || c.mesh === mesh)) setTick((n) => n + 1)
  }), [mesh, topics.join(',')])
  return { ...state, reload: () => setTick((n) => n + 1) }
}

export function when (at: number): string {
  return new Date(at).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' })
}

export function ago (at: number, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - at) / 1000))
  if (s < 5) return 'just now'
  if (s < 60) return `${s} s ago`
  if (s < 3600) return `${Math.round(s / 60)} min ago`
  if (s < 86400) return `${Math.round(s / 3600)} h ago`
  return `${Math.round(s / 86400)} d ago`
}

export function bytes (n: number): string {
  if (n < 1024) return `${n} B`
  const units = ['KiB', 'MiB', 'GiB']
  let v = n / 1024
  let i = 0
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++ }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`
}

export function author (by: { session: string | null, member: string }): string {
  return by.session === null ? `${by.member} (person)` : `${by.session} on ${by.member}`
}
