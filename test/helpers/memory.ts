// Looks for byte strings in a live process's memory (Linux /proc), to prove what a process holds.
import fs from 'node:fs'

const CHUNK = 4 * 1024 * 1024

/** True if any needle occurs in a readable, writable mapping of the process. */
export function memoryHolds (pid: number, needles: Buffer[]): boolean {
  const maps = fs.readFileSync(`/proc/${pid}/maps`, 'utf-8').split('\n')
  const fd = fs.openSync(`/proc/${pid}/mem`, 'r')
  const longest = Math.max(...needles.map((n) => n.byteLength))
  const buf = Buffer.alloc(CHUNK + longest)
  try {
    for (const line of maps) {
      const [range, perms, , , , name] = line.split(/\s+/)
      if (range === undefined || perms === undefined || !perms.startsWith('rw')) continue
      if (name === '[vvar]' || name === '[vsyscall]') continue
      const [start, end] = range.split('-').map((h) => Number.parseInt(h, 16))
      for (let at = start; at < end; at += CHUNK) {
        const len = Math.min(CHUNK + longest, end - at)
        let read = 0
        try {
          read = fs.readSync(fd, buf, 0, len, at)
        } catch {
          break // an unreadable page range: move on to the next mapping
        }
        const view = buf.subarray(0, read)
        if (needles.some((n) => view.includes(n))) return true
      }
    }
  } finally {
    fs.closeSync(fd)
  }
  return false
}
