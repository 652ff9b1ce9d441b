// Minimal ambient shim for brittle 4 (ships no types). Only what the tests use.

declare module 'brittle' {
  export interface TestOptions {
    timeout?: number
    skip?: boolean
    todo?: boolean
    solo?: boolean
    stealth?: boolean
  }

  /** An Error constructor, a RegExp matched against the message, or an object whose fields must match (tmatch). */
  export type ErrorMatcher = RegExp | (new (...args: any[]) => Error) | Record<string, unknown>

  export interface Exception {
    (fn: (() => unknown) | Promise<unknown>, expected?: ErrorMatcher, message?: string): Promise<void>
    (fn: (() => unknown) | Promise<unknown>, message?: string): Promise<void>
    /** Also accepts native errors (TypeError, RangeError, ...), which plain `exception` rethrows. */
    all (fn: (() => unknown) | Promise<unknown>, expected?: ErrorMatcher, message?: string): Promise<void>
  }

  export interface Comparison {
    (actual: unknown, expected: unknown, message?: string): void
    coercively (actual: unknown, expected: unknown, message?: string): void
  }

  export interface Assert extends PromiseLike<void> {
    readonly name: string
    is: Comparison
    not: Comparison
    alike: Comparison
    unlike: Comparison
    ok (value: unknown, message?: string): void
    absent (value: unknown, message?: string): void
    pass (message?: string): void
    fail (message?: string): void
    exception: Exception
    execution (fn: (() => unknown) | Promise<unknown>, message?: string): Promise<number>
    comment (...message: unknown[]): void
    plan (n: number): void
    timeout (ms: number): void
    teardown (fn: () => unknown, opts?: { order?: number, force?: boolean }): void
    tmp (): Promise<string>
    end (): void
    test: TestFn
  }

  export type TestCallback = (t: Assert) => void | Promise<void>

  export interface TestFn {
    (name: string, fn: TestCallback): Assert
    (name: string, opts: TestOptions, fn: TestCallback): Assert
    (fn: TestCallback): Assert
    (name?: string, opts?: TestOptions): Assert
  }

  export interface Brittle extends TestFn {
    test: TestFn
    solo: TestFn
    skip: TestFn
    todo: TestFn
    configure (opts: { timeout?: number, bail?: boolean, solo?: boolean, source?: boolean, unstealth?: boolean }): void
    pause (): void
    resume (): void
  }

  const test: Brittle
  export default test
  export const solo: TestFn
  export const skip: TestFn
  export const todo: TestFn
  export function configure (opts: { timeout?: number, bail?: boolean, solo?: boolean, source?: boolean, unstealth?: boolean }): void
}
