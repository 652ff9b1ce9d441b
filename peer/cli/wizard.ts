// The one-line-per-question wizard of `launch`: @inquirer/prompts on a terminal; one line per
// question from stdin otherwise (scripts, tests), where an empty line takes the default.
import fs from 'node:fs'
import tty from 'node:tty'
import { MeshError } from '../../protocol/errors.js'

export interface TextQuestion {
  /** the field named in errors, e.g. "name" */
  field: string
  message: string
  default: string
  /** checks and normalizes an answer; throws an error naming the field and the rule */
  check: (answer: string) => string
}

export interface SelectQuestion { field: string, message: string, choices: string[], default: string }
export interface ConfirmQuestion { field: string, message: string, default: boolean }

export interface Asker {
  text (q: TextQuestion): Promise<string>
  select (q: SelectQuestion): Promise<string>
  confirm (q: ConfirmQuestion): Promise<boolean>
}

/** A terminal gets interactive prompts; anything else is read line by line. */
export function makeAsker (): Asker {
  return tty.isatty(0) ? new TerminalAsker() : new LineAsker()
}

/** Ctrl-C in a prompt: stop quietly, with the usual status for an interrupt. */
async function cancellable<T> (prompt: Promise<T>): Promise<T> {
  try {
    return await prompt
  } catch (err) {
    if ((err as Error).name === 'ExitPromptError') {
      process.stderr.write('Cancelled.\n')
      process.exit(130)
    }
    throw err
  }
}

class TerminalAsker implements Asker {
  private readonly context = { output: process.stderr, clearPromptOnDone: false }

  async text (q: TextQuestion): Promise<string> {
    const { input } = await import('@inquirer/prompts')
    const answer = await cancellable(input({
      message: q.message,
      default: q.default,
      validate: (value: string) => {
        try {
          q.check(value === '' ? q.default : value)
          return true
        } catch (err) {
          return (err as Error).message
        }
      }
    }, this.context))
    return q.check(answer === '' ? q.default : answer)
  }

  async select (q: SelectQuestion): Promise<string> {
    const { select } = await import('@inquirer/prompts')
    return await cancellable(select({ message: q.message, choices: q.choices.map((c) => ({ name: c, value: c })), default: q.default }, this.context))
  }

  async confirm (q: ConfirmQuestion): Promise<boolean> {
    const { confirm } = await import('@inquirer/prompts')
    return await cancellable(confirm({ message: q.message, default: q.default }, this.context))
  }
}

class LineAsker implements Asker {
  async text (q: TextQuestion): Promise<string> {
    const line = this.ask(`${q.message} (${q.default === '' ? 'none' : q.default})`)
    return q.check(line === null || line.trim() === '' ? q.default : line)
  }

  async select (q: SelectQuestion): Promise<string> {
    const list = q.choices.map((c, i) => `${i + 1}) ${c}`).join('  ')
    const line = this.ask(`${q.message} ${list} (${q.default})`)
    const answer = line === null ? '' : line.trim()
    if (answer === '') return q.default
    if (q.choices.includes(answer)) return answer
    const n = Number(answer)
    if (Number.isInteger(n) && n >= 1 && n <= q.choices.length) return q.choices[n - 1]
    throw MeshError.BAD_INPUT(q.field, `"${answer}" is not one of ${q.choices.join(', ')}`)
  }

  async confirm (q: ConfirmQuestion): Promise<boolean> {
    const line = this.ask(`${q.message} (${q.default ? 'Y/n' : 'y/N'})`)
    const answer = line === null ? '' : line.trim().toLowerCase()
    if (answer === '') return q.default
    if (answer === 'y' || answer === 'yes') return true
    if (answer === 'n' || answer === 'no') return false
    throw MeshError.BAD_INPUT(q.field, `answer y or n (got "${answer}")`)
  }

  /** Shows the question on stderr and reads one line; the answer is echoed so logs read well. */
  private ask (prompt: string): string | null {
    process.stderr.write(`? ${prompt}: `)
    const line = readLineSync()
    process.stderr.write(`${line ?? ''}\n`)
    return line
  }
}

const MAX_LINE = 4096

/**
 * Reads one line from fd 0, a byte at a time, so that whatever follows the answers stays in the
 * pipe for `claude`, which inherits the same stdin. null at end of input.
 */
export function readLineSync (fd = 0): string | null {
  const byte = Buffer.alloc(1)
  const bytes: number[] = []
  for (;;) {
    let n: number
    try {
      n = fs.readSync(fd, byte, 0, 1, null)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'EAGAIN') { sleepSync(10); continue }
      if (code === 'EOF' || code === 'EBADF') n = 0
      else throw err
    }
    if (n === 0) return bytes.length === 0 ? null : decode(bytes)
    if (byte[0] === 0x0a) return decode(bytes)
    if (bytes.length < MAX_LINE) bytes.push(byte[0])
  }
}

function decode (bytes: number[]): string {
  return Buffer.from(bytes).toString('utf-8').replace(/\r$/, '')
}

function sleepSync (ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}
