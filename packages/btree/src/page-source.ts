import type { Branch, Node, PageAddress, ValueRef } from './node.js'

/**
 * The seam between the B+tree and a page store: how the tree reads pages and out-of-line values.
 * Both engines implement it; reads are synchronous.
 */
export interface PageSource {
  readonly pageSize: number
  /** Reads, verifies and decodes the page at `address` into a clean node: a new object at every call, never one returned before (loadChild gives it the generation of the branch it hangs under). */
  loadNode(address: PageAddress): Node
  /** Reads an out-of-line value. The caller owns the result. */
  readValue(ref: ValueRef): Buffer
}

/** Child `i` of `branch`, read from the page source on first use and kept in the branch after. */
export function loadChild(source: PageSource, branch: Branch, i: number): Node {
  const child = branch.children[i]
  if (child === undefined) throw new Error(`strata: invariant broken: branch has no child ${i}`)
  if (typeof child !== 'number') return child
  const node = source.loadNode(child)
  // The node is reachable only through `branch`, so it takes the branch's generation: under a
  // mutable branch it is mutable too (the head's first write to it marks it dirty in place instead
  // of copying it), and under a frozen one it is frozen.
  node.gen = branch.gen
  // Swapping an address for the node it names changes nothing a reader can see, so this is safe
  // even on nodes that snapshots share.
  branch.children[i] = node
  return node
}
