import type { KeyHeads } from './key-search.js'
import { encodedEntryBytes, encodeEntry, entryKey, entrySize, entryValue } from './leaf-entry.js'
/**
 * In-memory B+tree nodes. A node is either the decoded image of a clean page (it has an address)
 * or a dirty node not yet written (address NO_ADDRESS). Nodes of older generations are shared by
 * snapshots and never mutated; see tree.ts. Byte sizes here are the encoded sizes of
 * docs/format.md §Pages, which both engines share.
 */

/** Where a clean page lives; what the number means is the page store's business. */
export type PageAddress = number & { readonly brand: 'PageAddress' }

/** The address of a node that has not been written since it last changed. */
export const NO_ADDRESS = -1 as PageAddress

/** A value kept out of line (too large to sit in a leaf): where it is and how long. */
export interface ValueRef {
  readonly address: number
  readonly length: number
}

/** A leaf's value: inline bytes, or a reference to out-of-line bytes. */
export type StoredValue = Buffer | ValueRef

/** A branch's child: a loaded node, or the address of one not yet read. */
export type Child = Node | PageAddress

/** Bytes of the page header: checksum, kind, count, body length, reserved. */
export const PAGE_HEADER_BYTES = 16

interface NodeBase {
  /** Encoded size in bytes, header included. */
  bytes: number
  /** The generation that created this node; only nodes of the tree's current generation are mutable. */
  gen: number
  /** Where the clean image of this node lives, or NO_ADDRESS while dirty. */
  address: PageAddress
  /** The address this node was last written at, kept for page stores that update in place. */
  home: PageAddress
  /**
   * The sequence number of the commit that made this version of the node (0 when unknown). No
   * state older than that can reach it, so a snapshot pinned before it never needs its page.
   */
  born: number
  /** The search index (key-search.ts); undefined until a read or a page decode builds it. Writes replace it with a current one, or drop it. */
  heads: KeyHeads | undefined
  /**
   * Whether `heads` may be shared with another node (a copy shares its original's): a shared index
   * is replaced, never changed in place. An unshared one has room to spare and grows in place.
   */
  headsShared: boolean
  /** How many bytes all keys share at their start: `heads` holds each key's 4 bytes from there. */
  headOffset: number
}

/**
 * A leaf: its entries in ascending key order, entry i encoded (leaf-entry.ts) at `src[i]` from
 * byte `off[i]` on. A clean leaf's entries all sit in its page image; a dirty one's new entries sit
 * in the tree's arena until it is laid out again. The bytes are never changed in place.
 */
export interface Leaf extends NodeBase {
  readonly leaf: true
  src: Buffer[]
  off: number[]
}

/** A branch: `keys.length + 1` children; child i holds keys in [keys[i-1], keys[i]). */
export interface Branch extends NodeBase {
  readonly leaf: false
  /** Separator keys, ascending. */
  keys: Buffer[]
  children: Child[]
}

export type Node = Leaf | Branch

export function isRef(value: StoredValue): value is ValueRef {
  return !Buffer.isBuffer(value)
}

/** How many keys a node holds: a leaf's entries, a branch's separators. */
export function keyCount(node: Node): number {
  return node.leaf ? node.off.length : node.keys.length
}

/** Key `i` of a leaf: a view of the bytes the leaf refers to, not to be changed. */
export function leafKey(leaf: Leaf, i: number): Buffer {
  return entryKey(leaf.src[i] as Buffer, leaf.off[i] as number)
}

/** Value `i` of a leaf: a view of the bytes the leaf refers to (not to be changed), or where it lives. */
export function leafValue(leaf: Leaf, i: number): StoredValue {
  return entryValue(leaf.src[i] as Buffer, leaf.off[i] as number)
}

/** Encoded bytes of one branch key with the child to its right. */
export function branchEntryBytes(key: Buffer): number {
  return 2 + key.length + 8
}

/** Bytes of a branch besides its keys: header and the leftmost child. */
export const BRANCH_BASE_BYTES = PAGE_HEADER_BYTES + 8

/**
 * Points value `i` of a dirty leaf elsewhere (a page store moving a value it keeps out of line),
 * keeping its key. The entry is written anew: entry bytes are never changed in place.
 */
export function setLeafValue(leaf: Leaf, i: number, value: StoredValue): void {
  const key = leafKey(leaf, i)
  const entry = Buffer.allocUnsafe(encodedEntryBytes(key.length, value))
  encodeEntry(key, value, entry, 0)
  leaf.bytes += entry.length - entrySize(leaf.src[i] as Buffer, leaf.off[i] as number)
  leaf.src[i] = entry
  leaf.off[i] = 0
}

export function newLeaf(gen: number, src: Buffer[] = [], off: number[] = []): Leaf {
  return { leaf: true, src, off, bytes: leafBytes(src, off), gen, address: NO_ADDRESS, home: NO_ADDRESS, born: 0, heads: undefined, headsShared: false, headOffset: 0 }
}

/** Encoded bytes of a leaf with these entries, header included. */
export function leafBytes(src: Buffer[], off: number[]): number {
  let bytes = PAGE_HEADER_BYTES
  for (let i = 0; i < off.length; i++) bytes += entrySize(src[i] as Buffer, off[i] as number)
  return bytes
}

export function newBranch(gen: number, keys: Buffer[], children: Child[]): Branch {
  let bytes = BRANCH_BASE_BYTES
  for (const key of keys) bytes += branchEntryBytes(key)
  return { leaf: false, keys, children, bytes, gen, address: NO_ADDRESS, home: NO_ADDRESS, born: 0, heads: undefined, headsShared: false, headOffset: 0 }
}

/**
 * A mutable copy of `node` in generation `gen`, remembering where the original lived. The copy
 * shares the original's search index: an index array is never changed in place, only replaced.
 */
export function cloneNode(node: Node, gen: number): Node {
  const home = node.address !== NO_ADDRESS ? node.address : node.home
  if (node.leaf) {
    return { leaf: true, src: node.src.slice(), off: node.off.slice(), bytes: node.bytes, gen, address: NO_ADDRESS, home, born: node.born, heads: node.heads, headsShared: true, headOffset: node.headOffset }
  }
  return { leaf: false, keys: node.keys.slice(), children: node.children.slice(), bytes: node.bytes, gen, address: NO_ADDRESS, home, born: node.born, heads: node.heads, headsShared: true, headOffset: node.headOffset }
}

/**
 * Byte-wise key order. A JavaScript loop beats the native Buffer.compare call by several times on
 * the short keys most databases hold; long keys go to the native comparison.
 */
export function compareKeys(a: Uint8Array, b: Uint8Array): number {
  const n = a.length < b.length ? a.length : b.length
  if (n > 64) return Buffer.compare(a, b)
  for (let i = 0; i < n; i++) {
    const d = (a[i] as number) - (b[i] as number)
    if (d !== 0) return d
  }
  return a.length - b.length
}

/** Index of the first key ≥ target (keys.length if none). */
export function lowerBound(keys: Buffer[], target: Uint8Array): number {
  let lo = 0
  let hi = keys.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (compareKeys(keys[mid] as Buffer, target) < 0) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** Index of the first key > target: in a branch, the child whose range holds target. */
export function upperBound(keys: Buffer[], target: Uint8Array): number {
  let lo = 0
  let hi = keys.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (compareKeys(keys[mid] as Buffer, target) <= 0) lo = mid + 1
    else hi = mid
  }
  return lo
}

/**
 * The shortest key s with left < s ≤ right: a separator for a branch. Shorter separators mean
 * wider branches and a shallower tree (suffix truncation).
 */
export function shortestSeparator(left: Buffer, right: Buffer): Buffer {
  const max = Math.min(left.length, right.length)
  let i = 0
  while (i < max && left[i] === right[i]) i++
  // right[0..i] is a prefix of right; it is > left when left is shorter or differs below it.
  return Buffer.from(right.subarray(0, Math.min(i + 1, right.length)))
}
