#!/usr/bin/env node
import { main } from './program.js'

// a closed pipe (`claudemesh list | head -1`) is not an error worth a stack trace
process.stdout.on('error', (err: NodeJS.ErrnoException) => { if (err.code === 'EPIPE') process.exit(0) })

main(process.argv).catch((err) => {
  process.stderr.write(`claudemesh: ${(err as Error).message}\n`)
  process.exitCode = 1
})
