// Errors with a stable `code`: callers branch on the code, people read the sentence.

export type ErrorCode =
  | 'BAD_INPUT'
  | 'INVITE_MALFORMED'
  | 'INVITE_VERSION'
  | 'INVITE_FORGED'
  | 'INVITE_EXPIRED'
  | 'INVITE_USED'
  | 'INVITE_REVOKED'
  | 'INVITE_UNKNOWN'
  | 'NOT_A_MEMBER'
  | 'NOT_OWNER'
  | 'MESH_EXISTS'
  | 'MESH_UNKNOWN'
  | 'MEMBER_UNKNOWN'
  | 'RELAY_UNREACHABLE'
  | 'DAEMON_UNREACHABLE'
  | 'TIMEOUT'
  | 'FILE_UNKNOWN'
  | 'FILE_EXPIRED'
  | 'FILE_FORBIDDEN'
  | 'FILE_UNAVAILABLE'
  | 'FILE_CORRUPT'
  | 'QUOTA_EXCEEDED'
  | 'RELAY_REFUSED'
  /** this caller may not use this method (the dashboard asking for one only the CLI or a session may) */
  | 'FORBIDDEN'
  | 'INTERNAL'

export class MeshError extends Error {
  readonly code: ErrorCode

  constructor (code: ErrorCode, message: string) {
    super(message)
    this.code = code
  }

  override get name (): string { return 'MeshError' }

  toJSON (): { code: ErrorCode, message: string } {
    return { code: this.code, message: this.message }
  }

  static BAD_INPUT (field: string, rule: string): MeshError {
    return new MeshError('BAD_INPUT', `${field}: ${rule}`)
  }

  static INVITE_MALFORMED (why: string): MeshError {
    return new MeshError('INVITE_MALFORMED', `This invite link is damaged (${why}). Ask for the link again and copy all of it.`)
  }

  static INVITE_VERSION (version: number): MeshError {
    return new MeshError('INVITE_VERSION', `This invite link has format version ${version}, which this claudemesh does not understand. Update claudemesh, or ask for a new link.`)
  }

  static INVITE_FORGED (): MeshError {
    return new MeshError('INVITE_FORGED', 'This invite was not issued by the mesh owner (its signature does not verify). Ask the owner for a new link.')
  }

  static INVITE_EXPIRED (): MeshError {
    return new MeshError('INVITE_EXPIRED', 'This invite has expired. Ask the mesh owner for a new one.')
  }

  static INVITE_USED (): MeshError {
    return new MeshError('INVITE_USED', 'This invite has already been used. Ask the mesh owner for a new one.')
  }

  static INVITE_REVOKED (): MeshError {
    return new MeshError('INVITE_REVOKED', 'This invite was revoked by the mesh owner. Ask for a new one.')
  }

  static INVITE_UNKNOWN (): MeshError {
    return new MeshError('INVITE_UNKNOWN', 'The relay does not know this invite. It may be forged, or meant for another relay. Ask the mesh owner for a new one.')
  }

  static NOT_A_MEMBER (what = 'this key'): MeshError {
    return new MeshError('NOT_A_MEMBER', `Not a member of the mesh: ${what}.`)
  }

  static NOT_OWNER (action: string): MeshError {
    return new MeshError('NOT_OWNER', `Only the mesh owner can ${action}.`)
  }

  static MESH_EXISTS (name: string): MeshError {
    return new MeshError('MESH_EXISTS', `A mesh named "${name}" is already joined here. Pick another name or leave it first.`)
  }

  static NO_MESH (): MeshError {
    return new MeshError('MESH_UNKNOWN', 'No mesh is joined yet: run `claudemesh create <name>` or `claudemesh join <link>`.')
  }

  static MESH_UNKNOWN (name: string, known: string[]): MeshError {
    const list = known.length > 0 ? `Joined meshes: ${known.join(', ')}.` : 'No mesh is joined yet: run `claudemesh create <name>` or `claudemesh join <link>`.'
    return new MeshError('MESH_UNKNOWN', `No joined mesh is named "${name}". ${list}`)
  }

  static MEMBER_UNKNOWN (who: string): MeshError {
    return new MeshError('MEMBER_UNKNOWN', `No member matches "${who}". Run \`claudemesh list\` to see members.`)
  }

  static RELAY_UNREACHABLE (where: string): MeshError {
    return new MeshError('RELAY_UNREACHABLE', `Cannot reach the relay at ${where}. Check that it is running and that the address and port are reachable from here.`)
  }

  static DAEMON_UNREACHABLE (why: string): MeshError {
    return new MeshError('DAEMON_UNREACHABLE', `The claudemesh daemon is not reachable: ${why}. Try \`claudemesh daemon start\`, or \`claudemesh doctor\`.`)
  }

  static TIMEOUT (what: string): MeshError {
    return new MeshError('TIMEOUT', `Timed out: ${what}.`)
  }

  static FILE_UNKNOWN (id: string, why: string): MeshError {
    return new MeshError('FILE_UNKNOWN', `id: no file ${id} ${why}.`)
  }

  static FILE_EXPIRED (id: string): MeshError {
    return new MeshError('FILE_EXPIRED', `id: attachment ${id} expired (attachments last 24 hours); ask the sender to send it again.`)
  }

  static FILE_FORBIDDEN (why: string): MeshError {
    return new MeshError('FILE_FORBIDDEN', why)
  }

  static FILE_UNAVAILABLE (why: string): MeshError {
    return new MeshError('FILE_UNAVAILABLE', why)
  }

  static FILE_CORRUPT (why: string): MeshError {
    return new MeshError('FILE_CORRUPT', why)
  }

  static QUOTA_EXCEEDED (what: string): MeshError {
    return new MeshError('QUOTA_EXCEEDED', what)
  }

  static RELAY_REFUSED (why: string): MeshError {
    return new MeshError('RELAY_REFUSED', why)
  }

  static from (err: unknown): MeshError {
    if (err instanceof MeshError) return err
    if (isCoded(err)) return new MeshError(err.code as ErrorCode, err.message)
    const message = err instanceof Error ? err.message : String(err)
    return new MeshError('INTERNAL', message)
  }
}

export function isCoded (err: unknown): err is { code: string, message: string } {
  return typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'string' && typeof (err as { message?: unknown }).message === 'string'
}
