import { headsProblem } from './key-search.js'
import { encodeNode } from './page-layout.js'
import { type Branch, compareKeys, isRef, keyCount, leafBytes, leafKey, leafValue, newBranch, type Node, NO_ADDRESS, type PageAddress } from './node.js'
import { loadChild, type PageSource } from './page-source.js'

/** The shape of a tree, as `checkTree` finds it. */
export interface TreeShape {
  height: number
  leaves: number
  branches: number
  entries: number
  /** Encoded bytes of all nodes. */
  pageBytes: number
  /** Key and value bytes of all entries. */
  liveBytes: number
  /** The clean pages the tree uses: address and encoded bytes. */
  pages: [PageAddress, number][]
  /** The out-of-line values the tree references: address, key bytes, value bytes. */
  values: [number, number, number][]
}

/**
 * Walks every node under `root` and returns the broken invariants it finds (empty when sound):
 * key order, separator bounds, equal leaf depth, node sizes, and, for clean nodes, that the page
 * on storage decodes (checksum included) to the same entries. Reads every page: a full check.
 */
export function checkTree(source: PageSource, root: Node): { problems: string[]; shape: TreeShape } {
  const problems: string[] = []
  const shape: TreeShape = { height: 0, leaves: 0, branches: 0, entries: 0, pageBytes: 0, liveBytes: 0, pages: [], values: [] }
  let leafDepth = -1

  const visit = (node: Node, lo: Buffer | undefined, hi: Buffer | undefined, depth: number, path: string): void => {
    const where = `node ${path}${node.address !== NO_ADDRESS ? ` @${node.address}` : ''}`
    shape.pageBytes += node.bytes
    if (node.address !== NO_ADDRESS) shape.pages.push([node.address, node.bytes])
    const expected = node.leaf ? leafBytes(node.src, node.off) : newBranch(0, node.keys, node.children).bytes
    if (expected !== node.bytes) problems.push(`${where}: recorded size ${node.bytes} but entries take ${expected}`)
    if (node.bytes > source.pageSize) problems.push(`${where}: ${node.bytes} bytes exceed the ${source.pageSize}-byte page`)
    const keyAt = (i: number) => (node.leaf ? leafKey(node, i) : (node.keys[i] as Buffer))
    for (let i = 0; i < keyCount(node); i++) {
      const key = keyAt(i)
      if (i > 0 && compareKeys(keyAt(i - 1), key) >= 0) problems.push(`${where}: keys ${i - 1} and ${i} out of order`)
      if (lo && compareKeys(key, lo) < 0) problems.push(`${where}: key ${i} below its lower bound`)
      if (hi && compareKeys(key, hi) >= 0) problems.push(`${where}: key ${i} not below its upper bound`)
    }
    const index = headsProblem(node)
    if (index) problems.push(`${where}: ${index}`)
    if (node.address !== NO_ADDRESS) checkStoredImage(source, node, where, problems)
    if (node.leaf) {
      shape.leaves++
      shape.entries += node.off.length
      if (depth > 0 && node.off.length === 0) problems.push(`${where}: empty leaf below the root`)
      if (node.src.length !== node.off.length) problems.push(`${where}: ${node.off.length} entry offsets but ${node.src.length} entry buffers`)
      if (leafDepth < 0) leafDepth = depth
      else if (leafDepth !== depth) problems.push(`${where}: leaf at depth ${depth}, others at ${leafDepth}`)
      for (let i = 0; i < node.off.length; i++) {
        const key = leafKey(node, i)
        const value = leafValue(node, i)
        shape.liveBytes += key.length + value.length
        if (!isRef(value)) continue
        shape.values.push([value.address, key.length, value.length])
        try {
          const bytes = source.readValue(value)
          if (bytes.length !== value.length) problems.push(`${where}: value ${i} reads ${bytes.length} bytes, expected ${value.length}`)
        } catch (error) {
          problems.push(`${where}: value ${i}: ${(error as Error).message}`)
        }
      }
      return
    }
    shape.branches++
    const branch: Branch = node
    if (branch.children.length !== branch.keys.length + 1) problems.push(`${where}: ${branch.keys.length} keys but ${branch.children.length} children`)
    if (branch.keys.length === 0) problems.push(`${where}: branch without keys`)
    for (let i = 0; i < branch.children.length; i++) {
      let child: Node
      try {
        child = loadChild(source, branch, i)
      } catch (error) {
        problems.push(`${where}: child ${i}: ${(error as Error).message}`)
        continue
      }
      if (child.address === NO_ADDRESS && branch.address !== NO_ADDRESS) problems.push(`${where}: clean branch has a dirty child ${i}`)
      visit(child, i > 0 ? branch.keys[i - 1] : lo, i < branch.keys.length ? branch.keys[i] : hi, depth + 1, `${path}/${i}`)
    }
  }

  visit(root, undefined, undefined, 0, 'root')
  shape.height = leafDepth + 1
  return { problems, shape }
}

/** Re-reads a clean node's page and compares it with the node in memory. */
function checkStoredImage(source: PageSource, node: Node, where: string, problems: string[]): void {
  try {
    const stored = source.loadNode(node.address)
    if (stored.leaf !== node.leaf || keyCount(stored) !== keyCount(node)) {
      problems.push(`${where}: page on storage holds a different node`)
      return
    }
    const mine = encodeNode(withChildAddresses(node))
    const theirs = encodeNode(stored)
    if (!mine.equals(theirs)) problems.push(`${where}: page on storage differs from the node in memory`)
  } catch (error) {
    problems.push(`${where}: ${(error as Error).message}`)
  }
}

/** A clean node's branch children are clean too; encode with their addresses. */
function withChildAddresses(node: Node): Node {
  if (node.leaf) return node
  return { ...node, children: node.children.map((c) => (typeof c === 'number' ? c : c.address)) }
}
