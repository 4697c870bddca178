import { compareEntryKey, entryKey, entryKeyLength } from './leaf-entry.js'
import { type Branch, compareKeys, keyCount, type Leaf, lowerBound, type Node, upperBound } from './node.js'

/**
 * The search index of a node: per key, the 4 bytes that follow the prefix all the node's keys
 * share (`node.headOffset` bytes long), as a big-endian number. Numbers compare as the bytes do
 * (shorter keys are padded with zeros), so a binary search over that one array touches a few cache
 * lines instead of one key object per step, and only ties compare whole keys. Built on a node's
 * first search or when its page is decoded; writes keep it current. The array may be longer than
 * the node's key count (room to grow in place); copies of a node share it until one changes.
 */
export type KeyHeads = Uint32Array

/** Bytes `[p, p + 4)` of `key` as a big-endian number, zero-padded. */
function wordAt(key: Uint8Array, p: number): number {
  return (((key[p] ?? 0) << 24) | ((key[p + 1] ?? 0) << 16) | ((key[p + 2] ?? 0) << 8) | (key[p + 3] ?? 0)) >>> 0
}

/** Bytes `[p, p + 4)` of the key of the leaf entry at `off`, as {@link wordAt} reads a key. */
function entryWordAt(src: Buffer, off: number, p: number): number {
  const k = entryKeyLength(src, off)
  const at = off + 2 + p
  if (p + 4 <= k) return (((src[at] as number) << 24) | ((src[at + 1] as number) << 16) | ((src[at + 2] as number) << 8) | (src[at + 3] as number)) >>> 0
  let word = 0
  for (let j = 0; j < 4; j++) word = (word << 8) | (p + j < k ? (src[at + j] as number) : 0)
  return word >>> 0
}

/** How many bytes the first and last keys of `node` share: what all its keys share. */
function sharedPrefix(node: Node): number {
  if (!node.leaf) {
    const first = node.keys[0] as Buffer
    const last = node.keys[node.keys.length - 1] as Buffer
    let shared = 0
    const max = Math.min(first.length, last.length)
    while (shared < max && first[shared] === last[shared]) shared++
    return shared
  }
  const n = node.off.length
  const a = node.src[0] as Buffer
  const b = node.src[n - 1] as Buffer
  const aOff = node.off[0] as number
  const bOff = node.off[n - 1] as number
  const max = Math.min(entryKeyLength(a, aOff), entryKeyLength(b, bOff))
  let shared = 0
  while (shared < max && a[aOff + 2 + shared] === b[bOff + 2 + shared]) shared++
  return shared
}

function buildHeads(node: Node): KeyHeads {
  const shared = sharedPrefix(node)
  const n = keyCount(node)
  const heads = new Uint32Array(n)
  if (node.leaf) for (let i = 0; i < n; i++) heads[i] = entryWordAt(node.src[i] as Buffer, node.off[i] as number, shared)
  else for (let i = 0; i < n; i++) heads[i] = wordAt(node.keys[i] as Buffer, shared)
  node.headOffset = shared
  node.headsShared = false
  return heads
}

/**
 * How `target` compares with the prefix every key of `node` shares: negative if it sorts before
 * all of them, positive if after all, 0 if it starts with the prefix.
 */
function againstPrefix(node: Node, target: Uint8Array): number {
  const shared = node.headOffset
  if (shared === 0) return 0
  const n = Math.min(shared, target.length)
  if (node.leaf) {
    const src = node.src[0] as Buffer
    const at = (node.off[0] as number) + 2
    for (let i = 0; i < n; i++) {
      const d = (target[i] as number) - (src[at + i] as number)
      if (d !== 0) return d
    }
  } else {
    const prefix = node.keys[0] as Buffer
    for (let i = 0; i < n; i++) {
      const d = (target[i] as number) - (prefix[i] as number)
      if (d !== 0) return d
    }
  }
  // A target that is a proper prefix of the shared prefix sorts before every key.
  return target.length < shared ? -1 : 0
}

/**
 * In `node`, the index of the first key > target (`upper`) or ≥ target. Reads and writes use this; it
 * builds the node's {@link KeyHeads} on first use.
 */
export function searchNode(node: Node, target: Uint8Array, upper: boolean): number {
  return node.leaf ? searchLeaf(node, target, upper) : searchBranch(node, target, upper)
}

function searchBranch(node: Branch, target: Uint8Array, upper: boolean): number {
  const keys = node.keys
  const n = keys.length
  if (n < 8) return upper ? upperBound(keys, target) : lowerBound(keys, target)
  const heads = node.heads ?? (node.heads = buildHeads(node))
  // Outside the shared prefix, the target sorts before or after every key of the node.
  const side = againstPrefix(node, target)
  if (side !== 0) return side < 0 ? 0 : n
  const head = wordAt(target, node.headOffset)
  let lo = 0
  let hi = n
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    const h = heads[mid] as number
    const below = h < head || (h === head && (upper ? compareKeys(keys[mid] as Buffer, target) <= 0 : compareKeys(keys[mid] as Buffer, target) < 0))
    if (below) lo = mid + 1
    else hi = mid
  }
  return lo
}

function searchLeaf(node: Leaf, target: Uint8Array, upper: boolean): number {
  const n = node.off.length
  if (n < 8) return leafBound(node, target, upper)
  const heads = node.heads ?? (node.heads = buildHeads(node))
  const side = againstPrefix(node, target)
  if (side !== 0) return side < 0 ? 0 : n
  const head = wordAt(target, node.headOffset)
  const src = node.src
  const off = node.off
  let lo = 0
  let hi = n
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    const h = heads[mid] as number
    let below = h < head
    if (h === head) {
      const c = compareEntryKey(src[mid] as Buffer, off[mid] as number, target)
      below = upper ? c <= 0 : c < 0
    }
    if (below) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** In a leaf, the index of the first key > target (`upper`) or ≥ target, by comparing keys. */
function leafBound(node: Leaf, target: Uint8Array, upper: boolean): number {
  const src = node.src
  const off = node.off
  let lo = 0
  let hi = off.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    const c = compareEntryKey(src[mid] as Buffer, off[mid] as number, target)
    if (upper ? c <= 0 : c < 0) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** Builds `node`'s index if it has none (page decoding does this, while the page is in cache). */
export function indexNode(node: Node): void {
  if (node.heads === undefined && keyCount(node) > 0) node.heads = buildHeads(node)
}

/**
 * In a leaf being written, the index of the first key ≥ target: through its index if it has one,
 * else by comparing keys. Writes keep an index current but never build one, since a leaf that is
 * filling (a load) would rebuild it at every insert.
 */
export function searchLeafForWrite(node: Leaf, target: Uint8Array): number {
  return node.heads === undefined ? leafBound(node, target, false) : searchLeaf(node, target, false)
}

/**
 * Updates `node`'s index for `key` about to be inserted at `i` (the node does not hold it yet), or
 * drops the index if `key` does not share the node's prefix (the next read rebuilds it). An index
 * the node owns grows in place; a shared one is replaced.
 */
export function insertHead(node: Node, i: number, key: Uint8Array): void {
  const heads = node.heads
  if (heads === undefined) return
  if (key.length < node.headOffset || againstPrefix(node, key) !== 0) {
    node.heads = undefined
    return
  }
  const n = keyCount(node)
  const word = wordAt(key, node.headOffset)
  if (!node.headsShared && heads.length > n) {
    heads.copyWithin(i + 1, i, n)
    heads[i] = word
    return
  }
  const out = new Uint32Array(n + 1 + (n >> 1) + 4)
  for (let j = 0; j < i; j++) out[j] = heads[j] as number
  out[i] = word
  for (let j = i; j < n; j++) out[j + 1] = heads[j] as number
  node.heads = out
  node.headsShared = false
}

/** Updates `node`'s index for the key at `i` about to be removed (the keys left still share the prefix). */
export function removeHead(node: Node, i: number): void {
  const heads = node.heads
  if (heads === undefined) return
  const n = keyCount(node)
  if (n <= 1) {
    node.heads = undefined
    return
  }
  if (!node.headsShared) {
    heads.copyWithin(i, i + 1, n)
    return
  }
  const out = new Uint32Array(n - 1)
  for (let j = 0; j < i; j++) out[j] = heads[j] as number
  for (let j = i + 1; j < n; j++) out[j - 1] = heads[j] as number
  node.heads = out
  node.headsShared = false
}

/** Splits `left`'s index at key `m` between it and `right`, which took (copies of) its keys from `m` on. */
export function splitHeads(left: Node, right: Node, m: number): void {
  const heads = left.heads
  if (heads === undefined) return
  right.heads = heads.slice(m, keyCount(left))
  right.headsShared = false
  right.headOffset = left.headOffset
  if (left.headsShared) {
    left.heads = heads.slice(0, m)
    left.headsShared = false
  }
}

/** What is wrong with `node`'s index, if it has one: a key outside its prefix, a word not its key's, a wrong length. */
export function headsProblem(node: Node): string | undefined {
  const heads = node.heads
  if (heads === undefined) return undefined
  const n = keyCount(node)
  if (heads.length < n) return `search index has ${heads.length} entries for ${n} keys`
  const keyAt = (i: number) => (node.leaf ? entryKey(node.src[i] as Buffer, node.off[i] as number) : (node.keys[i] as Buffer))
  const prefix = keyAt(0)
  for (let i = 0; i < n; i++) {
    const key = keyAt(i)
    if (key.length < node.headOffset || compareKeys(key.subarray(0, node.headOffset), prefix.subarray(0, node.headOffset)) !== 0) {
      return `key ${i} lies outside the search index's shared prefix`
    }
    if (wordAt(key, node.headOffset) !== heads[i]) return `search index entry ${i} is not its key's`
  }
  return undefined
}
