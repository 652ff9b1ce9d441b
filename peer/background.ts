// The catch for work that runs in the background (view refreshes, scans, appends nobody awaits).
// Its expected failures (a core closing under it, a peer gone) change nothing and are dropped; a
// programmer error (a TypeError and the like, as holepunch's safety-catch tells them apart) is
// logged with its stack, so a bug cannot silently stop notifications or scans.

export function isProgrammerError (err: unknown): boolean {
  return err instanceof TypeError || err instanceof SyntaxError || err instanceof ReferenceError ||
    err instanceof EvalError || err instanceof RangeError || err instanceof URIError ||
    (err as { code?: unknown } | null)?.code === 'ERR_ASSERTION'
}

/** `promise.catch(background(log, 'what it was doing'))` */
export function background (log: (line: string) => void, what: string): (err: unknown) => void {
  return (err) => {
    if (isProgrammerError(err)) log(`BUG while ${what}: ${(err as Error).stack ?? String(err)}`)
  }
}

/** For code without a log of its own: stderr, which the daemon's log captures. */
export function stderrLog (line: string): void {
  process.stderr.write(`claudemesh: ${line}\n`)
}
