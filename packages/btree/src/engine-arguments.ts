import type { Operation } from './engine.js'

/**
 * A caller's arguments to the engine contract, checked the same way by both engines: a mistake is
 * a TypeError, an entry or name out of bounds a RangeError (with a stable code where the tree
 * gives one), before anything is queued.
 */

/** Throws a TypeError or RangeError unless every operation of `ops` is one the tree can store. */
export function checkOperations(ops: readonly Operation[], tree: { checkEntry(key: Uint8Array, value?: Uint8Array): void }): void {
  for (const op of ops) {
    if (!Buffer.isBuffer(op.key)) throw new TypeError('key must be a Buffer')
    if (op.type === 'put') {
      if (!Buffer.isBuffer(op.value)) throw new TypeError('value must be a Buffer')
      tree.checkEntry(op.key, op.value)
    } else if (op.type === 'del') {
      tree.checkEntry(op.key)
    } else {
      throw new TypeError(`unknown operation type ${(op as { type: unknown }).type}`)
    }
  }
}

/** Throws a TypeError or RangeError unless `name` and `meta` can make a named snapshot (NamedSnapshots.createSnapshot). */
export function checkSnapshotArguments(name: unknown, meta: unknown): asserts name is string {
  if (typeof name !== 'string') throw new TypeError('a snapshot name must be a string')
  const bytes = Buffer.byteLength(name, 'utf8')
  if (bytes === 0 || bytes > 255) throw new RangeError('a snapshot name must be 1 to 255 bytes of UTF-8')
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it rejects
  if (/[\u0000-\u001f\u007f]/.test(name)) throw new RangeError('a snapshot name must not contain control characters')
  if (!Buffer.isBuffer(meta)) throw new TypeError('snapshot meta must be a Buffer')
}
