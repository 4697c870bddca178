import { compareKeys, lowerBound, type Node, upperBound } from './node.js'

/**
 * The search index of a node, in one Uint32Array: first the words (4 bytes each,
 * big-endian) of the prefix all its keys share, rounded down to whole words; then, per key, the
 * next 4 bytes as a number. Numbers compare as the bytes do (shorter keys are padded with zeros),
 * so a binary search over that one array touches a few cache lines instead of one key object per
 * step, and only ties compare whole keys. Built on a node's first search; dropped (set undefined)
 * whenever the node's keys change.
 */
export type KeyHeads = Uint32Array

/** Bytes `[p, p + 4)` of `key` as a big-endian number, zero-padded. */
function wordAt(key: Uint8Array, p: number): number {
  return (((key[p] ?? 0) << 24) | ((key[p + 1] ?? 0) << 16) | ((key[p + 2] ?? 0) << 8) | (key[p + 3] ?? 0)) >>> 0
}

function buildHeads(node: Node): KeyHeads {
  const keys = node.keys
  const first = keys[0] as Buffer
  const last = keys[keys.length - 1] as Buffer
  let shared = 0
  const max = Math.min(first.length, last.length)
  while (shared < max && first[shared] === last[shared]) shared++
  const words = shared >>> 2
  const heads = new Uint32Array(words + keys.length)
  for (let w = 0; w < words; w++) heads[w] = wordAt(first, w * 4)
  for (let i = 0; i < keys.length; i++) heads[words + i] = wordAt(keys[i] as Buffer, words * 4)
  node.headWords = words
  return heads
}

/**
 * In `node`, the index of the first key > target (`upper`) or ≥ target. Reads and writes use this; it
 * builds the node's {@link KeyHeads} on first use.
 */
export function searchNode(node: Node, target: Uint8Array, upper: boolean): number {
  const keys = node.keys
  const n = keys.length
  if (n < 8) return upper ? upperBound(keys, target) : lowerBound(keys, target)
  const heads = node.heads ?? (node.heads = buildHeads(node))
  const words = node.headWords
  // Outside the shared prefix, the target sorts before or after every key of the node.
  for (let w = 0; w < words; w++) {
    const t = wordAt(target, w * 4)
    const k = heads[w] as number
    if (t !== k) return t < k ? 0 : n
  }
  const head = wordAt(target, words * 4)
  let lo = 0
  let hi = n
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    const h = heads[words + mid] as number
    const below = h < head || (h === head && (upper ? compareKeys(keys[mid] as Buffer, target) <= 0 : compareKeys(keys[mid] as Buffer, target) < 0))
    if (below) lo = mid + 1
    else hi = mid
  }
  return lo
}
