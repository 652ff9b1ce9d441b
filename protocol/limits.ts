// Defaults for every size limit; entry points validate against these.
export const LIMITS = {
  meshName: 64,
  displayName: 64,
  group: 64,
  role: 32,
  message: 64 * 1024,
  stateKey: 256,
  stateValue: 64 * 1024,
  memoryEntry: 16 * 1024,
  memoryTags: 20,
  memoryTag: 64,
  file: 1024 * 1024 * 1024,
  fileName: 255,
  fileTags: 20,
  fileTag: 64,
  attachments: 16,
  attachmentTtlMs: 24 * 3600 * 1000,
  ipcLine: 1024 * 1024,
  /** the most of Claude Code's JSON a hook reads (a Write carries the whole file); beyond it the guard passes and says so */
  hookInput: 8 * 1024 * 1024,
  relayFrame: 64 * 1024,
  inviteUses: 1000,
  inviteMaxExpiryMs: 365 * 24 * 3600 * 1000
} as const

/**
 * What one member can make another daemon hold: past these, its oldest entries go (and a sender
 * whose held message went is told `dropped`).
 */
export const CAPS = {
  /** live sessions one member's daemon may announce in one mesh */
  sessionsPerMember: 256,
  /** how long a session id stays bound to the member that announced it after it went */
  sessionOwnershipMs: 24 * 3600 * 1000,
  /** session ids remembered that way, per member */
  rememberedSessionsPerMember: 1024,
  /** session names seen, per member (the offline queue targets) */
  namesPerMember: 512,
  /** messages held for one local session from one sending member, and their bytes */
  heldPerSender: 256,
  heldBytesPerSender: 8 * 1024 * 1024,
  /** attachment keys held that one member sent */
  attachmentKeysPerSender: 2048,
  /** direct file transfers one member may have this daemon serve at once */
  servingPerPeer: 8
} as const

export const DEFAULT_RELAY_PORT = 49737
export const DEFAULT_HTTP_PORT = 8080
export const DEFAULT_INVITE_EXPIRY_MS = 7 * 24 * 3600 * 1000
export const MIN_DHT_NODES = 5
/** hyperdht turns port 0 into 49737; an empty port range makes it bind a free port instead. */
export const ANY_UDP_PORT: [number, number] = [0, 0]
