// A Claude Code stand-in: the MCP SDK's own stdio client driving a real `claudemesh mcp` process.
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import { BIN } from './cli.js'

interface Teardown { teardown (fn: () => unknown, opts?: { order?: number }): void }

export interface ChannelNotification { content: string, meta: Record<string, string> }

/** A tool's answer: its text as Claude reads it, and its structuredContent. */
export interface ToolText { text: string, isError: boolean, data: any }

export class McpSession {
  readonly client: Client
  readonly notifications: ChannelNotification[] = []
  private readonly transport: StdioClientTransport
  private waiters: Array<() => void> = []

  private constructor (client: Client, transport: StdioClientTransport) {
    this.client = client
    this.transport = transport
  }

  /** Starts `claudemesh mcp` for `home` with the given args, connected like Claude Code would. */
  /** `cwd`: the session's working directory (its repository, for claims) */
  static async start (t: Teardown, home: string, args: string[], env: Record<string, string> = {}, cwd?: string): Promise<McpSession> {
    const transport = new StdioClientTransport({
      command: process.execPath,
      ...(cwd !== undefined ? { cwd } : {}),
      args: [BIN, 'mcp', ...args],
      env: { ...outsideClaudeCode(), CLAUDEMESH_HOME: home, CLAUDEMESH_CHANNELS: '1', CLAUDEMESH_WATCH_PID: String(process.pid), ...env },
      stderr: 'ignore'
    })
    const client = new Client({ name: 'claudemesh-test', version: '1.0.0' })
    const session = new McpSession(client, transport)
    client.fallbackNotificationHandler = async (n) => {
      if (n.method !== 'notifications/claude/channel') return
      session.notifications.push(n.params as unknown as ChannelNotification)
      const waiters = session.waiters
      session.waiters = []
      for (const w of waiters) w()
    }
    await client.connect(transport)
    t.teardown(() => session.close(), { order: 5 })
    return session
  }

  get pid (): number | null {
    return this.transport.pid
  }

  async call (name: string, args: Record<string, unknown> = {}): Promise<ToolText> {
    const res = await this.client.callTool({ name, arguments: args }) as { content: Array<{ text: string }>, isError?: boolean, structuredContent?: unknown }
    return { text: res.content.map((c) => c.text).join('\n'), isError: res.isError === true, data: res.structuredContent ?? null }
  }

  /** Resolves with the first notification (already received or coming) that matches. */
  async notification (pred: (n: ChannelNotification) => boolean): Promise<ChannelNotification> {
    for (;;) {
      const found = this.notifications.find(pred)
      if (found !== undefined) return found
      await new Promise<void>((resolve) => this.waiters.push(resolve))
    }
  }

  count (pred: (n: ChannelNotification) => boolean): number {
    return this.notifications.filter(pred).length
  }

  async close (): Promise<void> {
    await this.client.close().catch(() => {})
  }
}

/**
 * This process's environment without what a Claude Code around it gives its children (its inbox
 * socket and token, its session): a test's MCP servers must never reach the real session that
 * may be running the suite.
 */
export function outsideClaudeCode (): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || k.startsWith('CLAUDE_CODE_') || k === 'CLAUDE_PROJECT_DIR' || k === 'CLAUDECODE') continue
    out[k] = v
  }
  return out
}

/** The message id in send_message's answer. */
export function messageId (text: string): string {
  return /Message ([0-9a-f]{32})/.exec(text)?.[1] ?? ''
}
