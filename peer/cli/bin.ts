#!/usr/bin/env node
// Claude Code runs `claudemesh hook <event>` before every guarded edit and on every prompt: it goes
// straight to the hook, without loading the command line's parser (a few ms on each edit).
const [,, command, event] = process.argv
const hookOnly = command === 'hook' && event !== undefined && !event.startsWith('-') && process.argv.length === 4

// a closed pipe (`claudemesh list | head -1`) is not an error worth a stack trace
process.stdout.on('error', (err: NodeJS.ErrnoException) => { if (err.code === 'EPIPE') process.exit(0) })

if (hookOnly) {
  const { runHook } = await import('./hook.js')
  await runHook(event)
  process.exit(0)
} else {
  const { main } = await import('./program.js')
  main(process.argv).catch((err) => {
    process.stderr.write(`claudemesh: ${(err as Error).message}\n`)
    process.exitCode = 1
  })
}
