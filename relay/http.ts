// HTTP /health (JSON) and /metrics (Prometheus text) for the relay.
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { REFUSAL_REASONS, type Relay } from './relay.js'
import { toHex } from '../protocol/crypto.js'

export class HttpEndpoint {
  private readonly relay: Relay
  private readonly host: string
  private readonly wantedPort: number
  private readonly server: http.Server

  constructor (relay: Relay, host: string, port: number) {
    this.relay = relay
    this.host = host
    this.wantedPort = port
    this.server = http.createServer((req, res) => this.onrequest(req, res))
  }

  listen (): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(this.wantedPort, this.host, () => {
        this.server.off('error', reject)
        resolve()
      })
    })
  }

  get port (): number {
    return (this.server.address() as AddressInfo).port
  }

  close (): Promise<void> {
    this.server.closeAllConnections()
    return new Promise((resolve) => this.server.close(() => resolve()))
  }

  private onrequest (req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = (req.url ?? '/').split('?')[0]
    if (req.method !== 'GET') return this.send(res, 405, 'text/plain', 'method not allowed\n')
    if (url === '/health') return this.send(res, 200, 'application/json', JSON.stringify(this.health()) + '\n')
    if (url === '/metrics') return this.send(res, 200, 'text/plain; version=0.0.4', this.metrics())
    this.send(res, 404, 'text/plain', 'not found: try /health or /metrics\n')
  }

  private send (res: http.ServerResponse, status: number, type: string, body: string): void {
    res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) })
    res.end(body)
  }

  health (): object {
    const relay = this.relay
    return {
      ok: true,
      publicKey: toHex(relay.publicKey),
      addresses: relay.addresses,
      uptimeSeconds: Math.round((Date.now() - relay.startedAt) / 1000),
      meshes: Object.keys(relay.ledger.data.meshes).length,
      invites: Object.keys(relay.ledger.data.invites).length,
      online: relay.rosterSize()
    }
  }

  metrics (): string {
    const relay = this.relay
    const { counters } = relay
    const lines = [
      '# HELP claudemesh_relay_invites_registered_total Invites registered by mesh owners.',
      '# TYPE claudemesh_relay_invites_registered_total counter',
      `claudemesh_relay_invites_registered_total ${counters.registered}`,
      '# HELP claudemesh_relay_invites_redeemed_total Invites redeemed by new members.',
      '# TYPE claudemesh_relay_invites_redeemed_total counter',
      `claudemesh_relay_invites_redeemed_total ${counters.redeemed}`,
      '# HELP claudemesh_relay_refused_total Requests refused, by reason.',
      '# TYPE claudemesh_relay_refused_total counter'
    ]
    for (const reason of REFUSAL_REASONS) {
      lines.push(`claudemesh_relay_refused_total{reason="${reason}"} ${counters.refused[reason] ?? 0}`)
    }
    lines.push(
      '# HELP claudemesh_relay_roster_size Member daemons online now.',
      '# TYPE claudemesh_relay_roster_size gauge',
      `claudemesh_relay_roster_size ${relay.rosterSize()}`,
      '# HELP claudemesh_relay_meshes Meshes registered.',
      '# TYPE claudemesh_relay_meshes gauge',
      `claudemesh_relay_meshes ${Object.keys(relay.ledger.data.meshes).length}`,
      '# HELP claudemesh_relay_uptime_seconds Seconds since the relay started.',
      '# TYPE claudemesh_relay_uptime_seconds gauge',
      `claudemesh_relay_uptime_seconds ${Math.round((Date.now() - relay.startedAt) / 1000)}`
    )
    return lines.join('\n') + '\n'
  }
}
