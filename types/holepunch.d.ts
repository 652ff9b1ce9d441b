// Narrow ambient shims for the holepunch packages (none ship types). Only what claudemesh uses.

declare module 'b4a' {
  const b4a: {
    from (input: string | ArrayLike<number>, encoding?: string): Buffer
    alloc (size: number, fill?: number): Buffer
    toString (buf: Uint8Array, encoding?: string): string
    equals (a: Uint8Array, b: Uint8Array): boolean
    isBuffer (v: unknown): v is Buffer
    concat (bufs: Uint8Array[]): Buffer
  }
  export default b4a
}

declare module 'hypercore-crypto' {
  export interface KeyPair { publicKey: Buffer, secretKey: Buffer }
  const crypto: {
    keyPair (seed?: Buffer): KeyPair
    sign (message: Buffer, secretKey: Buffer): Buffer
    verify (message: Buffer, signature: Buffer, publicKey: Buffer): boolean
    hash (data: Buffer | Buffer[], out?: Buffer): Buffer
    namespace (name: string, count: number): Buffer[]
    randomBytes (n: number): Buffer
    discoveryKey (key: Buffer): Buffer
  }
  export default crypto
}

declare module 'sodium-universal' {
  const sodium: {
    crypto_secretbox_NONCEBYTES: number
    crypto_secretbox_MACBYTES: number
    crypto_secretbox_KEYBYTES: number
    crypto_secretbox_easy (out: Buffer, msg: Buffer, nonce: Buffer, key: Buffer): void
    crypto_secretbox_open_easy (out: Buffer, box: Buffer, nonce: Buffer, key: Buffer): boolean
    randombytes_buf (buf: Buffer): void
    sodium_memzero (buf: Buffer): void
  }
  export default sodium
}

declare module 'z32' {
  const z32: { encode (buf: Uint8Array): string, decode (s: string): Buffer }
  export default z32
}

declare module 'compact-encoding' {
  export interface State { start: number, end: number, buffer: Buffer | null }
  export interface Encoding<T> {
    preencode (state: State, value: T): void
    encode (state: State, value: T): void
    decode (state: State): T
  }
  const c: {
    uint: Encoding<number>
    uint8: Encoding<number>
    string: Encoding<string>
    buffer: Encoding<Buffer | null>
    fixed32: Encoding<Buffer>
    json: Encoding<unknown>
    none: Encoding<null>
    raw: Encoding<Buffer>
    array<T> (enc: Encoding<T>): Encoding<T[]>
    fixed (n: number): Encoding<Buffer>
    state (): State
    encode<T> (enc: Encoding<T>, value: T): Buffer
    decode<T> (enc: Encoding<T>, buf: Buffer): T
  }
  export default c
}

declare module 'protomux' {
  import type { Encoding } from 'compact-encoding'
  export interface Message<T = unknown> { send (value: T): boolean }
  export interface Channel {
    opened: boolean
    closed: boolean
    userData: unknown
    open (handshake?: unknown): void
    close (): void
    addMessage<T> (opts: { encoding: Encoding<T>, onmessage: (value: T, channel: Channel) => void }): Message<T>
  }
  export interface ChannelOptions {
    protocol: string
    id?: Buffer | null
    handshake?: Encoding<any>
    unique?: boolean
    onopen?: (handshake: any, channel: Channel) => void | Promise<void>
    onclose?: (isRemote: boolean, channel: Channel) => void
    ondestroy?: () => void
    /** the stream under the muxer drained after a send returned false */
    ondrain?: (channel: Channel) => void
  }
  export default class Protomux {
    static from (stream: unknown): Protomux
    createChannel (opts: ChannelOptions): Channel | null
    pair (opts: { protocol: string, id?: Buffer | null }, notify: (id: Buffer | null) => void): void
    unpair (opts: { protocol: string, id?: Buffer | null }): void
    opened (opts: { protocol: string, id?: Buffer | null }): boolean
    destroy (err?: Error): void
  }
}

declare module 'hyperdht' {
  import { EventEmitter } from 'node:events'
  export interface KeyPair { publicKey: Buffer, secretKey: Buffer }
  export interface Address { host: string, port: number }
  export interface NoiseSocket extends EventEmitter {
    remotePublicKey: Buffer
    publicKey: Buffer
    handshakeHash: Buffer
    rawStream: { remoteHost: string, remotePort: number }
    userData: unknown
    write (data: Buffer): boolean
    end (data?: Buffer | string): void
    destroy (err?: Error): void
    setKeepAlive (ms: number): void
    setTimeout (ms: number): void
    opened: Promise<boolean>
  }
  export interface DHTServer extends EventEmitter {
    publicKey: Buffer
    listen (keyPair?: KeyPair): Promise<void>
    close (): Promise<void>
  }
  export interface DHTOptions {
    bootstrap?: Array<string | Address>
    host?: string
    port?: number | [number, number]
    anyPort?: boolean
    ephemeral?: boolean
    firewalled?: boolean
    keyPair?: KeyPair
  }
  export default class HyperDHT extends EventEmitter {
    constructor (opts?: DHTOptions)
    static keyPair (seed?: Buffer): KeyPair
    defaultKeyPair: KeyPair
    destroyed: boolean
    ready (): Promise<void>
    fullyBootstrapped (): Promise<void>
    address (): Address
    createServer (opts: object, onconnection?: (socket: NoiseSocket) => void): DHTServer
    createServer (onconnection: (socket: NoiseSocket) => void): DHTServer
    connect (publicKey: Buffer, opts?: { keyPair?: KeyPair, relayThrough?: Buffer | null, fastOpen?: boolean, localConnection?: boolean, holepunch?: () => boolean }): NoiseSocket
    createRawStream (opts?: object): unknown
    announce (target: Buffer, keyPair: KeyPair, relayAddresses?: Address[]): { finished (): Promise<void> }
    lookup (target: Buffer): AsyncIterable<{ peers: Array<{ publicKey: Buffer }> }> & { destroy (): void }
    destroy (opts?: { force?: boolean }): Promise<void>
  }
}

declare module 'hyperswarm' {
  import { EventEmitter } from 'node:events'
  import HyperDHT, { KeyPair, NoiseSocket } from 'hyperdht'
  export interface PeerInfo { publicKey: Buffer, topics: Buffer[], client: boolean, banned: boolean, ban (v?: boolean): void }
  export interface PeerDiscovery { flushed (): Promise<void>, refresh (o?: { client?: boolean, server?: boolean }): Promise<void>, destroy (): Promise<void> }
  export interface SwarmOptions {
    dht?: HyperDHT
    keyPair?: KeyPair
    maxPeers?: number
    firewall?: (remotePublicKey: Buffer, payload: unknown) => boolean
    relayThrough?: Buffer | ((force: boolean) => Buffer | null) | null
    backoffs?: number[]
    jitter?: number
  }
  export default class Hyperswarm extends EventEmitter {
    constructor (opts?: SwarmOptions)
    keyPair: KeyPair
    dht: HyperDHT
    connections: Set<NoiseSocket>
    peers: Map<string, PeerInfo>
    destroyed: boolean
    join (topic: Buffer, opts?: { server?: boolean, client?: boolean }): PeerDiscovery
    leave (topic: Buffer): Promise<void>
    joinPeer (publicKey: Buffer): void
    leavePeer (publicKey: Buffer): void
    flush (): Promise<boolean>
    listen (): Promise<void>
    destroy (): Promise<void>
  }
}

declare module 'corestore' {
  export interface Core {
    key: Buffer
    discoveryKey: Buffer | null
    length: number
    /** the peers replicating this core, with how much of it each holds from the start */
    peers: Array<{ remoteContiguousLength: number }>
    ready (): Promise<void>
    close (): Promise<void>
  }
  /** corestore's internal record of one open core (what watch() and the core tracker hand out) */
  export interface StoreCore {
    discoveryKey: Buffer
    opened: boolean
    ready (): Promise<void>
    replicator: {
      downloading: boolean
      ondownloading: (() => void) | null
      peers: Array<{ protomux: unknown, channel: { close (): void } }>
      attached (muxer: unknown): boolean
      attachTo (muxer: unknown): void
      detachFrom (muxer: unknown): void
    }
  }
  export interface CorestoreOptions { primaryKey?: Buffer, unsafe?: boolean, root?: Corestore, namespace?: Buffer, manifestVersion?: number }
  export default class Corestore {
    constructor (storage: string | null, opts?: CorestoreOptions)
    readonly root: Corestore | null
    readonly manifestVersion: number
    /** every open core of the store (shared by all its sessions) */
    readonly cores: Iterable<StoreCore> & { get (discoveryKeyHex: string): StoreCore | null }
    namespace (name: string): Corestore
    session (opts?: CorestoreOptions): Corestore
    get (opts: string | { name?: string, key?: Buffer, discoveryKey?: Buffer, valueEncoding?: string, encryptionKey?: Buffer }): Core
    replicate (stream: unknown): unknown
    /** calls fn with every core opened from now on */
    watch (fn: (core: StoreCore) => void): void
    unwatch (fn: (core: StoreCore) => void): void
    /** opens a stored core a peer asked for by discovery key and attaches it to that muxer (what replicate() does) */
    _attachMaybe (muxer: unknown, discoveryKey: Buffer): Promise<void>
    createKeyPair (name: string): Promise<{ publicKey: Buffer, secretKey: Buffer }>
    ready (): Promise<void>
    close (): Promise<void>
  }
}

declare module 'hyperbee' {
  export interface BeeNode<V> { seq: number, key: string, value: V }
  export default class Hyperbee<V = unknown> {
    constructor (core: unknown, opts?: { keyEncoding?: string, valueEncoding?: string, extension?: boolean })
    version: number
    ready (): Promise<void>
    close (): Promise<void>
    get (key: string): Promise<BeeNode<V> | null>
    put (key: string, value: V): Promise<void>
    del (key: string): Promise<void>
    core: { on (event: 'truncate', fn: () => void): void, length: number, /** bumped by every truncation, so (fork, length) names one history */ fork: number, /** how much of the view its indexers signed (settled history) */ signedLength: number, treeHash (length?: number): Promise<Buffer> }
    createReadStream (range?: { gt?: string, gte?: string, lt?: string, lte?: string }): AsyncIterable<BeeNode<V>>
    createDiffStream (version: number, range?: { gt?: string, gte?: string, lt?: string, lte?: string }): AsyncIterable<{ left: BeeNode<V> | null, right: BeeNode<V> | null }>
  }
}

declare module 'autobase' {
  import { EventEmitter } from 'node:events'
  import Corestore, { Core } from 'corestore'
  export interface ApplyNode<T> { value: T | null, from: { key: Buffer }, length: number, optimistic?: boolean }
  export interface Host {
    key: Buffer
    addWriter (key: Buffer, o?: { indexer?: boolean }): Promise<void>
    removeWriter (key: Buffer): Promise<void>
    ackWriter (key: Buffer): Promise<void>
    removeable (key: Buffer): boolean
    interrupt (reason?: string): void
  }
  export interface AutobaseOptions<T, V> {
    open: (store: { get (name: string | object): unknown }) => V
    apply: (nodes: Array<ApplyNode<T>>, view: V, host: Host) => Promise<void>
    valueEncoding?: string
    encryptionKey?: Buffer
    encrypt?: boolean
    optimistic?: boolean
    ackInterval?: number
    fastForward?: boolean
  }
  export default class Autobase<T = unknown, V = unknown> extends EventEmitter {
    constructor (store: Corestore, bootstrap: Buffer | null, opts: AutobaseOptions<T, V>)
    static getLocalCore (store: Corestore): Core
    key: Buffer
    discoveryKey: Buffer
    encryptionKey: Buffer | null
    local: Core
    view: V
    writable: boolean
    isIndexer: boolean
    /** this member is an indexer now (its acks count) */
    ackable: boolean
    length: number
    signedLength: number
    indexedLength: number
    /** the indexer set the system has settled on; null before the base is open */
    system: { indexers: Array<{ key: Buffer }> } | null
    opened: boolean
    closed: boolean
    wakeupProtocol: { addStream (stream: unknown): void }
    ready (): Promise<void>
    close (): Promise<void>
    update (): Promise<void>
    /** null appends an ack (indexers) */
    append (value: T | T[] | null, opts?: { optimistic?: boolean }): Promise<void>
    replicate (conn: unknown): unknown
  }
}

declare module 'blind-pairing' {
  import Hyperswarm from 'hyperswarm'
  import { EventEmitter } from 'node:events'
  export interface MemberRequest {
    inviteId: Buffer
    open (publicKey: Buffer): Buffer
    confirm (opts: { key: Buffer, encryptionKey?: Buffer | null, additional?: { data: Buffer, signature: Buffer } | null }): void
    deny (opts?: { status?: number }): void
  }
  export interface CandidateRequest extends EventEmitter { inviteId: Buffer }
  export interface Candidate { request: CandidateRequest, close (): Promise<void> }
  export interface Member { flushed (): Promise<void>, close (): Promise<void> }
  export interface PairedResult { key: Buffer, encryptionKey: Buffer | null, data: Buffer | null }
  export interface DecodedInvite { id: Buffer, seed: Buffer, discoveryKey: Buffer, expires: number }
  export interface CreatedInvite {
    id: Buffer
    invite: Buffer
    seed: Buffer
    publicKey: Buffer
    additional: { data: Buffer, signature: Buffer } | null
    discoveryKey: Buffer
    expires: number
  }
  export default class BlindPairing {
    constructor (swarm: Hyperswarm, opts?: { poll?: number })
    static createInvite (key: Buffer, opts?: { seed?: Buffer, expires?: number, data?: Buffer, discoveryKey?: Buffer }): CreatedInvite
    static decodeInvite (invite: Buffer): DecodedInvite
    static verifyReceipt (receipt: Buffer, publicKey: Buffer): Buffer | null
    addMember (opts: { discoveryKey: Buffer, onadd: (request: MemberRequest) => void | Promise<void> }): Member
    addCandidate (opts: { invite: Buffer, userData: Buffer, onadd: (result: PairedResult) => void | Promise<void> }): Candidate
    close (): Promise<void>
  }
}

declare module 'blind-pairing-core' {
  export function createReceipt (invite: Buffer, userData: Buffer): { id: Buffer, receipt: Buffer }
}

declare module 'blind-relay' {
  export class Server {
    constructor (opts: { createStream: (opts: object) => unknown })
    accept (stream: unknown, opts?: { id?: Buffer }): { on (event: string, fn: (...args: any[]) => void): void }
    close (): Promise<void>
    stats: { pairings: { matched: number } }
  }
  export class Client {
    static from (stream: unknown, opts?: { id?: Buffer }): Client
    on (event: 'pair', fn: (isInitiator: boolean, token: Buffer, stream: unknown, remoteId: number) => void): this
    pair (isInitiator: boolean, token: Buffer, stream: unknown): unknown
  }
}

declare module 'blind-pairing-core' {
  export function verifyReceipt (receipt: Buffer, publicKey: Buffer): Buffer | null
}

declare module 'hyperblobs' {
  import type { Readable } from 'node:stream'
  export interface BlobId { blockOffset: number, blockLength: number, byteOffset: number, byteLength: number }
  export interface BlobsCore {
    key: Buffer
    length: number
    ready (): Promise<void>
    close (): Promise<void>
    has (start: number, end?: number): Promise<boolean>
    on (event: 'download', fn: (index: number, byteLength: number) => void): void
    off (event: 'download', fn: (index: number, byteLength: number) => void): void
  }
  export default class Hyperblobs {
    constructor (core: unknown, opts?: { blockSize?: number })
    core: BlobsCore
    createReadStream (id: BlobId, opts?: { wait?: boolean, timeout?: number, prefetch?: boolean, start?: number }): Readable
    clear (id: BlobId, opts?: { diff?: boolean }): Promise<{ blocks: number } | null>
  }
}

declare module 'hyperdrive' {
  import type { Writable } from 'node:stream'
  import type Hyperblobs from 'hyperblobs'
  import type { BlobId } from 'hyperblobs'
  export interface DriveEntry { seq: number, key: string, value: { executable: boolean, linkname: string | null, blob: BlobId | null, metadata: unknown } }
  export default class Hyperdrive {
    constructor (store: unknown, key?: Buffer | null, opts?: { encryptionKey?: Buffer | null })
    /** the blobs core key of a drive with this (parsed) manifest and key; null for compat drives */
    static getContentKey (manifest: unknown, key: Buffer): Buffer | null
    /** the drive's own core (a hyperbee's), writable here when this store created it */
    readonly core: { key: Buffer, discoveryKey: Buffer, keyPair: { publicKey: Buffer, secretKey: Buffer } | null }
    readonly key: Buffer
    readonly version: number
    readonly blobs: Hyperblobs | null
    ready (): Promise<void>
    close (): Promise<void>
    getBlobs (): Promise<Hyperblobs>
    entry (path: string, opts?: { wait?: boolean }): Promise<DriveEntry | null>
    createWriteStream (path: string, opts?: { metadata?: unknown }): Writable
    clear (path: string): Promise<unknown>
    del (path: string): Promise<void>
  }
}

declare module '@hyperswarm/secret-stream' {
  import { EventEmitter } from 'node:events'
  export default class NoiseSecretStream extends EventEmitter {
    constructor (isInitiator: boolean, rawStream: unknown, opts?: { keyPair?: { publicKey: Buffer, secretKey: Buffer }, remotePublicKey?: Buffer })
    readonly remotePublicKey: Buffer | null
    readonly opened: Promise<boolean>
    readonly destroyed: boolean
    destroy (err?: Error): void
  }
}

declare module 'hypercore' {
  export interface Manifest { version: number, signers: Array<{ publicKey: Buffer, namespace?: Buffer, signature?: string }> }
  /** only the statics claudemesh uses: key derivation and the replication protocol stream */
  export default class Hypercore {
    static key (manifest: Manifest | Buffer): Buffer
    static parseManifest (manifest: Manifest): Manifest
    static discoveryKey (key: Buffer): Buffer
    static createProtocolStream (stream: unknown, opts?: { ondiscoverykey?: (discoveryKey: Buffer) => unknown }): unknown
  }
}
