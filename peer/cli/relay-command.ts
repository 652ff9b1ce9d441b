// `claudemesh relay`: runs a relay in the foreground until SIGINT/SIGTERM.
import path from 'node:path'
import { Relay } from '../../relay/relay.js'
import { toHex } from '../../protocol/crypto.js'
import { watchPid } from '../daemon/watch-pid.js'

export async function runRelay (opts: { host: string, port: number, publicHost?: string, httpPort: number, data: string, owners?: string[] }): Promise<void> {
  const relay = new Relay({ dataDir: path.resolve(opts.data), host: opts.host, port: opts.port, publicHost: opts.publicHost, httpPort: opts.httpPort, owners: opts.owners ?? null })
  try {
    await relay.ready()
  } catch (err) {
    await relay.close().catch(() => {})
    throw err
  }
  const key = toHex(relay.publicKey)
  process.stdout.write([
    `claudemesh relay ready`,
    `  key        ${key}`,
    `  dht        ${relay.addresses.join(', ')} (udp)`,
    `  http       http://${opts.host === '0.0.0.0' ? '127.0.0.1' : opts.host}:${String(relay.httpPort)}/health`,
    `  data       ${relay.dataDir}`,
    `  owners     ${opts.owners === undefined ? 'anyone may register meshes' : `${opts.owners.length} listed`}`,
    `Owners create meshes on it with:`,
    `  claudemesh create <name> --relay ${key}@${relay.addresses[0]}`,
    ''
  ].join('\n'))
  await new Promise<void>((resolve) => {
    const stop = (): void => { resolve() }
    watchPid(process.env.CLAUDEMESH_WATCH_PID, stop)
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  })
  await relay.close()
  process.stdout.write('relay stopped\n')
}
