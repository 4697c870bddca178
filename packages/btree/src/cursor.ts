import { searchNode } from './key-search.js'
import { compareEntryKey, entryKey, entryKeyLength, entrySize, entryValue } from './leaf-entry.js'
import { type Branch, compareKeys, isRef, type Leaf, type Node, type StoredValue } from './node.js'
import { loadChild, type PageSource } from './page-source.js'

/** A key range with direction and limit, as abstract-level's iterator options give it. */
export interface Range {
  gt?: Uint8Array | undefined
  gte?: Uint8Array | undefined
  lt?: Uint8Array | undefined
  lte?: Uint8Array | undefined
  reverse?: boolean | undefined
  /** At most this many entries; negative or undefined means no limit. */
  limit?: number | undefined
}

/** Bytes of the buffers {@link Cursor.copies} copies entries into: those of Node's own buffer pool. */
const COPY_CHUNK_BYTES = 8192

const NO_BYTES = Buffer.alloc(0)

interface Frame {
  node: Branch
  index: number
}

/**
 * Walks the entries of one (frozen) tree in key order, forward or reverse, within a range.
 * Synchronous: pages not yet in memory are read on the way. Returned keys and values are owned by
 * the tree and must not be changed.
 */
export class Cursor {
  readonly #source: PageSource
  readonly #root: Node
  readonly #range: Range
  readonly #reverse: boolean
  readonly #limit: number
  #stack: Frame[] = []
  #leaf: Leaf | undefined
  #index = 0
  #count = 0
  /** Where the entry the last step passed over sits: its buffer and offset (leaf-entry.ts). */
  #atSrc: Buffer = NO_BYTES
  #atOff = 0

  constructor(source: PageSource, root: Node, range: Range = {}) {
    this.#source = source
    this.#root = root
    this.#range = range
    this.#reverse = range.reverse === true
    this.#limit = range.limit !== undefined && range.limit >= 0 ? range.limit : Number.POSITIVE_INFINITY
    this.#start()
  }

  /** Moves to the first entry at or after `target` (at or before, in reverse), within the range. */
  seek(target: Uint8Array): void {
    const r = this.#range
    if (!this.#reverse) {
      const lower = r.gt ?? r.gte
      if (lower && compareKeys(target, lower) <= 0) this.#start()
      else this.#descend(target, false)
    } else {
      const upper = r.lt ?? r.lte
      if (upper && compareKeys(target, upper) >= 0) this.#start()
      else this.#descend(target, false)
    }
  }

  /** The next entry's key and stored value, or undefined at the end of the range. */
  nextEntry(): [Buffer, StoredValue] | undefined {
    if (!this.#step()) return undefined
    return [entryKey(this.#atSrc, this.#atOff), entryValue(this.#atSrc, this.#atOff)]
  }

  /** The next entry with its value read, or undefined at the end of the range. */
  next(): [Buffer, Buffer] | undefined {
    const entry = this.nextEntry()
    if (!entry) return undefined
    const value = entry[1]
    return [entry[0], isRef(value) ? this.#source.readValue(value) : value]
  }

  /**
   * Up to `size` next entries (fewer at the end of the range), each key and value a copy the
   * caller owns, values read. The entries' bytes are copied in runs, as they sit in the tree, into
   * buffers of about 8 KiB (as Node's own buffer pool holds small buffers), and the keys and
   * values are views of those: one copy per run of entries instead of two per entry.
   */
  copies(size: number): [Buffer, Buffer][] {
    const srcs: Buffer[] = []
    const offs: number[] = []
    const sizes: number[] = []
    while (srcs.length < size && this.#step()) {
      srcs.push(this.#atSrc)
      offs.push(this.#atOff)
      sizes.push(entrySize(this.#atSrc, this.#atOff))
    }
    const out: [Buffer, Buffer][] = []
    const n = srcs.length
    let chunk = NO_BYTES
    let used = 0
    let i = 0
    while (i < n) {
      // A run: entries that follow one another in one buffer and fit what is left of the chunk.
      const from = srcs[i] as Buffer
      const start = offs[i] as number
      let end = start + (sizes[i] as number)
      if (end - start > chunk.length - used) {
        chunk = Buffer.allocUnsafeSlow(Math.max(COPY_CHUNK_BYTES, end - start))
        used = 0
      }
      let j = i + 1
      while (j < n && srcs[j] === from && offs[j] === end && end + (sizes[j] as number) - start <= chunk.length - used) end += sizes[j++] as number
      from.copy(chunk, used, start, end)
      for (; i < j; i++) {
        const k = entryKeyLength(chunk, used)
        const value = entryValue(chunk, used)
        out.push([chunk.subarray(used + 2, used + 2 + k), isRef(value) ? Buffer.from(this.#source.readValue(value)) : value])
        used += sizes[i] as number
      }
    }
    return out
  }

  /**
   * Passes over the next entry inside the range and the limit, leaving where it sits in `#atSrc`
   * and `#atOff`; false at the end.
   */
  #step(): boolean {
    if (this.#count >= this.#limit) return false
    const leaf = this.#leaf
    if (!leaf) return false
    const src = leaf.src[this.#index] as Buffer
    const off = leaf.off[this.#index] as number
    const r = this.#range
    const past = !this.#reverse
      ? (r.lt && compareEntryKey(src, off, r.lt) >= 0) || (r.lte && compareEntryKey(src, off, r.lte) > 0)
      : (r.gt && compareEntryKey(src, off, r.gt) <= 0) || (r.gte && compareEntryKey(src, off, r.gte) < 0)
    if (past) {
      this.#end()
      return false
    }
    this.#atSrc = src
    this.#atOff = off
    this.#count++
    if (this.#reverse) this.#backward()
    else this.#forward()
    return true
  }

  #end(): undefined {
    this.#leaf = undefined
    return undefined
  }

  /** Positions at the start of the range. */
  #start(): void {
    const r = this.#range
    if (!this.#reverse) {
      if (r.gt) this.#descend(r.gt, true)
      else if (r.gte) this.#descend(r.gte, false)
      else this.#edge(false)
    } else if (r.lt) this.#descend(r.lt, true)
    else if (r.lte) this.#descend(r.lte, false)
    else this.#edge(true)
  }

  /** Positions at the first key ≥ target (> if exclusive), or in reverse the last ≤ (<) target. */
  #descend(target: Uint8Array, exclusive: boolean): void {
    this.#stack = []
    let node = this.#root
    while (!node.leaf) {
      const index = searchNode(node, target, true)
      this.#stack.push({ node, index })
      node = loadChild(this.#source, node, index)
    }
    this.#leaf = node
    if (!this.#reverse) {
      this.#index = searchNode(node, target, exclusive)
      if (this.#index >= node.off.length) this.#forward(true)
    } else {
      this.#index = searchNode(node, target, !exclusive) - 1
      if (this.#index < 0) this.#backward(true)
    }
  }

  /** Positions at the first entry, or the last in reverse. */
  #edge(last: boolean): void {
    this.#stack = []
    this.#descendEdge(this.#root, last)
  }

  #descendEdge(from: Node, last: boolean): void {
    let node = from
    while (!node.leaf) {
      const index = last ? node.children.length - 1 : 0
      this.#stack.push({ node, index })
      node = loadChild(this.#source, node, index)
    }
    this.#leaf = node
    this.#index = last ? node.off.length - 1 : 0
    if (node.off.length === 0) this.#leaf = undefined
  }

  /** Steps to the next entry; `settle` only moves on if the position is past the leaf's end. */
  #forward(settle = false): void {
    if (!settle) this.#index++
    while (this.#leaf && this.#index >= this.#leaf.off.length) {
      const frame = this.#nextFrame(+1)
      if (!frame) return void this.#end()
      this.#descendEdge(loadChild(this.#source, frame.node, frame.index), false)
    }
  }

  #backward(settle = false): void {
    if (!settle) this.#index--
    while (this.#leaf && this.#index < 0) {
      const frame = this.#nextFrame(-1)
      if (!frame) return void this.#end()
      this.#descendEdge(loadChild(this.#source, frame.node, frame.index), true)
    }
  }

  /** Pops to the nearest branch with a sibling in direction `step`, and moves to it. */
  #nextFrame(step: 1 | -1): Frame | undefined {
    while (this.#stack.length > 0) {
      const frame = this.#stack[this.#stack.length - 1] as Frame
      const index = frame.index + step
      if (index >= 0 && index < frame.node.children.length) {
        frame.index = index
        return frame
      }
      this.#stack.pop()
    }
    return undefined
  }
}
