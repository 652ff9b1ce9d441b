// A byte progress bar on stderr for long transfers (files share/get), the one place cli-progress is used.
// On a terminal it redraws in place; forced without one, it prints a line every second and at the end.
import { SingleBar } from 'cli-progress'
import { humanBytes } from './output.js'

const LINE_EVERY_MS = 1000

export class ByteProgress {
  private readonly bar: SingleBar
  private readonly label: string
  private readonly started = Date.now()
  private total = -1

  constructor (label: string) {
    this.label = label
    this.bar = new SingleBar({
      stream: process.stderr,
      format: '{label} [{bar}] {percentage}% | {done}/{size} | {speed} | ETA {eta_formatted}',
      barsize: 30,
      hideCursor: false,
      noTTYOutput: true,
      // without a terminal each line already ends with a newline; stop() would add an empty one
      clearOnComplete: process.stderr.isTTY !== true,
      notTTYSchedule: LINE_EVERY_MS,
      etaBuffer: 20
    })
  }

  /** Bytes done out of total, as the daemon reports them; the bar starts with the first report. */
  update (bytes: number, total: number): void {
    if (this.total === -1) {
      this.total = total
      this.bar.start(total, bytes, this.payload(bytes))
      return
    }
    if (total !== this.total) {
      this.total = total
      this.bar.setTotal(total)
    }
    this.bar.update(bytes, this.payload(bytes))
  }

  /** Draws the last state and ends the line; safe to call when nothing was reported. */
  stop (): void {
    if (this.total !== -1) this.bar.stop()
  }

  private payload (bytes: number): Record<string, string> {
    const seconds = (Date.now() - this.started) / 1000
    return {
      label: this.label,
      done: humanBytes(bytes),
      size: humanBytes(this.total),
      speed: seconds > 0 ? `${humanBytes(Math.round(bytes / seconds))}/s` : '-'
    }
  }
}
