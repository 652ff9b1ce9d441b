// Who may use the dashboard: a request to this port from this machine's browser, on a page this
// daemon served, holding the daemon's secret token. Every other web page the browser has open can
// send requests to 127.0.0.1 too (and DNS rebinding can make a foreign name point here), so:
// - the Host must be this port on 127.0.0.1 or localhost (403 otherwise: a rebound name);
// - an Origin, when the browser sends one, must be that same origin (403: another page);
// - the path must start with /t/<token>/ (401 without it or with a wrong one: another local
//   user, or a page that guessed the port).
import crypto from 'node:crypto'
import type http from 'node:http'

export type Verdict = { ok: true, rest: string } | { ok: false, status: 401 | 403, why: string }

export function allowedOrigins (port: number): string[] {
  return [`http://127.0.0.1:${port}`, `http://localhost:${port}`]
}

export function checkRequest (req: http.IncomingMessage, port: number, token: string): Verdict {
  const host = req.headers.host ?? ''
  if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`) return { ok: false, status: 403, why: `Host "${host.slice(0, 100)}" is not this dashboard (127.0.0.1:${port})` }
  const origin = req.headers.origin
  if (origin !== undefined && !allowedOrigins(port).includes(origin)) return { ok: false, status: 403, why: `Origin "${origin.slice(0, 100)}" is not this dashboard` }
  const url = req.url ?? '/'
  const match = /^\/t\/([^/?#]*)(\/[^#]*)?$/.exec(url)
  if (match === null) return { ok: false, status: 401, why: 'the dashboard needs its token: open it with `claudemesh dashboard`' }
  if (!sameSecret(match[1], token)) return { ok: false, status: 401, why: 'wrong token: open the dashboard with `claudemesh dashboard`' }
  return { ok: true, rest: match[2] ?? '/' }
}

function sameSecret (given: string, token: string): boolean {
  const a = Buffer.from(given)
  const b = Buffer.from(token)
  return a.length === b.length && crypto.timingSafeEqual(a, b)
}
