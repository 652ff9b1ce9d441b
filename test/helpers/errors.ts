// Catching a MeshError thrown synchronously, failing the test with what was thrown instead.
import type { Assert } from 'brittle'
import { MeshError } from '../../protocol/errors.js'

export function catchMeshError (t: Assert, fn: () => unknown, label: string, expected: string): MeshError | null {
  try {
    fn()
  } catch (err) {
    if (err instanceof MeshError) return err
    t.fail(`${label}: expected MeshError ${expected}, got ${String(err)}`)
    return null
  }
  t.fail(`${label}: expected MeshError ${expected}, got no error`)
  return null
}

/** The coded error a daemon call was refused with, or null if it succeeded. */
export async function refusal (call: Promise<unknown>): Promise<{ code: string, message: string } | null> {
  try {
    await call
    return null
  } catch (err) {
    const e = err as { code?: string, message: string }
    return { code: e.code ?? 'NO_CODE', message: e.message }
  }
}
