// The relay's persisted ledger: meshes, their members, invites and redemptions.
// Written atomically (temp file, fsync, rename, fsync of the folder) so a kill never leaves it
// half-written, asynchronously and in batches: changes made while a write is on its way go out
// together in the next one, and whoever changed something awaits save() before answering, so what
// the relay acknowledged is on disk.
import fs from 'node:fs'
import path from 'node:path'
import { WriteBatch } from '../protocol/write-batch.js'

export interface LedgerMember {
  swarmKey: string
  writerKey: string
  signingKey: string
  role: 'owner' | 'member' | 'admin'
  joinedAt: number
  invite: string | null
}

export interface LedgerMesh {
  meshKey: string
  discoveryKey: string
  meshName: string
  ownerKey: string
  createdAt: number
  members: Record<string, LedgerMember>
  removed: Record<string, number>
}

export interface Redemption { writerKey: string, swarmKey: string, at: number, signingKey?: string }

export interface LedgerInvite {
  id: string
  meshKey: string
  publicKey: string
  role: 'member' | 'admin'
  uses: number
  expires: number
  additionalData: string
  additionalSignature: string
  createdAt: number
  revoked: boolean
  redemptions: Redemption[]
}

export interface LedgerData {
  version: 1
  meshes: Record<string, LedgerMesh>
  invites: Record<string, LedgerInvite>
}

export class Ledger {
  readonly file: string
  data: LedgerData
  /** how many times the file was written (batching shows as fewer writes than changes) */
  writes = 0
  private readonly batch = new WriteBatch(async () => await this.write())

  constructor (dir: string) {
    this.file = path.join(dir, 'ledger.json')
    this.data = { version: 1, meshes: {}, invites: {} }
  }

  load (): void {
    let text: string
    try {
      text = fs.readFileSync(this.file, 'utf-8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
      throw err
    }
    const parsed = JSON.parse(text) as LedgerData
    if (parsed.version !== 1 || typeof parsed.meshes !== 'object' || typeof parsed.invites !== 'object') {
      throw new Error(`relay ledger ${this.file} has an unknown format`)
    }
    this.data = parsed
  }

  /** Resolves once a write that includes every change made so far is on disk. */
  save (): Promise<void> {
    return this.batch.save()
  }

  /** Resolves once nothing is waiting to be written. */
  async idle (): Promise<void> {
    await this.batch.idle()
  }

  private async write (): Promise<void> {
    const text = JSON.stringify(this.data)
    const tmp = this.file + '.tmp'
    const handle = await fs.promises.open(tmp, 'w', 0o600)
    try {
      await handle.writeFile(text)
      await handle.sync()
    } finally {
      await handle.close()
    }
    await fs.promises.rename(tmp, this.file)
    const dir = await fs.promises.open(path.dirname(this.file), 'r')
    try { await dir.sync() } finally { await dir.close() }
    this.writes++
  }

  mesh (meshKey: string): LedgerMesh | null {
    return this.data.meshes[meshKey] ?? null
  }

  meshByDiscoveryKey (discoveryKey: string): LedgerMesh | null {
    for (const mesh of Object.values(this.data.meshes)) if (mesh.discoveryKey === discoveryKey) return mesh
    return null
  }

  invite (id: string): LedgerInvite | null {
    return this.data.invites[id] ?? null
  }

  isMember (meshKey: string, swarmKey: string): boolean {
    const mesh = this.mesh(meshKey)
    return mesh !== null && mesh.members[swarmKey] !== undefined
  }
}

