import { entryValue } from './leaf-entry.js'
import { compareKeys, lowerBound, type StoredValue, type ValueRef } from './node.js'
import type { Tree } from './tree.js'

/**
 * What the keys of a batch held in a tree before the batch went in: enough to read the tree as it
 * was before the batch, and to take the batch back out. An engine applies a batch in key order
 * (a key's operations in batch order) and calls {@link BatchUndo.note} after each operation; the
 * first operation on a key tells what the key held before the batch.
 */
export class BatchUndo {
  /** The batch's distinct keys, ascending. */
  readonly #keys: Buffer[] = []
  /** Per key, the bytes and offset of the entry it held before the batch, or undefined if none. */
  readonly #src: (Buffer | undefined)[] = []
  readonly #off: number[] = []
  /** The tree's live data bytes before the batch. */
  readonly dataBytesBefore: number

  constructor(readonly tree: Tree) {
    this.dataBytesBefore = tree.dataBytes
  }

  /** Call after each put or del of the batch on `key`: a key's first call records what it replaced. */
  note(key: Buffer): void {
    const last = this.#keys[this.#keys.length - 1]
    if (last !== undefined) {
      const order = compareKeys(last, key)
      if (order === 0) return
      if (order > 0) throw new Error('strata: invariant broken: a batch applied out of key order')
    }
    this.#keys.push(key)
    this.#src.push(this.tree.replacedSrc)
    this.#off.push(this.tree.replacedOff)
  }

  /** Whether the batch wrote `key`; if so, {@link BatchUndo.before} tells what it held. */
  has(key: Uint8Array): boolean {
    return this.#index(key) >= 0
  }

  /** What `key` held before the batch (undefined if nothing); only for a key the batch wrote. */
  before(key: Uint8Array): StoredValue | undefined {
    const i = this.#index(key)
    if (i < 0) throw new Error('strata: invariant broken: asked what a batch did not write held before it')
    const src = this.#src[i]
    return src === undefined ? undefined : entryValue(src, this.#off[i] as number)
  }

  /**
   * Takes the batch back out of the tree: each key gets back what it held (or goes). `returned` is
   * called for each out-of-line value that comes back, which the batch's writes had released.
   */
  restore(returned: (ref: ValueRef) => void): void {
    for (let i = 0; i < this.#keys.length; i++) {
      const key = this.#keys[i] as Buffer
      const src = this.#src[i]
      if (src === undefined) {
        this.tree.del(key)
        continue
      }
      const value = entryValue(src, this.#off[i] as number)
      this.tree.put(key, value)
      if (!Buffer.isBuffer(value)) returned(value)
    }
  }

  #index(key: Uint8Array): number {
    const i = lowerBound(this.#keys, key)
    return i < this.#keys.length && compareKeys(this.#keys[i] as Buffer, key) === 0 ? i : -1
  }
}
