import { freeListPageCount } from './free-list.js'

/** Snapshot epochs `[from, to)`: the snapshots taken in them may read one version of a page. */
export interface EpochRange {
  from: number
  to: number
}

/**
 * Which pages of pages.db are used, free or about to be free, and since when each page's content
 * is what snapshots would read (docs/architecture.md §Which snapshots need a page).
 *
 * Epochs count checkpoints in this session: a snapshot taken after checkpoint `e` spilled the
 * head has epoch `e`, and its tree reads from pages.db only content that was there at epoch `e`.
 * So the content of a page written at epoch `w` (its *writtenAt*) and overwritten at `c`, or
 * freed at `f` and reused at `c`, may be read by the snapshots of epochs `[w, min(f, c))`, and by
 * no others. The session starts at epoch 1. Content from before this session counts as written at
 * epoch 0, and pages free at open as freed at epoch 1: epoch 0 belongs to the named snapshots read
 * back from the catalogue, which may read any content from before this session, free or not
 * (docs/architecture.md §Named snapshots). Metadata pages (the free list, the catalogue) hold
 * nothing a snapshot reads: their content counts as written at epoch +∞.
 */
export class PageTable {
  /** The first page that holds data (the meta area comes before it). */
  readonly first: number
  /** Pages of the file, meta pages included: the next page allocated past the end. */
  pageCount: number
  /** The pages holding the persisted free list. */
  chain: number[]
  /** Free pages that may be allocated, descending, so that `pop()` gives the lowest. */
  #available: number[]
  readonly #availableSet: Set<number>
  /** Pages the head stopped using since the last checkpoint: free once a checkpoint without them is durable. */
  #pending: number[] = []
  readonly #freedAt = new Map<number, number>()
  readonly #writtenAt = new Map<number, number>()
  /** Whether the free set or the chain changed since the free list was last written. */
  #dirty = false

  constructor(
    readonly pageSize: number,
    first: number,
    pageCount: number,
    free: readonly number[],
    chain: readonly number[],
  ) {
    this.first = first
    this.pageCount = pageCount
    this.chain = chain.slice()
    this.#available = free.slice().sort((a, b) => b - a)
    this.#availableSet = new Set(free)
    // Pages free when the database opened hold nothing a snapshot of this session can read; only
    // the named snapshots of earlier sessions (epoch 0) may.
    for (const page of free) this.#freedAt.set(page, 1)
    this.metadata(chain)
  }

  /** `pages` hold metadata (free-list or catalogue pages): no snapshot ever reads their content. */
  metadata(pages: Iterable<number>): void {
    for (const page of pages) this.#writtenAt.set(page, Number.POSITIVE_INFINITY)
  }

  /** Free pages, allocatable now. */
  get available(): readonly number[] {
    return this.#available
  }

  /** Pages freed since the last checkpoint. */
  get pending(): readonly number[] {
    return this.#pending
  }

  /** Free pages a checkpoint now would list: available and pending. */
  get freeCount(): number {
    return this.#available.length + this.#pending.length
  }

  /** Whether the persisted free list no longer matches. */
  get dirty(): boolean {
    return this.#dirty || this.#pending.length > 0
  }

  /**
   * A page for a new image: the lowest free page, else one past the end of the file. A page past
   * the end holds nothing any snapshot could read.
   */
  allocate(): number {
    const page = this.#available.pop()
    if (page !== undefined) {
      this.#availableSet.delete(page)
      this.#dirty = true
      return page
    }
    const fresh = this.pageCount++
    this.#writtenAt.set(fresh, Number.POSITIVE_INFINITY)
    return fresh
  }

  /**
   * A page for metadata: the lowest free page whose content `isNeeded` does not claim, else one
   * past the end. Metadata pages are never copied for named snapshots this way, so the catalogue,
   * which lists those copies, never depends on its own pages.
   */
  allocateUnneeded(isNeeded: (page: number) => boolean): number {
    for (let i = this.#available.length - 1; i >= 0; i--) {
      const page = this.#available[i] as number
      if (isNeeded(page)) continue
      this.#available.splice(i, 1)
      this.#availableSet.delete(page)
      this.#dirty = true
      return page
    }
    const fresh = this.pageCount++
    this.#writtenAt.set(fresh, Number.POSITIVE_INFINITY)
    return fresh
  }

  /** The head stopped using `page`: it becomes free at the next checkpoint, and allocatable after it. */
  free(page: number): void {
    this.#pending.push(page)
  }

  /**
   * A restore brings back a state that uses the free page `page` as it is: it is used again, and
   * every snapshot taken from now on may read its content.
   */
  reclaim(page: number): void {
    if (!this.#availableSet.delete(page)) throw new Error(`strata: invariant broken: page ${page} is reclaimed but not free`)
    this.#available.splice(this.#available.indexOf(page), 1)
    this.#freedAt.delete(page)
    this.#dirty = true
  }

  /**
   * The epochs of the snapshots that may read what `page` holds now, if checkpoint `epoch`
   * overwrites it; undefined when none may.
   */
  oldContent(page: number, epoch: number): EpochRange | undefined {
    const from = this.#writtenAt.get(page) ?? 0
    const to = Math.min(this.#freedAt.get(page) ?? epoch, epoch)
    return from < to ? { from, to } : undefined
  }

  /** The first epoch whose snapshots may read what `page` holds (or is about to hold, during a checkpoint). */
  visibleFrom(page: number): number {
    return this.#writtenAt.get(page) ?? 0
  }

  /** Checkpoint `epoch` wrote `page`; snapshots of epochs from `visibleFrom` on may read it. */
  written(page: number, visibleFrom: number): void {
    this.#writtenAt.set(page, visibleFrom)
    this.#freedAt.delete(page)
  }

  /**
   * The free list checkpoint `epoch` persists: pending frees join it (freed at `epoch`, allocatable
   * only after the checkpoint), and the chain grows by pages from `allocate` until it can hold the
   * list. Returns the entries, ascending.
   */
  persist(epoch: number, allocate: () => number): number[] {
    for (const page of this.#pending) this.#freedAt.set(page, epoch)
    while (this.chain.length < freeListPageCount(this.#available.length + this.#pending.length, this.pageSize)) this.chain.push(allocate())
    return [...this.#available, ...this.#pending].sort((a, b) => a - b)
  }

  /** The checkpoint that persisted the free list is durable: pending frees become allocatable. */
  committed(): void {
    for (const page of this.#pending) {
      this.#available.push(page)
      this.#availableSet.add(page)
    }
    if (this.#pending.length > 0) this.#available.sort((a, b) => b - a)
    this.#pending = []
    this.#dirty = false
  }

  /**
   * Gives the chain's pages back to the free set (no snapshot reads a free-list page), then cuts
   * free pages off the end of the file while `isNeeded` says no snapshot may read them. The next
   * checkpoint writes a new chain on the lowest free pages. Returns the new page count.
   */
  shrink(isNeeded: (page: number) => boolean): number {
    for (const page of this.chain) {
      this.#available.push(page)
      this.#availableSet.add(page)
      this.#writtenAt.set(page, Number.POSITIVE_INFINITY)
    }
    this.chain = []
    this.#dirty = true
    this.#available.sort((a, b) => b - a)
    while (this.pageCount > this.first) {
      const last = this.pageCount - 1
      if (!this.#availableSet.has(last) || isNeeded(last)) break
      this.#availableSet.delete(last)
      this.#freedAt.delete(last)
      this.#writtenAt.delete(last)
      this.pageCount--
    }
    this.#available = this.#available.filter((page) => page < this.pageCount)
    return this.pageCount
  }
}
