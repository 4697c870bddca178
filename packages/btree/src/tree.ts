import { ErrorCode, rangeError } from '@strata/storage'
import { insertHead, removeHead, searchLeafForWrite, searchNode, splitHeads } from './key-search.js'
import { checkSizes } from './limits.js'
import { compareEntryKey, EntryArena, entryIsRef, entryKey, entryKeyLength, entrySize, entryValue, entryValueLength } from './leaf-entry.js'
import {
  BRANCH_BASE_BYTES,
  type Branch,
  branchEntryBytes,
  type Child,
  cloneNode,
  type Leaf,
  leafBytes,
  leafKey,
  leafValue,
  type Node,
  newBranch,
  newLeaf,
  NO_ADDRESS,
  PAGE_HEADER_BYTES,
  type PageAddress,
  type StoredValue,
  shortestSeparator,
  type ValueRef,
} from './node.js'
import { loadChild, type PageSource } from './page-source.js'

/** What a page store learns from the tree as it changes, to account for space. */
export interface TreeEvents {
  /** A clean node was copied to be changed: its page no longer holds the head's version. */
  rewritten(node: Node): void
  /** A node left the tree (merged into a sibling, or a root that collapsed). */
  removed(node: Node): void
  /** An out-of-line value is no longer referenced by the head. */
  valueRemoved(key: Buffer, ref: ValueRef): void
  /**
   * A dirty node of an earlier generation was copied to be changed: the head no longer uses it,
   * though a frozen tree may (a checkpoint writing that tree learns here which of its pages the
   * head has left).
   */
  copied?(node: Node): void
}

interface Split {
  key: Buffer
  right: Node
}

/** The longest key + value kept inline in a leaf; longer values go out of line. */
export function inlineLimit(pageSize: number): number {
  return Math.floor((pageSize - PAGE_HEADER_BYTES) / 4) - 7
}

/** The longest key a tree of this page size accepts (1 KiB at the default 4 KiB page). */
export function maxKeyBytes(pageSize: number): number {
  return Math.min(1024, Math.floor((pageSize - BRANCH_BASE_BYTES) / 3) - 12)
}

/** Looks `key` up in the tree under `root`. */
export function lookup(source: PageSource, root: Node, key: Uint8Array): StoredValue | undefined {
  let node = root
  while (!node.leaf) node = loadChild(source, node, searchNode(node, key, true))
  const i = searchNode(node, key, false)
  return i < node.off.length && compareEntryKey(node.src[i] as Buffer, node.off[i] as number, key) === 0 ? leafValue(node, i) : undefined
}

/** What {@link lookupInMemory} found: the stored value (undefined if the key is absent), or the first page on the path not in memory. */
export type InMemoryLookup = { found: true; value: StoredValue | undefined } | { found: false; missing: PageAddress }

/**
 * {@link lookup} without reading a page: the path from `root` to `key`'s leaf through nodes in
 * memory, children a branch holds or clean nodes `peek` has (a page cache), or the address of the
 * first page it lacks, for the caller to read without blocking and try again.
 */
export function lookupInMemory(root: Node, key: Uint8Array, peek: (address: PageAddress) => Node | undefined): InMemoryLookup {
  let node = root
  while (!node.leaf) {
    const child = node.children[searchNode(node, key, true)]
    if (child === undefined) throw new Error('strata: invariant broken: a branch has no child for a key')
    if (typeof child !== 'number') {
      node = child
      continue
    }
    const held = peek(child)
    if (held === undefined) return { found: false, missing: child }
    node = held
  }
  const i = searchNode(node, key, false)
  const value = i < node.off.length && compareEntryKey(node.src[i] as Buffer, node.off[i] as number, key) === 0 ? leafValue(node, i) : undefined
  return { found: true, value }
}

/**
 * The head B+tree of an engine: the mutable latest state. Nodes are shared with snapshots and
 * copied on change: only nodes of the current generation are changed in place, and `freeze()`
 * starts a new generation, so whatever a snapshot captured before it never changes.
 */
export class Tree {
  root: Node
  /** Key and value bytes of all entries in the head: the live data. */
  dataBytes = 0
  /** The sequence number the engine is committing: nodes made now are born at it. */
  birth = 0
  /**
   * The entry the last `put` replaced or `del` removed: its bytes and offset (entry bytes are never
   * changed in place, so they stay valid), or undefined if the key was not there. An engine keeps
   * these to take a batch back out of the head.
   */
  replacedSrc: Buffer | undefined = undefined
  /** Where in `replacedSrc` that entry starts. */
  replacedOff = 0
  #gen: number
  /** Where puts write their entries until a page layout moves them onto the leaf's own image. */
  readonly #arena = new EntryArena()
  readonly maxKey: number
  readonly #minBytes: number

  constructor(
    readonly source: PageSource,
    readonly events: TreeEvents,
    root?: Node,
  ) {
    this.#gen = 1
    this.root = root ?? newLeaf(this.#gen)
    this.maxKey = maxKeyBytes(source.pageSize)
    this.#minBytes = Math.floor(source.pageSize / 4)
  }

  get pageSize(): number {
    return this.source.pageSize
  }

  /** Makes the current state immutable and returns its root, for a snapshot or a reader to keep. */
  freeze(): Node {
    this.#gen++
    return this.root
  }

  /** Replaces the head with a tree that is already frozen (a restore). */
  replaceRoot(root: Node): void {
    this.#gen++
    this.root = root
  }

  /**
   * Replaces the head with a root just read from its page, which nothing else shares (an open):
   * it and the nodes read in under it are the head's to change in place.
   */
  adoptRoot(root: Node): void {
    this.#gen++
    root.gen = this.#gen
    this.root = root
  }

  get(key: Uint8Array): StoredValue | undefined {
    return lookup(this.source, this.root, key)
  }

  /** Throws a RangeError with a stable code if the tree cannot store this key or value. */
  checkEntry(key: Uint8Array, value?: Uint8Array): void {
    checkSizes(key, value)
    if (key.length > this.maxKey) {
      throw rangeError(ErrorCode.KEY_TOO_LARGE, `key of ${key.length} bytes exceeds the ${this.maxKey}-byte limit of ${this.pageSize}-byte pages`)
    }
  }

  /** Inserts or replaces `key`. The tree copies `key` and `value`: the caller may reuse them. */
  put(key: Uint8Array, value: StoredValue): void {
    this.checkEntry(key, Buffer.isBuffer(value) ? value : undefined)
    const [src, off] = this.#arena.add(key, value)
    this.root = this.#touch(this.root)
    const split = this.#insert(this.root, key, src, off, true)
    if (split) {
      this.root = newBranch(this.#gen, [split.key], [this.root, split.right])
      this.root.born = this.birth
    }
  }

  /** Removes `key`; returns whether it was there. */
  del(key: Uint8Array): boolean {
    this.replacedSrc = undefined
    if (this.get(key) === undefined) return false
    this.root = this.#touch(this.root)
    this.#remove(this.root, key)
    while (!this.root.leaf && this.root.keys.length === 0) {
      const old = this.root
      this.root = this.#touch(loadChild(this.source, old, 0))
      this.events.removed(old)
    }
    return true
  }

  /**
   * Makes the clean page at `address` dirty, with every node above it, so the next spill writes it
   * elsewhere (reclamation moves live pages out of a segment this way). `probe` is any key in the
   * page's range, such as its first key. Returns the page's bytes, or 0 if the head no longer uses
   * that page.
   */
  relocate(probe: Uint8Array, address: PageAddress): number {
    let depth = 0
    for (let node = this.root; node.address !== address; depth++) {
      if (node.leaf) return 0
      node = loadChild(this.source, node, searchNode(node, probe, true))
    }
    this.root = this.#touch(this.root)
    let node = this.root
    for (let level = 0; level < depth; level++) {
      if (node.leaf) throw new Error('strata: invariant broken: relocation path changed')
      node = this.#child(node, searchNode(node, probe, true))
    }
    return node.bytes
  }

  /**
   * The pages of the head whose address `picked` accepts, each with a probe for {@link relocate}
   * (a key in its range: the separator before it in its parent). Walks the branches, which it reads
   * in if need be, and reads no leaf: so a caller learns what the head uses in a segment without
   * reading the segment, and can read the leaves it will relocate ahead, off the event loop.
   */
  pagesIn(picked: (address: PageAddress) => boolean): { probe: Uint8Array; address: PageAddress }[] {
    const found: { probe: Uint8Array; address: PageAddress }[] = []
    // Leaves all sit at one depth: the leftmost path tells which level holds them (its leaf is read).
    let height = 0
    for (let node = this.root; !node.leaf; height++) node = loadChild(this.source, node, 0)
    const visit = (branch: Branch, depth: number, low: Uint8Array) => {
      const leaves = depth === height - 1
      for (let i = 0; i < branch.children.length; i++) {
        const child = branch.children[i] as Child
        const address = typeof child === 'number' ? child : child.address
        const probe = i === 0 ? low : (branch.keys[i - 1] as Buffer)
        if (address !== NO_ADDRESS && picked(address)) found.push({ probe, address })
        if (!leaves) visit(loadChild(this.source, branch, i) as Branch, depth + 1, probe)
      }
    }
    if (this.root.address !== NO_ADDRESS && picked(this.root.address)) found.push({ probe: EMPTY_KEY, address: this.root.address })
    if (!this.root.leaf) visit(this.root, 0, EMPTY_KEY)
    return found
  }

  /** {@link pagesIn} and {@link relocate} of each at once: returns the pages moved (address and bytes, before they became dirty). */
  relocatePages(picked: (address: PageAddress) => boolean): { address: PageAddress; bytes: number }[] {
    return this.pagesIn(picked).map(({ probe, address }) => {
      const bytes = this.relocate(probe, address)
      if (bytes === 0) throw new Error('strata: invariant broken: a page the head uses was not found again')
      return { address, bytes }
    })
  }

  /**
   * A mutable version of `node`: itself if of this generation (nothing frozen reaches it; a clean
   * one becomes dirty, its page no longer the head's), else a copy.
   */
  #touch(node: Node): Node {
    if (node.address >= 0) this.events.rewritten(node)
    if (node.gen === this.#gen) {
      if (node.address !== NO_ADDRESS) {
        node.home = node.address
        node.address = NO_ADDRESS
        node.born = this.birth
      }
      return node
    }
    if (node.address === NO_ADDRESS) this.events.copied?.(node)
    const copy = cloneNode(node, this.#gen)
    copy.born = this.birth
    return copy
  }

  #child(branch: Branch, i: number): Node {
    const child = this.#touch(loadChild(this.source, branch, i))
    branch.children[i] = child
    return child
  }

  /** Puts the entry in `node`'s subtree; `rightmost` if `node` is the last at its depth. */
  #insert(node: Node, key: Uint8Array, src: Buffer, off: number, rightmost: boolean): Split | undefined {
    if (node.leaf) {
      const i = searchLeafForWrite(node, key)
      const oldSrc = node.src[i]
      const oldOff = node.off[i] as number
      if (oldSrc !== undefined && compareEntryKey(oldSrc, oldOff, key) === 0) {
        this.replacedSrc = oldSrc
        this.replacedOff = oldOff
        if (entryIsRef(oldSrc, oldOff)) this.events.valueRemoved(entryKey(oldSrc, oldOff), entryValue(oldSrc, oldOff) as ValueRef)
        this.dataBytes += entryValueLength(src, off) - entryValueLength(oldSrc, oldOff)
        node.bytes += entrySize(src, off) - entrySize(oldSrc, oldOff)
        node.src[i] = src
        node.off[i] = off
      } else {
        this.replacedSrc = undefined
        insertHead(node, i, key)
        insertAt(node.src, i, src)
        insertAt(node.off, i, off)
        node.bytes += entrySize(src, off)
        this.dataBytes += key.length + entryValueLength(src, off)
      }
      if (node.bytes <= this.pageSize) return undefined
      // A key past every other, in the last leaf, is most likely the next of an ascending run (a
      // load in key order, a log of events): the full leaf stays full and the new one starts
      // with the key, as SQLite and PostgreSQL split the rightmost page, instead of leaving every
      // leaf of the run half empty.
      const appended = rightmost && this.replacedSrc === undefined && i === node.src.length - 1
      return this.#splitLeaf(node, appended ? i : undefined)
    }
    const i = searchNode(node, key, true)
    const split = this.#insert(this.#child(node, i), key, src, off, rightmost && i === node.children.length - 1)
    if (!split) return undefined
    node.keys.splice(i, 0, split.key)
    node.children.splice(i + 1, 0, split.right)
    node.heads = undefined
    node.bytes += branchEntryBytes(split.key)
    return node.bytes > this.pageSize ? this.#splitBranch(node) : undefined
  }

  /** Moves the entries from `at` (by default, the upper half by bytes) of an overfull leaf into a new right sibling. */
  #splitLeaf(leaf: Leaf, at?: number): Split {
    const m = at ?? leafMiddle(leaf, leaf.bytes)
    const right = newLeaf(this.#gen, leaf.src.slice(m), leaf.off.slice(m))
    right.born = this.birth
    splitHeads(leaf, right, m)
    leaf.src.length = m
    leaf.off.length = m
    leaf.bytes -= right.bytes - PAGE_HEADER_BYTES
    return { key: shortestSeparator(leafKey(leaf, m - 1), leafKey(right, 0)), right }
  }

  /** Splits an overfull branch around a middle key, which moves up to the parent. */
  #splitBranch(branch: Branch): Split {
    const m = branchMiddle(branch.keys, branch.bytes)
    const key = branch.keys[m] as Buffer
    const right = newBranch(this.#gen, branch.keys.slice(m + 1), branch.children.slice(m + 1))
    right.born = this.birth
    branch.keys.length = m
    branch.children.length = m + 1
    branch.heads = undefined
    branch.bytes = newBranch(0, branch.keys, []).bytes
    return { key, right }
  }

  #remove(node: Node, key: Uint8Array): void {
    if (node.leaf) {
      const i = searchLeafForWrite(node, key)
      const src = node.src[i] as Buffer
      const off = node.off[i] as number
      this.replacedSrc = src
      this.replacedOff = off
      if (entryIsRef(src, off)) this.events.valueRemoved(entryKey(src, off), entryValue(src, off) as ValueRef)
      this.dataBytes -= entryKeyLength(src, off) + entryValueLength(src, off)
      node.bytes -= entrySize(src, off)
      removeHead(node, i)
      node.src.splice(i, 1)
      node.off.splice(i, 1)
      return
    }
    const i = searchNode(node, key, true)
    const child = this.#child(node, i)
    this.#remove(child, key)
    if (child.bytes < this.#minBytes) this.#rebalance(node, i)
  }

  /** Merges the underfull child `i` of `parent` with a sibling, or shares entries with it. */
  #rebalance(parent: Branch, i: number): void {
    if (parent.children.length < 2) return
    const l = i > 0 ? i - 1 : i
    const left = this.#child(parent, l)
    const right = this.#child(parent, l + 1)
    const separator = parent.keys[l] as Buffer
    left.heads = right.heads = undefined
    if (left.leaf && right.leaf) {
      const merged = left.bytes + right.bytes - PAGE_HEADER_BYTES
      left.src.push(...right.src)
      left.off.push(...right.off)
      if (merged <= this.pageSize) {
        left.bytes = merged
        this.#dropChild(parent, l, right)
        return
      }
      const m = leafMiddle(left, merged)
      right.src = left.src.splice(m)
      right.off = left.off.splice(m)
      left.bytes = leafBytes(left.src, left.off)
      right.bytes = merged - left.bytes + PAGE_HEADER_BYTES
      this.#setSeparator(parent, l, shortestSeparator(leafKey(left, m - 1), leafKey(right, 0)))
      return
    }
    if (left.leaf || right.leaf) throw new Error('strata: invariant broken: siblings at different depths')
    const merged = left.bytes + branchEntryBytes(separator) + right.bytes - BRANCH_BASE_BYTES
    left.keys.push(separator, ...right.keys)
    left.children.push(...right.children)
    if (merged <= this.pageSize) {
      left.bytes = merged
      this.#dropChild(parent, l, right)
      return
    }
    const m = branchMiddle(left.keys, merged)
    const up = left.keys[m] as Buffer
    right.keys = left.keys.splice(m + 1)
    left.keys.length = m
    right.children = left.children.splice(m + 1)
    left.bytes = newBranch(0, left.keys, []).bytes
    right.bytes = newBranch(0, right.keys, []).bytes
    this.#setSeparator(parent, l, up)
  }

  #dropChild(parent: Branch, l: number, right: Node): void {
    parent.bytes -= branchEntryBytes(parent.keys[l] as Buffer)
    parent.keys.splice(l, 1)
    parent.children.splice(l + 1, 1)
    parent.heads = undefined
    this.events.removed(right)
  }

  #setSeparator(parent: Branch, l: number, key: Buffer): void {
    parent.bytes += branchEntryBytes(key) - branchEntryBytes(parent.keys[l] as Buffer)
    parent.keys[l] = key
    parent.heads = undefined
  }
}

const EMPTY_KEY = Buffer.alloc(0)

/** Inserts `item` at `i` (Array#splice allocates an array of what it removed, even when nothing). */
function insertAt<T>(items: T[], i: number, item: T): void {
  let j = items.length
  if (j === i) {
    items.push(item)
    return
  }
  items.push(items[j - 1] as T)
  for (j--; j > i; j--) items[j] = items[j - 1] as T
  items[i] = item
}

/** The split point of a leaf's entries: the first index past half the bytes, keeping both sides non-empty. */
function leafMiddle(leaf: Leaf, bytes: number): number {
  const half = (bytes - PAGE_HEADER_BYTES) / 2
  let acc = 0
  let m = 0
  while (m < leaf.off.length - 1 && acc < half) {
    acc += entrySize(leaf.src[m] as Buffer, leaf.off[m] as number)
    m++
  }
  return Math.max(1, m)
}

/** The index of the key that moves up when a branch splits: near the byte middle, both sides keeping a key. */
function branchMiddle(keys: Buffer[], bytes: number): number {
  const half = (bytes - BRANCH_BASE_BYTES) / 2
  let acc = 0
  let m = 0
  while (m < keys.length - 2 && acc + branchEntryBytes(keys[m] as Buffer) < half) {
    acc += branchEntryBytes(keys[m] as Buffer)
    m++
  }
  return Math.max(1, m)
}
