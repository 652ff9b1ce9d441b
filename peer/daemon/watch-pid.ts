// CLAUDEMESH_WATCH_PID ties a daemon's or relay's life to another process (a test run, a supervisor):
// when that process is gone, this one stops cleanly instead of lingering.
import { isRunning } from './process.js'

const CHECK_MS = 1000

export function watchPid (value: string | undefined, onGone: () => void): void {
  const pid = Number(value)
  if (value === undefined || value === '' || !Number.isInteger(pid) || pid <= 1) return
  const timer = setInterval(() => {
    if (isRunning(pid)) return
    clearInterval(timer)
    onGone()
  }, CHECK_MS)
  timer.unref()
}
