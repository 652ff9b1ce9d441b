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
  relayFrame: 64 * 1024,
  inviteUses: 1000,
  inviteMaxExpiryMs: 365 * 24 * 3600 * 1000
} as const

export const DEFAULT_RELAY_PORT = 49737
export const DEFAULT_HTTP_PORT = 8080
export const DEFAULT_INVITE_EXPIRY_MS = 7 * 24 * 3600 * 1000
export const MIN_DHT_NODES = 5
/** hyperdht turns port 0 into 49737; an empty port range makes it bind a free port instead. */
export const ANY_UDP_PORT: [number, number] = [0, 0]
