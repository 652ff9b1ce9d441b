// Printing results and errors for people and scripts.
export function print (line: string): void {
  process.stdout.write(line + '\n')
}

export function printJson (value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n')
}

/** Prints an error as one readable line with its code, and sets a failing exit code. */
export function fail (err: unknown): void {
  const e = err as { code?: unknown, message?: unknown }
  const message = typeof e?.message === 'string' ? e.message : String(err)
  const code = typeof e?.code === 'string' && /^[A-Z_]+$/.test(e.code) ? ` [${e.code}]` : ''
  process.stderr.write(`claudemesh: ${message}${code}\n`)
  process.exitCode = 1
}

export function ago (ms: number): string {
  const s = Math.round(ms / 1000)
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.round(s / 60)}m`
  if (s < 86400) return `${Math.round(s / 3600)}h`
  return `${Math.round(s / 86400)}d`
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }

/** "30m", "12h", "7d", "2w", "45s" -> milliseconds; null when unreadable. */
export function parseDuration (value: string): number | null {
  const m = /^(\d+)\s*([smhdw])$/.exec(value.trim())
  if (m === null) return null
  const ms = Number(m[1]) * UNITS[m[2]]
  return ms > 0 ? ms : null
}

/** 1536 -> "1.5 KiB"; bytes below 1 KiB as they are. */
export function humanBytes (n: number): string {
  if (n < 1024) return `${n} B`
  const units = ['KiB', 'MiB', 'GiB', 'TiB']
  let v = n / 1024
  let i = 0
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++ }
  return `${v >= 100 ? Math.round(v) : v.toFixed(1)} ${units[i]}`
}
