import { encodeNode, rebaseNode } from './page-layout.js'
import { type Node, NO_ADDRESS, type PageAddress } from './node.js'
import type { PageCache } from './page-cache.js'

/**
 * Where a page store put a page: given the node and a buffer holding `headroom` free bytes and
 * then the page image, returns the address the node is now clean at.
 */
export type PageWriter = (node: Node, framed: Buffer) => PageAddress

/**
 * Writes every dirty node under `root`, children before parents (a parent's image holds its
 * children's addresses), and marks each clean at the address `write` gives. Clean subtrees are
 * not entered. Returns how many pages were written.
 */
export function spill(root: Node, write: PageWriter, headroom = 0): number {
  let written = 0
  const visit = (node: Node): void => {
    if (node.address !== NO_ADDRESS) return
    if (!node.leaf) for (const child of node.children) if (typeof child !== 'number') visit(child)
    spillNode(node, write, headroom)
    written++
  }
  visit(root)
  return written
}

/**
 * Up to `limit` dirty leaves under `root`, in key order: pages a checkpoint can write ahead of the
 * branches above them, which it writes last, once no more of their children change.
 */
export function dirtyLeaves(root: Node, limit: number): Node[] {
  const found: Node[] = []
  const visit = (node: Node): void => {
    if (node.address !== NO_ADDRESS || found.length >= limit) return
    if (node.leaf) found.push(node)
    else for (const child of node.children) if (typeof child !== 'number') visit(child)
  }
  visit(root)
  return found
}

/** Writes one dirty node whose children are all clean, and marks it clean where `write` put it. */
export function spillNode(node: Node, write: PageWriter, headroom = 0): void {
  const framed = encodeNode(node, headroom)
  const address = write(node, framed)
  node.address = address
  node.home = address
  rebaseNode(node, framed.subarray(headroom))
}

/** Encoded bytes of the dirty nodes under `root`: what it holds in memory until a checkpoint writes them. */
export function dirtyBytes(root: Node): number {
  if (root.address !== NO_ADDRESS && root.leaf) return 0
  let bytes = root.address === NO_ADDRESS ? root.bytes : 0
  if (!root.leaf) for (const child of root.children) if (typeof child !== 'number') bytes += dirtyBytes(child)
  return bytes
}

/**
 * Hands the clean nodes that branches under `root` hold to `cache` and has the branches name them
 * by address instead, so the cache's budget, not the tree, decides how long they stay in memory:
 * what a checkpoint does once the pages it wrote can be read back. Dirty nodes stay where they
 * are. A branch `keep` accepts, and everything under it, is left as it is: a reader that would not
 * read back the same node from its address reaches it (a copy-before-write snapshot older than
 * the pages). A node handed over is frozen (generation 0): the head copies it to change it.
 */
export function cacheWritten(root: Node, cache: PageCache, keep: (node: Node) => boolean = () => false): void {
  const visit = (node: Node): void => {
    if (node.leaf || keep(node)) return
    const children = node.children
    for (let i = 0; i < children.length; i++) {
      const child = children[i] as Node | PageAddress
      if (typeof child === 'number') continue
      visit(child)
      if (child.address === NO_ADDRESS || keep(child)) continue
      child.gen = 0
      cache.admit(child.address, child)
      children[i] = child.address
    }
  }
  visit(root)
}
