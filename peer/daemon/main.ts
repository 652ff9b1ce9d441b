// Entry point of the daemon process. Started by the CLI (`claudemesh daemon start`, or on demand).
// Prints "ready <pid>" on stdout once the IPC socket listens, then logs only to daemon.log.
import fs from 'node:fs'
import { Daemon } from './daemon.js'
import { homePaths, ensureHome } from './home.js'
import { watchPid } from './watch-pid.js'
import { isRunning } from './process.js'

const paths = homePaths()
ensureHome(paths)
const lockFile = paths.pid + '.lock'

function log (line: string): void {
  try {
    fs.appendFileSync(paths.log, `${new Date().toISOString()} ${line}\n`, { mode: 0o600 })
  } catch {}
}

function takeLock (): boolean {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = fs.openSync(lockFile, 'wx', 0o600)
      fs.writeSync(fd, String(process.pid))
      fs.closeSync(fd)
      return true
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      const pid = Number(fs.readFileSync(lockFile, 'utf-8').trim())
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isRunning(pid)) return false
      fs.rmSync(lockFile, { force: true })
    }
  }
  return false
}


async function main (): Promise<void> {
  if (!takeLock()) {
    process.stdout.write('already-running\n')
    process.exit(3)
  }
  const label = process.env.CLAUDEMESH_LABEL
  let daemon: Daemon
  try {
    const maxFileBytes = process.env.CLAUDEMESH_MAX_FILE_BYTES
    daemon = new Daemon({
      label: label === undefined || label === '' ? undefined : label,
      maxFileBytes: maxFileBytes === undefined || maxFileBytes === '' ? undefined : Number(maxFileBytes),
      adjustableClock: process.env.CLAUDEMESH_TEST_CLOCK === '1',
      tcpLinks: process.env.CLAUDEMESH_TCP_LINKS !== '0',
      directFiles: process.env.CLAUDEMESH_DIRECT_FILES !== '0',
      dashboardPort: process.env.CLAUDEMESH_DASHBOARD_PORT === undefined || process.env.CLAUDEMESH_DASHBOARD_PORT === '' ? undefined : Number(process.env.CLAUDEMESH_DASHBOARD_PORT)
    })
  } catch (err) {
    process.stdout.write('error ' + (err as Error).message + '\n')
    fs.rmSync(lockFile, { force: true })
    process.exit(1)
  }
  daemon.on('log', log)
  let exiting = false
  const shutdown = async (code: number): Promise<void> => {
    if (exiting) return
    exiting = true
    log('stopping')
    const hard = setTimeout(() => process.exit(code), 10_000)
    hard.unref()
    await daemon.close().catch((err) => log('close failed: ' + (err as Error).message))
    fs.rmSync(lockFile, { force: true })
    log('stopped')
    process.exit(code)
  }
  daemon.on('stop-requested', () => { shutdown(0).catch(() => process.exit(1)) })
  process.on('SIGTERM', () => { shutdown(0).catch(() => process.exit(1)) })
  process.on('SIGINT', () => { shutdown(0).catch(() => process.exit(1)) })
  process.on('uncaughtException', (err) => log('uncaught: ' + (err.stack ?? err.message)))
  process.on('unhandledRejection', (err) => log('unhandled rejection: ' + String((err as Error)?.stack ?? err)))

  try {
    await daemon.ready()
  } catch (err) {
    log('start failed: ' + ((err as Error).stack ?? String(err)))
    process.stdout.write('error ' + (err as Error).message.replace(/\n/g, ' ') + '\n')
    fs.rmSync(lockFile, { force: true })
    process.exit(1)
  }
  log(`started pid ${process.pid} swarm key ${daemon.swarmKey}`)
  watchPid(process.env.CLAUDEMESH_WATCH_PID, () => { log('the watched process is gone'); shutdown(0).catch(() => process.exit(1)) })
  process.stdout.write(`ready ${process.pid}\n`)
}

main().catch((err) => {
  log('fatal: ' + ((err as Error).stack ?? String(err)))
  process.exit(1)
})
