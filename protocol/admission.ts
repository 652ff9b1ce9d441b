// The relay's word that it paired an invite: which keys the holder of the invite seed brought, and
// when. The relay signs it with its own key (the one in the invite link and the mesh's genesis op)
// and hands it only to the daemon whose Noise key is the swarm key it paired, so a `join` op can
// carry nothing the relay did not check: not a receipt made offline from a leaked or expired link,
// not another daemon's swarm key.
import { z } from 'zod'
import b4a from 'b4a'
import { hexKey, hexSignature, timestamp } from './schema.js'
import { sign, verify, toHex, fromHex } from './crypto.js'

export const AdmissionSchema = z.object({
  meshKey: hexKey,
  invitePublicKey: hexKey,
  writerKey: hexKey,
  swarmKey: hexKey,
  signingKey: hexKey,
  /** when the relay paired the invite, by its clock */
  at: timestamp,
  signature: hexSignature
})
export type Admission = z.infer<typeof AdmissionSchema>

function parts (a: Omit<Admission, 'signature'>): Buffer[] {
  return [fromHex(a.meshKey), fromHex(a.invitePublicKey), fromHex(a.writerKey), fromHex(a.swarmKey), fromHex(a.signingKey), b4a.from(JSON.stringify([a.at]))]
}

export function signAdmission (fields: Omit<Admission, 'signature'>, relaySecretKey: Buffer): Admission {
  return { ...fields, signature: toHex(sign('admission', parts(fields), relaySecretKey)) }
}

export function verifyAdmission (admission: Admission, relayKey: Buffer): boolean {
  return verify('admission', parts(admission), fromHex(admission.signature), relayKey)
}
