// Requests to the daemon (started if need be) from a CLI command. The daemon client is imported on
// first use, so `claudemesh --help` stays fast.
import type { IpcClient } from '../daemon/ipc-client.js'

/** Runs fn with a connection to the daemon, closed afterwards. */
export async function withDaemon<T> (fn: (client: IpcClient) => Promise<T>): Promise<T> {
  const { daemonClient } = await import('./daemon-client.js')
  const client = await daemonClient()
  try {
    return await fn(client)
  } finally {
    client.close()
  }
}

/** One request. */
export async function call<T> (method: string, params: object = {}): Promise<T> {
  return await withDaemon(async (client) => await client.request<T>(method, params))
}
