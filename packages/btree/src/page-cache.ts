import { ErrorCode, rangeError } from '@strata/storage'
import { keyCount, type Node, type PageAddress } from './node.js'
import { dirtyBytes } from './spill.js'

/** What a page cache reports (`stats().cache` of both engines). */
export interface CacheStats {
  /** The byte budget for clean pages held in memory (the `cacheSize` option). */
  budget: number
  /** Bytes of the clean pages the cache holds now: at most `budget`. */
  cleanBytes: number
  /** Bytes of the dirty pages the head holds until a checkpoint writes them (outside the budget). */
  dirtyBytes: number
  /** Reads of a page found in the cache. */
  hits: number
  /** Reads of a page that had to be read from the file (pre-image reads included). */
  misses: number
  /** Pages dropped from the cache to keep it within its budget. */
  evictions: number
}

/** The default `cacheSize`: 64 MiB (docs/architecture.md §The page cache says why). */
export const DEFAULT_CACHE_SIZE = 64 * 1024 * 1024

/**
 * The `cacheSize` option, checked: the default when undefined, else a non-negative integer number
 * of bytes (0 holds no page: every read reads its page), else a RangeError with code
 * STRATA_INVALID_OPTION.
 */
export function checkCacheSize(cacheSize: unknown): number {
  if (cacheSize === undefined) return DEFAULT_CACHE_SIZE
  if (typeof cacheSize !== 'number' || !Number.isSafeInteger(cacheSize) || cacheSize < 0) {
    throw rangeError(ErrorCode.INVALID_OPTION, `cacheSize must be a non-negative integer number of bytes, not ${String(cacheSize)}`)
  }
  return cacheSize
}

/**
 * The memory a decoded node costs beside its page image: the node object, its entry offsets and
 * search index (a leaf), or a key view and a child per separator (a branch). Estimated from heap
 * snapshots of decoded pages; what the budget counts is this plus the image.
 */
const NODE_OVERHEAD = 200
const LEAF_ENTRY_OVERHEAD = 24
const BRANCH_ENTRY_OVERHEAD = 96

/** The bytes a clean node is charged in the cache's budget. */
export function nodeCost(node: Node): number {
  return node.bytes + NODE_OVERHEAD + keyCount(node) * (node.leaf ? LEAF_ENTRY_OVERHEAD : BRANCH_ENTRY_OVERHEAD)
}

/** The share of the budget the small queue gets: new pages wait there until read again. */
const SMALL_SHARE = 0.1
/** A page read this many times more is kept this many more rounds of the main queue. */
const MAX_FREQUENCY = 3

interface Entry {
  readonly address: PageAddress
  readonly node: Node
  readonly cost: number
  /** Reads since it was admitted or last passed over, up to MAX_FREQUENCY. */
  frequency: number
  /** Still in the cache (entries leave their queue lazily when forgotten). */
  live: boolean
  /** In the main queue, not the small one. */
  main: boolean
}

/** A first-in first-out queue that pops from the front in O(1). */
class Fifo<T> {
  #items: (T | undefined)[] = []
  #head = 0

  get length(): number {
    return this.#items.length - this.#head
  }

  push(item: T): void {
    this.#items.push(item)
  }

  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined
    const item = this.#items[this.#head]
    this.#items[this.#head++] = undefined
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head)
      this.#head = 0
    }
    return item
  }

  clear(): void {
    this.#items = []
    this.#head = 0
  }
}

/**
 * Clean decoded pages by address, within a byte budget, for both engines. The replacement policy
 * is S3-FIFO (Yang et al., SOSP 2023): a page read once waits in a small queue (a tenth of the
 * budget) and leaves it unless read again, so a scan passes through without flushing the pages
 * that are read over and over, which live in the main queue and get another round there for each
 * read (as CLOCK does); a page evicted from the small queue and soon wanted again (a ghost) goes
 * straight to the main queue. A hit costs a map lookup and a counter increment, no list moves.
 *
 * A node in the cache is shared by every reader that reaches its address and is never changed:
 * a writer copies it. Eviction only drops the cache's reference, so a cursor or a lookup holding
 * the node reads on from it unharmed (its root pins the page on storage; docs/architecture.md
 * §The page cache).
 */
export class PageCache {
  /** The most bytes of pages it holds. */
  readonly budget: number
  /** Reads that found their page held. */
  hits = 0
  /** Reads that did not (and reads counted with {@link PageCache.countMiss}). */
  misses = 0
  /** Pages dropped to stay within the budget. */
  evictions = 0
  readonly #entries = new Map<number, Entry>()
  readonly #small = new Fifo<Entry>()
  readonly #main = new Fifo<Entry>()
  #smallBytes = 0
  #mainBytes = 0
  /** Addresses evicted from the small queue lately, by when: a read of one now is its second. */
  readonly #ghosts = new Map<number, number>()
  readonly #ghostOrder = new Fifo<[number, number]>()
  #ghostClock = 0

  /** An empty cache of `budget` bytes (checked by the caller: {@link checkCacheSize}). */
  constructor(budget: number) {
    this.budget = budget
  }

  /** Bytes of the clean pages held. */
  get bytes(): number {
    return this.#smallBytes + this.#mainBytes
  }

  /** How many pages are held. */
  get size(): number {
    return this.#entries.size
  }

  /** The node cached at `address`, counted as a hit or a miss. */
  get(address: PageAddress): Node | undefined {
    const entry = this.#entries.get(address)
    if (entry === undefined) {
      this.misses++
      return undefined
    }
    this.hits++
    if (entry.frequency < MAX_FREQUENCY) entry.frequency++
    return entry.node
  }

  /**
   * The node cached at `address`, if held, counted as neither a hit nor a miss: a reader that
   * looks again after reading a page it lacked counts its hits once, with {@link countHit} (an
   * asynchronous read counts its miss when it admits the page).
   */
  peek(address: PageAddress): Node | undefined {
    return this.#entries.get(address)?.node
  }

  /** Counts a hit on `address`, found with {@link peek}, as `get` would have. */
  countHit(address: PageAddress): void {
    const entry = this.#entries.get(address)
    this.hits++
    if (entry !== undefined && entry.frequency < MAX_FREQUENCY) entry.frequency++
  }

  /** The node at `address`: the one held, else `source` reads it and it is held from now on. */
  readThrough(address: PageAddress, source: { loadNode(address: PageAddress): Node }): Node {
    const cached = this.get(address)
    if (cached !== undefined) return cached
    const node = source.loadNode(address)
    this.admit(address, node)
    return node
  }

  /** Counts a read that does not go through the cache (a COW pre-image). */
  countMiss(): void {
    this.misses++
  }

  /**
   * Holds `node`, clean at `address` and not to be changed from now on, in place of what was held
   * there; evicts as the budget requires. A node costlier than the whole budget is not held.
   */
  admit(address: PageAddress, node: Node): void {
    this.forget(address)
    const cost = nodeCost(node)
    if (cost > this.budget) return
    const entry: Entry = { address, node, cost, frequency: 0, live: true, main: false }
    this.#entries.set(address, entry)
    if (this.#ghosts.delete(address)) {
      entry.main = true
      this.#main.push(entry)
      this.#mainBytes += cost
    } else {
      this.#small.push(entry)
      this.#smallBytes += cost
    }
    while (this.bytes > this.budget) this.#evict()
  }

  /** Drops what is held at `address` (its page is about to change in place). */
  forget(address: PageAddress): void {
    const entry = this.#entries.get(address)
    if (entry === undefined) return
    this.#entries.delete(address)
    entry.live = false
    // It leaves its queue when the queue reaches it; its bytes leave the budget now.
    if (entry.main) this.#mainBytes -= entry.cost
    else this.#smallBytes -= entry.cost
  }

  /** Drops everything. */
  clear(): void {
    this.#entries.clear()
    this.#small.clear()
    this.#main.clear()
    this.#smallBytes = this.#mainBytes = 0
    this.#ghosts.clear()
    this.#ghostOrder.clear()
  }

  /** Evicts one page: from the small queue while it holds more than its share, else from the main one. */
  #evict(): void {
    if (this.#smallBytes > this.budget * SMALL_SHARE || this.#mainBytes === 0) this.#evictSmall()
    else this.#evictMain()
  }

  /** Pops the small queue: a page read again moves to the main queue, one read once leaves (as a ghost). */
  #evictSmall(): void {
    for (let entry = this.#small.shift(); entry !== undefined; entry = this.#small.shift()) {
      if (!entry.live) continue
      this.#smallBytes -= entry.cost
      if (entry.frequency > 0) {
        entry.frequency = 0
        entry.main = true
        this.#main.push(entry)
        this.#mainBytes += entry.cost
        return
      }
      this.#drop(entry)
      this.#remember(entry.address)
      return
    }
  }

  /** Pops the main queue: a page read since its last pass gets another round, the first other leaves. */
  #evictMain(): void {
    for (let entry = this.#main.shift(); entry !== undefined; entry = this.#main.shift()) {
      if (!entry.live) continue
      if (entry.frequency > 0) {
        entry.frequency--
        this.#main.push(entry)
        continue
      }
      this.#mainBytes -= entry.cost
      this.#drop(entry)
      return
    }
  }

  #drop(entry: Entry): void {
    entry.live = false
    this.#entries.delete(entry.address)
    this.evictions++
  }

  /** Remembers an evicted address, forgetting the oldest beyond as many as the cache holds pages. */
  #remember(address: number): void {
    const stamp = ++this.#ghostClock
    this.#ghosts.set(address, stamp)
    this.#ghostOrder.push([address, stamp])
    // Every remembered address is in the order queue, so bounding the queue bounds both.
    while (this.#ghostOrder.length > Math.max(16, this.#entries.size)) {
      const [oldest, when] = this.#ghostOrder.shift() as [number, number]
      if (this.#ghosts.get(oldest) === when) this.#ghosts.delete(oldest)
    }
  }
}

/** What `stats().cache` reports of `cache` and of the dirty nodes under the head's `root`. */
export function cacheStats(cache: PageCache, root: Node): CacheStats {
  return { budget: cache.budget, cleanBytes: cache.bytes, dirtyBytes: dirtyBytes(root), hits: cache.hits, misses: cache.misses, evictions: cache.evictions }
}
