// Writes of a whole file in batches: while one write runs, every change made meanwhile waits for one
// more write (not one each). Each save() resolves once a write that began after it is done, so
// "on disk" is true of everything changed before the call.

export class WriteBatch {
  private readonly write: () => Promise<void>
  private writing: Promise<void> | null = null
  private queued: Promise<void> | null = null

  constructor (write: () => Promise<void>) {
    this.write = write
  }

  /** Resolves once a write that includes every change made so far is on disk. */
  save (): Promise<void> {
    if (this.queued !== null) return this.queued
    const after = this.writing ?? Promise.resolve()
    const next = after.catch(noop).then(async () => {
      this.queued = null
      const write = this.write()
      this.writing = write
      try {
        await write
      } finally {
        if (this.writing === write) this.writing = null
      }
    })
    this.queued = next
    return next
  }

  /** Resolves once nothing is waiting to be written. */
  async idle (): Promise<void> {
    while (this.queued !== null || this.writing !== null) await (this.queued ?? this.writing)?.catch(noop)
  }
}

function noop (): void {}
