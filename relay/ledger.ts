// The relay's persisted ledger: meshes, their members, invites and redemptions.
// Written atomically (temp file, fsync, rename) so a kill never leaves it half-written.
import fs from 'node:fs'
import path from 'node:path'

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

export interface Redemption { writerKey: string, swarmKey: string, at: number }

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

  save (): void {
    const tmp = this.file + '.tmp'
    const fd = fs.openSync(tmp, 'w', 0o600)
    try {
      fs.writeSync(fd, JSON.stringify(this.data))
      fs.fsyncSync(fd)
    } finally {
      fs.closeSync(fd)
    }
    fs.renameSync(tmp, this.file)
    const dirFd = fs.openSync(path.dirname(this.file), 'r')
    try { fs.fsyncSync(dirFd) } finally { fs.closeSync(dirFd) }
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
