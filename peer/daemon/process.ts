// Is a process running? A zombie waiting for init to reap it counts as gone.
import fs from 'node:fs'

export function isRunning (pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf-8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return true
  }
}

/**
 * A process and its ancestors, nearest first, stopping before pid 1 (Linux reads /proc; elsewhere
 * only the process itself). The daemon matches them against its sessions' Claude Code processes.
 */
export function lineageOf (pid: number): number[] {
  if (process.platform !== 'linux') return [pid]
  const pids: number[] = []
  let at = pid
  while (at > 1 && pids.length < 64 && !pids.includes(at)) {
    pids.push(at)
    const parent = parentOf(at)
    if (parent === null) break
    at = parent
  }
  return pids.length === 0 ? [pid] : pids
}

function parentOf (pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf-8')
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so read after the last ")"
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const ppid = Number(fields[1])
    return Number.isInteger(ppid) && ppid >= 0 ? ppid : null
  } catch {
    return null
  }
}
