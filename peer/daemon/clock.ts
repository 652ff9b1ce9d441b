// The daemon's clock. Expiry (attachments) reads it; tests move it forward over IPC, which the daemon
// allows only when started with CLAUDEMESH_TEST_CLOCK=1.
export class DaemonClock {
  private offset = 0
  readonly adjustable: boolean

  constructor (adjustable: boolean) {
    this.adjustable = adjustable
  }

  now (): number {
    return Date.now() + this.offset
  }

  advance (ms: number): number {
    this.offset += ms
    return this.now()
  }
}
