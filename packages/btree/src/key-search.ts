import { compareKeys, lowerBound, type Node, upperBound } from './node.js'

/**
 * A read-side search index for one node: the keys' common prefix, and the next four bytes of each
 * key as a big-endian number. A binary search over that one typed array touches a few cache lines
 * instead of one key object per step; only ties compare whole keys. Built on a node's first read
 * and dropped whenever the node's keys change.
 */
export interface KeyHeads {
  /** Length of the prefix all keys of the node share. */
  prefix: number
  /** A key of the node, to compare a target's prefix against. */
  sample: Buffer
  heads: Uint32Array
}

/** Bytes `[p, p + 4)` of `key` as a big-endian number, zero-padded: ordered as the keys are. */
function headOf(key: Uint8Array, p: number): number {
  return (((key[p] ?? 0) << 24) | ((key[p + 1] ?? 0) << 16) | ((key[p + 2] ?? 0) << 8) | (key[p + 3] ?? 0)) >>> 0
}

function buildHeads(keys: Buffer[]): KeyHeads {
  const first = keys[0] as Buffer
  const last = keys[keys.length - 1] as Buffer
  let prefix = 0
  const max = Math.min(first.length, last.length)
  while (prefix < max && first[prefix] === last[prefix]) prefix++
  const heads = new Uint32Array(keys.length)
  for (let i = 0; i < keys.length; i++) heads[i] = headOf(keys[i] as Buffer, prefix)
  return { prefix, sample: first, heads }
}

/**
 * In `node`, the index of the first key > target (`upper`) or ≥ target. Read paths use this; it
 * builds the node's {@link KeyHeads} on first use.
 */
export function searchNode(node: Node, target: Uint8Array, upper: boolean): number {
  const keys = node.keys
  if (keys.length < 8) return upper ? upperBound(keys, target) : lowerBound(keys, target)
  node.heads ??= buildHeads(keys)
  const { prefix, sample, heads } = node.heads
  // Outside the shared prefix, the target sorts before or after every key of the node.
  for (let i = 0; i < prefix; i++) {
    const t = target[i]
    if (t === undefined) return 0
    const d = t - (sample[i] as number)
    if (d !== 0) return d < 0 ? 0 : keys.length
  }
  const head = headOf(target, prefix)
  let lo = 0
  let hi = keys.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    const h = heads[mid] as number
    const below = h < head || (h === head && (upper ? compareKeys(keys[mid] as Buffer, target) <= 0 : compareKeys(keys[mid] as Buffer, target) < 0))
    if (below) lo = mid + 1
    else hi = mid
  }
  return lo
}
