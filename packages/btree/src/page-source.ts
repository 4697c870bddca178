import type { Branch, Node, PageAddress, ValueRef } from './node.js'

/**
 * The seam between the B+tree and a page store: how the tree reads pages and out-of-line values.
 * Both engines implement it; reads are synchronous.
 */
export interface PageSource {
  readonly pageSize: number
  /** Reads, verifies and decodes the page at `address` into a clean node: a new object at every call, never one returned before. */
  loadNode(address: PageAddress): Node
  /**
   * The clean node at `address` from the store's page cache, read with `loadNode` and cached on a
   * miss (page-cache.ts). Shared by every reader that reaches the address: never to be changed.
   * A store without a cache leaves it out, and every read of a page reads it.
   */
  cachedNode?(address: PageAddress): Node
  /** Reads an out-of-line value. The caller owns the result. */
  readValue(ref: ValueRef): Buffer
}

/**
 * Child `i` of `branch`: the dirty node the branch holds, or the clean one its address names,
 * through the page cache. A clean child is never kept in the branch (it would then stay in memory
 * as long as the branch, beyond the cache's budget); a reader that needs it again keeps it itself.
 */
export function loadChild(source: PageSource, branch: Branch, i: number): Node {
  const child = branch.children[i]
  if (child === undefined) throw new Error(`strata: invariant broken: branch has no child ${i}`)
  if (typeof child !== 'number') return child
  return source.cachedNode !== undefined ? source.cachedNode(child) : source.loadNode(child)
}
