// The relay's private DHT: a bootstrap node on the relay's port plus enough extra nodes that
// NAT checks settle (fewer than 5 nodes intermittently kills connections between processes).
import HyperDHT from 'hyperdht'
import type { Address } from 'hyperdht'
import { MIN_DHT_NODES, ANY_UDP_PORT } from '../protocol/limits.js'

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
    const first = new HyperDHT({ ephemeral: false, firewalled: false, bootstrap: [], port: port === 0 ? ANY_UDP_PORT : port, anyPort: false, host })
    this.nodes.push(first)
    await first.fullyBootstrapped()
    this.bootstrap = [{ host: publicHost, port: first.address().port }]
    while (this.nodes.length < this.opts.nodes) {
      const node = new HyperDHT({ ephemeral: false, firewalled: false, bootstrap: this.bootstrap, port: ANY_UDP_PORT, host })
      this.nodes.push(node)
      await node.fullyBootstrapped()
    }
  }

  /** A new ephemeral node on this DHT, for the relay's own servers. */
  createNode (): HyperDHT {
    return new HyperDHT({ bootstrap: this.bootstrap, port: ANY_UDP_PORT, host: this.opts.host })
  }

  get port (): number {
    return this.bootstrap[0]?.port ?? 0
  }

  async close (): Promise<void> {
    for (const node of this.nodes.reverse()) await node.destroy()
    this.nodes.length = 0
  }
}
