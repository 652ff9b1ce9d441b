// Types for the view library the dashboard serves as ./preact-htm.js: htm's standalone build of
// Preact with its hooks (htm/preact/standalone), one 13 KB file, no build step.
export type Node = unknown
export function html (strings: TemplateStringsArray, ...values: unknown[]): Node
export function render (tree: Node, parent: Element): void
export function useState<T> (initial: T | (() => T)): [T, (next: T | ((prev: T) => T)) => void]
export function useEffect (effect: () => void | (() => void), deps?: unknown[]): void
export function useRef<T> (initial: T): { current: T }
export function useMemo<T> (factory: () => T, deps: unknown[]): T
export function useCallback<T extends (...args: never[]) => unknown> (fn: T, deps: unknown[]): T
