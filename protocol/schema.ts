// Shared validation helpers: every failure names the field and the rule.
import { z } from 'zod'
import { MeshError } from './errors.js'

export const hexKey = z.string().regex(/^[0-9a-f]{64}$/, 'must be a 64-character lowercase hex key')
export const hexSignature = z.string().regex(/^[0-9a-f]{128}$/, 'must be a 128-character hex signature')
export const timestamp = z.number().int().nonnegative()

/** A name people type: mesh names, labels. Letters, digits, dot, dash, underscore. */
export function nameSchema (max: number): z.ZodString {
  return z.string()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'may only contain letters, digits, ".", "-" and "_", and must start with a letter or digit')
}

export function parse<T> (schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value)
  if (result.success) return result.data
  const issue = result.error.issues[0]
  const field = issue.path.length > 0 ? `${what}.${issue.path.join('.')}` : what
  throw MeshError.BAD_INPUT(field, issue.message)
}
