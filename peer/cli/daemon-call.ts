// Requests to the daemon (started if need be) from a CLI command. The daemon client is imported on
// first use, so `claudemesh --help` stays fast.
import type { IpcClient } from '../daemon/ipc-client.js'
import type { Method, Params, Result, NoParams } from '../daemon/contract.js'

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

/** One request of the daemon's contract. */
export async function call<M extends NoParams> (method: M, params?: Params<M>): Promise<Result<M>>
export async function call<M extends Method> (method: M, params: Params<M>): Promise<Result<M>>
export async function call (method: Method, params: unknown = {}): Promise<unknown> {
  return await withDaemon(async (client) => await client.raw(method, params))
}
