// Newline-delimited JSON framing, shared by the daemon's IPC server and its clients: text arrives
// in chunks, leaves as whole lines, and a line that grows past its limit stops the stream (the
// side reading it says so and closes, rather than buffering whatever a peer sends).

export interface LineHandlers {
  line: (line: string) => void
  /** a line outgrew `max` characters: nothing more is read */
  oversize: (max: number) => void
}

export class LineSplitter {
  readonly max: number
  private readonly handlers: LineHandlers
  private parts: string[] = []
  private length = 0
  private stopped = false

  constructor (max: number, handlers: LineHandlers) {
    this.max = max
    this.handlers = handlers
  }

  /** Takes a chunk of text; calls `line` for each line it completes. */
  push (chunk: string): void {
    let start = 0
    while (!this.stopped) {
      const nl = chunk.indexOf('\n', start)
      if (nl === -1) {
        const rest = chunk.length - start
        if (rest === 0) return
        if (this.length + rest > this.max) return this.stop()
        this.parts.push(start === 0 ? chunk : chunk.slice(start))
        this.length += rest
        return
      }
      if (this.length + nl - start > this.max) return this.stop()
      const piece = chunk.slice(start, nl)
      const line = this.parts.length === 0 ? piece : this.parts.join('') + piece
      this.parts = []
      this.length = 0
      start = nl + 1
      if (line.trim() !== '') this.handlers.line(line)
    }
  }

  private stop (): void {
    this.stopped = true
    this.parts = []
    this.length = 0
    this.handlers.oversize(this.max)
  }
}

/** One message as a line. */
export function toLine (message: unknown): string {
  return JSON.stringify(message) + '\n'
}
