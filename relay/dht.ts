// The relay's private DHT: a bootstrap node on the relay's port plus enough extra nodes that
// NAT checks settle (fewer than 5 nodes intermittently kills connections between processes).
// With a fixed port P the relay's UDP sockets sit on P, P+1, ... (see `portFor`), so a firewall or
// a container can publish one small range; with port 0 every socket takes a free port.
import dgram from 'node:dgram'
import HyperDHT from 'hyperdht'
import type { Address } from 'hyperdht'
import { MIN_DHT_NODES, ANY_UDP_PORT } from '../protocol/limits.js'
import { MeshError } from '../protocol/errors.js'

export interface PrivateDhtOptions {
  host: string
  port: number
  /** the address peers dial; must be reachable by them (not 0.0.0.0) */
  publicHost: string
  nodes?: number
}

export class PrivateDht {
  readonly nodes: HyperDHT[] = []
  bootstrap: Address[] = []
  private readonly opts: Required<PrivateDhtOptions>

  constructor (opts: PrivateDhtOptions) {
    this.opts = { nodes: MIN_DHT_NODES, ...opts }
  }

  async ready (): Promise<void> {
    const { host, port, publicHost } = this.opts
    // a DHT node that fails to bind cannot be destroyed cleanly, so check the port first
    if (port !== 0) await assertUdpPortFree(host, port)
    const first = new HyperDHT({ ephemeral: false, firewalled: false, bootstrap: [], port: this.portFor(0), anyPort: false, host })
    this.nodes.push(first)
    await first.fullyBootstrapped()
    this.bootstrap = [{ host: publicHost, port: first.address().port }]
    while (this.nodes.length < this.opts.nodes) {
      const node = new HyperDHT({ ephemeral: false, firewalled: false, bootstrap: this.bootstrap, port: this.portFor(this.nodes.length), host })
      this.nodes.push(node)
      await node.fullyBootstrapped()
    }
  }

  /** A new node on this DHT for one of the relay's own servers; `slot` picks its port in the range. */
  createNode (slot: number): HyperDHT {
    return new HyperDHT({ bootstrap: this.bootstrap, port: this.portFor(this.opts.nodes + slot), host: this.opts.host })
  }

  /** Port of the relay's n-th UDP socket: P + n for a fixed port P (any free one if taken), else any. */
  private portFor (n: number): number | [number, number] {
    return this.opts.port === 0 ? ANY_UDP_PORT : this.opts.port + n
  }

  /** How many consecutive UDP ports from --port the relay uses. */
  static portCount (nodes = MIN_DHT_NODES): number {
    return nodes + 2
  }

  get port (): number {
    return this.bootstrap[0]?.port ?? 0
  }

  async close (): Promise<void> {
    for (const node of this.nodes.reverse()) await node.destroy()
    this.nodes.length = 0
  }
}

function assertUdpPortFree (host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4')
    socket.once('error', (err: NodeJS.ErrnoException) => {
      socket.close()
      if (err.code === 'EADDRINUSE') reject(MeshError.BAD_INPUT('port', `UDP port ${port} on ${host} is already in use: stop what uses it or pick another --port`))
      else if (err.code === 'EADDRNOTAVAIL') reject(MeshError.BAD_INPUT('host', `${host} is not an address of this machine`))
      else reject(err)
    })
    socket.bind(port, host, () => { socket.close(() => resolve()) })
  })
}
