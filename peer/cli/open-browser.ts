// Opening a URL in the person's browser: $BROWSER if set, else the platform's opener. Where there
// is no desktop (no DISPLAY or WAYLAND_DISPLAY on Linux, an SSH session) nothing can be opened,
// and the caller prints the URL instead.
import { spawn } from 'node:child_process'

export function opener (env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): { command: string, args: string[] } | null {
  const browser = env.BROWSER?.trim()
  if (browser !== undefined && browser !== '') return { command: browser, args: [] }
  if (platform === 'darwin') return { command: 'open', args: [] }
  if (platform === 'win32') return { command: 'cmd', args: ['/c', 'start', '""'] }
  if ((env.DISPLAY ?? '') === '' && (env.WAYLAND_DISPLAY ?? '') === '') return null
  return { command: 'xdg-open', args: [] }
}

/** Resolves true once the opener started, false if there is none or it could not start. */
export function openBrowser (url: string, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  const how = opener(env)
  if (how === null) return Promise.resolve(false)
  return new Promise((resolve) => {
    const child = spawn(how.command, [...how.args, url], { detached: true, stdio: 'ignore', env })
    child.once('error', () => resolve(false))
    child.once('spawn', () => { child.unref(); resolve(true) })
  })
}
