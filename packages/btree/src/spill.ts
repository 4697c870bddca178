import { encodeNode, rebaseNode } from './page-layout.js'
import { type Node, NO_ADDRESS, type PageAddress } from './node.js'

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
