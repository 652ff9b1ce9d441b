// The MCP server's line to the daemon, kept up for the session's whole life: when the daemon dies
// (kill -9, a crash), the link starts it again and registers the same session (same id, name,
// proof, and what it had set since), so other members see the session back within seconds and
// nothing is needed from Claude Code. A tool call made meanwhile waits for the link (a few seconds)
// or fails with a clear, retryable error. A daemon stopped on purpose (`claudemesh daemon stop`)
// says so first, and the session then ends with it.
import { EventEmitter } from 'node:events'
import { daemonClient } from '../cli/daemon-client.js'
import type { IpcClient } from '../daemon/ipc-client.js'
import type { Method, Params, Result, NoParams } from '../daemon/contract.js'
import { MeshError } from '../../protocol/errors.js'

/** how long a tool call waits for the daemon to be back */
const WAIT_MS = 15_000
const RETRY_MIN_MS = 100
const RETRY_MAX_MS = 2000
/** calls that must not run twice if the daemon dies under them */
const ONCE_ONLY = new Set<Method>(['message.send', 'memory.remember', 'files.share', 'state.delete', 'memory.forget', 'files.delete'])

export interface LinkOptions {
  /** what to register (again): called on every (re)connect with the client, returns what the daemon answered */
  register: (client: IpcClient) => Promise<void>
  /** pushes from the daemon (messages, state changes) */
  onpush: (event: string, data: unknown) => void
  log?: (line: string) => void
}

export class DaemonLink extends EventEmitter {
  private readonly opts: LinkOptions
  private client: IpcClient | null = null
  private connecting: Promise<IpcClient> | null = null
  private closed = false
  /** the daemon said it stops on purpose */
  stopping = false
  /** times the link was made again after the daemon went away */
  reconnects = 0

  constructor (opts: LinkOptions) {
    super()
    this.opts = opts
  }

  /** Connects (starting the daemon if needed) and registers. */
  async open (): Promise<void> {
    await this.connect()
  }

  private async connect (): Promise<IpcClient> {
    if (this.connecting !== null) return await this.connecting
    this.connecting = (async () => {
      const client = await daemonClient()
      client.on('push', (event: string, data: unknown) => {
        if (event === 'stopping') this.stopping = true
        else this.opts.onpush(event, data)
      })
      try {
        await this.opts.register(client)
      } catch (err) {
        client.close()
        throw err
      }
      client.on('close', () => this.lost(client))
      this.client = client
      return client
    })()
    try {
      return await this.connecting
    } finally {
      this.connecting = null
    }
  }

  private lost (client: IpcClient): void {
    if (this.client !== client) return
    this.client = null
    if (this.closed) return
    if (this.stopping) {
      this.emit('stopped')
      return
    }
    this.opts.log?.('the daemon went away; starting it again and registering this session again')
    this.emit('lost')
    this.reconnect().catch(() => {})
  }

  private async reconnect (): Promise<void> {
    let wait = RETRY_MIN_MS
    while (!this.closed && this.client === null) {
      try {
        await this.connect()
        this.reconnects++
        this.opts.log?.('back on the mesh')
        this.emit('back')
        return
      } catch (err) {
        this.opts.log?.(`the daemon is not back yet (${(err as Error).message}); trying again`)
        await new Promise((resolve) => setTimeout(resolve, wait))
        wait = Math.min(wait * 2, RETRY_MAX_MS)
      }
    }
  }

  /**
   * A request to the daemon; while the link is down it waits for it (up to 15 s). If the daemon dies
   * under the request, one that may run twice is made again once it is back; one that must not
   * (a message sent, a memory or file added, a delete) fails with a clear, retryable error.
   */
  async request<M extends NoParams> (method: M, params?: Params<M>): Promise<Result<M>>
  async request<M extends Method> (method: M, params: Params<M>): Promise<Result<M>>
  async request (method: Method, params: unknown = {}): Promise<unknown> {
    return await this.call(method, params)
  }

  /** The same, for a method chosen at run time (the MCP tool table); its entry checks the parameters in the daemon. */
  async call (method: Method, params: unknown): Promise<unknown> {
    const client = this.client ?? await this.whenBack()
    try {
      return await client.raw(method, params)
    } catch (err) {
      if ((err as MeshError).code !== 'DAEMON_UNREACHABLE' || this.closed || this.stopping) throw err
      if (ONCE_ONLY.has(method)) throw MeshError.DAEMON_UNREACHABLE('the daemon restarted while handling this call; check whether it took effect (message_status, list_files, recall), then retry')
      return await (await this.whenBack()).raw(method, params)
    }
  }

  private async whenBack (): Promise<IpcClient> {
    if (this.client !== null && !this.client.isClosed()) return this.client
    if (this.closed) throw MeshError.DAEMON_UNREACHABLE('this session has ended')
    if (this.stopping) throw MeshError.DAEMON_UNREACHABLE('the daemon was stopped on purpose; this session has left the mesh')
    return await new Promise<IpcClient>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('back', onback)
        reject(MeshError.DAEMON_UNREACHABLE('the daemon restarted and is not back yet; retry in a few seconds'))
      }, WAIT_MS)
      const onback = (): void => {
        clearTimeout(timer)
        if (this.client !== null) resolve(this.client)
        else reject(MeshError.DAEMON_UNREACHABLE('the daemon is not back yet; retry in a few seconds'))
      }
      this.once('back', onback)
    })
  }

  close (): void {
    this.closed = true
    this.client?.close()
    this.client = null
  }
}
