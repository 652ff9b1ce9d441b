// The mesh's hyperbee view and its key layout.
import Hyperbee from 'hyperbee'

export type View = Hyperbee<unknown>

export const KEYS = {
  owner: 'meta/owner',
  member: (writerKey: string) => 'members/' + writerKey,
  membersRange: { gt: 'members/', lt: 'members0' },
  invite: (invitePublicKey: string) => 'invites/' + invitePublicKey,
  removed: (writerKey: string) => 'removed/' + writerKey,
  removedRange: { gt: 'removed/', lt: 'removed0' },
  memory: (id: string) => 'memory/' + id,
  memoryRange: { gt: 'memory/', lt: 'memory0' },
  forgotten: (id: string) => 'forgotten/' + id,
  state: (key: string) => 'state/' + key,
  /** every state key from `prefix` on, to the end of state/ (keys may hold any character): readers stop at the first key without the prefix */
  stateRange: (prefix = '') => ({ gte: 'state/' + prefix, lt: 'state0' }),
  /** strict meshes: a current member's swarm key -> its writer key */
  swarm: (swarmKey: string) => 'swarm/' + swarmKey,
  /** a claimed drive (or blobs) core key -> the writer that claimed it */
  drive: (coreKey: string) => 'drives/' + coreKey,
  drivesRange: { gt: 'drives/', lt: 'drives0' },
  revokedInvite: (invitePublicKey: string) => 'invites-revoked/' + invitePublicKey,
  file: (id: string) => 'files/' + id,
  filesRange: { gt: 'files/', lt: 'files0' },
  fileDeleted: (id: string) => 'files-deleted/' + id,
  filesDeletedRange: { gt: 'files-deleted/', lt: 'files-deleted0' },
  access: (id: string, writer: string, at: number) => `access/${id}/${at.toString().padStart(15, '0')}/${writer}`,
  accessesRange: { gt: 'access/', lt: 'access0' },
  /** access/, files-deleted/ and files/ together: nothing else sorts between them */
  fileKeysRange: { gt: 'access/', lt: 'files0' },
  accessRange: (id: string) => ({ gt: `access/${id}/`, lt: `access/${id}0` }),
  claim: (id: string) => 'claims/' + id,
  claimsRange: { gt: 'claims/', lt: 'claims0' },
  /** the members that index the mesh besides the owner (the owner's `indexers` op) */
  indexers: 'meta/indexers'
} as const

/**
 * Where a follower of the view (state, memory, files) stands: the version it has read up to. It
 * catches up by a diff of versions, or reads everything again at the start and after the view was
 * truncated (autobase reorders the log when writes arrive out of order).
 */
export class ViewCursor {
  /** the version read up to; null: nothing read yet */
  version: number | null = null
  /** a truncation happened since the last full read */
  truncated = false

  /** What to read to catch up with the view; a 'full' read clears the truncation it answers. */
  step (view: View): 'full' | 'diff' | 'none' {
    const version = view.version
    if (this.version === null || this.truncated || version < this.version) {
      this.truncated = false
      return 'full'
    }
    return version > this.version ? 'diff' : 'none'
  }
}

export function openView (store: { get (name: string | object): unknown }): View {
  return new Hyperbee<unknown>(store.get('view'), { keyEncoding: 'utf-8', valueEncoding: 'json', extension: false })
}
