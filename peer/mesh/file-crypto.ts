// Attachments are sealed before their bytes reach the uploader's drive, so members who replicate the
// blocks cannot read them: AES-256-GCM over 1 MiB chunks, with a random key per file that travels
// only inside the message. The nonce is the chunk's index; the additional data binds the file id,
// the index and whether the chunk is the last, so chunks cannot be reordered, swapped or cut off.
import crypto from 'node:crypto'
import { Transform, type TransformCallback } from 'node:stream'
import { MeshError } from '../../protocol/errors.js'

export const CHUNK = 1024 * 1024
const TAG = 16
const SEALED = CHUNK + TAG

export function newFileKey (): Buffer {
  return crypto.randomBytes(32)
}

/** Bytes stored for a plaintext of `size` bytes: every chunk (at least one) carries a tag. */
export function sealedSize (size: number): number {
  return size + Math.max(1, Math.ceil(size / CHUNK)) * TAG
}

function nonce (index: number): Buffer {
  const n = Buffer.alloc(12)
  n.writeBigUInt64BE(BigInt(index), 4)
  return n
}

function aad (fileId: Buffer, index: number, last: boolean): Buffer {
  const a = Buffer.alloc(fileId.length + 9)
  fileId.copy(a)
  a.writeBigUInt64BE(BigInt(index), fileId.length)
  a[fileId.length + 8] = last ? 1 : 0
  return a
}

/** Collects incoming buffers and hands out fixed-size units; the remainder is the last one. */
class Chunker extends Transform {
  private parts: Buffer[] = []
  private size = 0
  private index = 0

  constructor (private readonly unit: number, private readonly onunit: (data: Buffer, index: number, last: boolean) => Buffer) {
    super()
  }

  override _transform (data: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.parts.push(data)
    this.size += data.length
    // keep at least one byte back: only the flush knows which unit is the last
    if (this.size <= this.unit) {
      cb()
      return
    }
    try {
      const all = this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts, this.size)
      let at = 0
      for (; all.length - at > this.unit; at += this.unit) {
        this.push(this.onunit(all.subarray(at, at + this.unit), this.index++, false))
      }
      this.parts = [all.subarray(at)]
      this.size = all.length - at
      cb()
    } catch (err) {
      cb(err as Error)
    }
  }

  override _flush (cb: TransformCallback): void {
    try {
      this.push(this.onunit(Buffer.concat(this.parts), this.index++, true))
      cb()
    } catch (err) {
      cb(err as Error)
    }
  }
}

export function sealStream (key: Buffer, fileId: string): Transform {
  const id = Buffer.from(fileId, 'hex')
  return new Chunker(CHUNK, (plain, index, last) => {
    const cipher = crypto.createCipheriv('aes-256-gcm', key, nonce(index))
    cipher.setAAD(aad(id, index, last))
    return Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()])
  })
}

export function openStream (key: Buffer, fileId: string): Transform {
  const id = Buffer.from(fileId, 'hex')
  return new Chunker(SEALED, (sealed, index, last) => {
    if (sealed.length < TAG) throw MeshError.FILE_CORRUPT(`attachment ${fileId} is cut short`)
    const decipher = crypto.createDecipheriv('aes-256-gcm', key, nonce(index))
    decipher.setAAD(aad(id, index, last))
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG))
    try {
      return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - TAG)), decipher.final()])
    } catch {
      throw MeshError.FILE_FORBIDDEN(`attachment ${fileId} does not open with the key this daemon holds (wrong key, or the bytes were altered)`)
    }
  })
}
