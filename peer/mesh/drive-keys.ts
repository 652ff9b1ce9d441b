// The keys of a member's file drive, derived from the public key that signs it: the drive's core
// (a hyperbee) and its blobs core. apply() derives them from a `drive.claim` op, so a `file.add`
// can be held to the writer's own drive without trusting the keys the op names.
import Hypercore from 'hypercore'
import Hyperdrive from 'hyperdrive'
import { fromHex, toHex } from '../../protocol/crypto.js'

export interface DriveKeys { drive: string, blobs: string }

/** The keys of the drive whose cores `signer` signs (corestore's default manifest, version 1). */
export function driveKeysFor (signer: string): DriveKeys {
  const manifest = Hypercore.parseManifest({ version: 1, signers: [{ publicKey: fromHex(signer) }] })
  const drive = Hypercore.key(manifest)
  const blobs = Hyperdrive.getContentKey(manifest, drive)
  if (blobs === null) throw new Error('a version 1 drive always has a blobs key')
  return { drive: toHex(drive), blobs: toHex(blobs) }
}
