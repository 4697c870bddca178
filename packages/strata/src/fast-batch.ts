import type { AbstractLevel } from 'abstract-level'

/** The parts of a database the fast batch path reads. */
interface BatchTarget {
  readonly status: string
  readonly hooks: { prewrite: { noop: boolean } }
  listenerCount(event: string): number
  keyEncoding(): { encode(data: unknown): unknown }
  valueEncoding(): { encode(data: unknown): unknown }
  _assertValidKey(key: unknown): void
  _assertValidValue(value: unknown): void
  _batch(operations: { type: 'put' | 'del'; key: unknown; value?: unknown }[], options: { sync?: unknown }): Promise<void>
}

const PLAIN_OPTION = new Set(['sync'])
const PLAIN_OPERATION = new Set(['type', 'key', 'value'])

function isPlain(object: object, allowed: Set<string>): boolean {
  for (const key in object) if (!allowed.has(key)) return false
  return true
}

/**
 * `db.batch(operations, options)` for the common case, or undefined where abstract-level's own
 * path must run. abstract-level copies every operation with an object spread that costs V8 a few
 * microseconds an operation, more than the engine spends on it; a plain batch (an open database,
 * default encodings, no prewrite hook, no write listener, no sublevel operations, only a `sync`
 * option) has nothing that copy serves, so this validates and encodes the same way and calls
 * `_batch` directly. Anything unusual, including any error, takes abstract-level's path, which
 * then reports it exactly as abstract-level does.
 */
export function fastBatch(db: BatchTarget, operations: unknown, options: unknown): Promise<void> | undefined {
  if (db.status !== 'open' || !db.hooks.prewrite.noop || db.listenerCount('write') > 0) return undefined
  if (!Array.isArray(operations) || operations.length === 0) return undefined
  if (options !== undefined && (options === null || typeof options !== 'object' || !isPlain(options, PLAIN_OPTION))) return undefined
  const keyEncoding = db.keyEncoding()
  const valueEncoding = db.valueEncoding()
  const encoded: { type: 'put' | 'del'; key: unknown; value?: unknown }[] = new Array(operations.length)
  try {
    for (let i = 0; i < operations.length; i++) {
      const op = operations[i] as { type?: unknown; key?: unknown; value?: unknown } | null
      if (op === null || typeof op !== 'object' || !isPlain(op, PLAIN_OPERATION)) return undefined
      db._assertValidKey(op.key)
      if (op.type === 'put') {
        db._assertValidValue(op.value)
        encoded[i] = { type: 'put', key: keyEncoding.encode(op.key), value: valueEncoding.encode(op.value) }
      } else if (op.type === 'del') {
        encoded[i] = { type: 'del', key: keyEncoding.encode(op.key) }
      } else {
        return undefined
      }
    }
  } catch {
    return undefined
  }
  return db._batch(encoded, { sync: (options as { sync?: unknown } | undefined)?.sync })
}

/** Installs {@link fastBatch} in front of abstract-level's `batch` on `db`. */
export function installFastBatch(db: AbstractLevel<unknown, unknown, unknown>): void {
  const target = db as unknown as BatchTarget & { batch: (...args: unknown[]) => unknown }
  const original = target.batch.bind(db)
  target.batch = (...args: unknown[]) => (args.length === 0 ? original() : (fastBatch(target, args[0], args[1]) ?? original(...args)))
}
