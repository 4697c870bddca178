import { type Child, compareKeys, isRef, leafKey, leafValue, type Node, type PageAddress, type StoredValue } from './node.js'
import { loadChild, type PageSource } from './page-source.js'

/** One side of a diff: a frozen root and the source its pages are read through. */
export interface DiffSide {
  source: PageSource
  root: Node
  /**
   * For page stores that overwrite pages in place: which version of the page at `address` this
   * side reads, as a token, or undefined when the store cannot tell. Where both sides give the
   * same defined token for an address, they read the same version of that page, and of every page
   * below it, so the subtree is skipped whole.
   */
  versionAt?: (address: PageAddress) => unknown
}

/**
 * Whether a child of `a` and a child of `b` are one subtree: one node object is; one page number
 * is only if pages never change (`sameAddressSameContent`) or both sides read one version of it.
 */
function sameSubtree(a: DiffSide, b: DiffSide, sameAddressSameContent: boolean): (x: Child, y: Child) => boolean {
  return (x, y) => {
    if (typeof x !== 'number' && x === y) return true
    const ax = typeof x === 'number' ? x : x.address
    const ay = typeof y === 'number' ? y : y.address
    if (ax < 0 || ax !== ay) return false
    if (sameAddressSameContent) return true
    const version = a.versionAt?.(ax)
    return version !== undefined && version === b.versionAt?.(ay)
  }
}

/** A key whose value differs between two trees; `before`/`after` undefined where it is absent. */
export interface Change {
  key: Buffer
  before: Buffer | undefined
  after: Buffer | undefined
}

/** What a diff had to do: how it compares with the size of the trees. */
export interface DiffCost {
  /** Pages read from storage (nodes not yet in memory). */
  pagesRead: number
  /** Nodes whose entries or children were examined. */
  nodesExpanded: number
  /** Subtrees found identical on both sides and skipped whole. */
  subtreesSkipped: number
}

type Item = { node: Child; holder: Node | undefined; index: number } | { key: Buffer; value: StoredValue }

/**
 * The changes from tree `a` to tree `b`, in key order. Subtrees the two trees share (the same node,
 * the same page address where pages are never overwritten, or the same page version where the
 * sides can tell it: {@link DiffSide.versionAt}) are skipped whole, so the cost grows with the size
 * of the change, not of the trees. `sameAddressSameContent` says whether an address names one
 * immutable page (true for redirect-on-write stores); when false, an address alone proves nothing.
 */
export function* diffTrees(a: DiffSide, b: DiffSide, sameAddressSameContent: boolean, cost: DiffCost = { pagesRead: 0, nodesExpanded: 0, subtreesSkipped: 0 }): Generator<Change> {
  const left: Item[] = [{ node: a.root, holder: undefined, index: 0 }]
  const right: Item[] = [{ node: b.root, holder: undefined, index: 0 }]

  const identical = sameSubtree(a, b, sameAddressSameContent)
  const load = (item: { node: Child; holder: Node | undefined; index: number }, source: PageSource): Node => {
    if (typeof item.node !== 'number') return item.node
    cost.pagesRead++
    const holder = item.holder
    const node = holder && !holder.leaf ? loadChild(source, holder, item.index) : source.loadNode(item.node)
    item.node = node
    return node
  }
  /** Replaces the node at the top of `stack` with its entries or children, in key order. */
  const expand = (stack: Item[], source: PageSource): void => {
    const item = stack.pop() as { node: Child; holder: Node | undefined; index: number }
    const node = load(item, source)
    cost.nodesExpanded++
    if (node.leaf) {
      for (let i = node.off.length - 1; i >= 0; i--) stack.push({ key: leafKey(node, i), value: leafValue(node, i) })
    } else {
      for (let i = node.children.length - 1; i >= 0; i--) stack.push({ node: node.children[i] as Child, holder: node, index: i })
    }
  }
  const resolve = (value: StoredValue, source: PageSource): Buffer => (isRef(value) ? source.readValue(value) : value)
  const sameValue = (x: StoredValue, y: StoredValue): boolean => {
    if (!isRef(x) && !isRef(y)) return x.equals(y)
    if (isRef(x) && isRef(y) && sameAddressSameContent && x.address === y.address) return true
    return resolve(x, a.source).equals(resolve(y, b.source))
  }

  for (;;) {
    const x = left[left.length - 1]
    const y = right[right.length - 1]
    if (!x && !y) return
    if (x && 'node' in x && y && 'node' in y) {
      if (identical(x.node, y.node)) {
        left.pop()
        right.pop()
        cost.subtreesSkipped++
        continue
      }
      const nx = load(x, a.source)
      const ny = load(y, b.source)
      // Expand the higher of the two first, so equal subtrees below it can line up.
      if (nx.leaf === ny.leaf || !nx.leaf) expand(left, a.source)
      if (nx.leaf === ny.leaf || !ny.leaf) expand(right, b.source)
      continue
    }
    if (x && 'node' in x) {
      expand(left, a.source)
      continue
    }
    if (y && 'node' in y) {
      expand(right, b.source)
      continue
    }
    const c = !x ? 1 : !y ? -1 : compareKeys(x.key, y.key)
    if (c < 0 && x) {
      left.pop()
      yield { key: x.key, before: resolve(x.value, a.source), after: undefined }
    } else if (c > 0 && y) {
      right.pop()
      yield { key: y.key, before: undefined, after: resolve(y.value, b.source) }
    } else if (x && y) {
      left.pop()
      right.pop()
      if (!sameValue(x.value, y.value)) yield { key: x.key, before: resolve(x.value, a.source), after: resolve(y.value, b.source) }
    }
  }
}

interface WalkItem {
  child: Child
  holder: Node | undefined
  index: number
}

/** What {@link walkApart} found on each side. */
export interface WalkedApart {
  /** The nodes each side visits, parents before children. */
  nodesA: Node[]
  nodesB: Node[]
  /**
   * The children each side read for each branch it visited, by index: a branch names its clean
   * children by address (page-cache.ts), so the nodes read are known only here.
   */
  childrenA: Map<Node, Node[]>
  childrenB: Map<Node, Node[]>
}

/**
 * Walks two trees side by side, in key order, skipping every subtree both use (as diffTrees does),
 * and returns the nodes each side visits, parents before children. Costs in proportion to the
 * difference, not the trees. A node can be visited on both sides when the two trees' shapes do not
 * line up: a caller that wants what one side alone uses cancels those out.
 */
export function walkApart(a: DiffSide, b: DiffSide, sameAddressSameContent: boolean): WalkedApart {
  const shared = sameSubtree(a, b, sameAddressSameContent)
  const left: WalkItem[] = [{ child: a.root, holder: undefined, index: 0 }]
  const right: WalkItem[] = [{ child: b.root, holder: undefined, index: 0 }]
  const walked: WalkedApart = { nodesA: [], nodesB: [], childrenA: new Map(), childrenB: new Map() }
  const { nodesA, nodesB } = walked
  const load = (item: WalkItem, side: DiffSide): Node => {
    if (typeof item.child !== 'number') return item.child
    const holder = item.holder
    const node = holder && !holder.leaf ? loadChild(side.source, holder, item.index) : side.source.loadNode(item.child)
    if (holder) {
      const read = side === a ? walked.childrenA : walked.childrenB
      const children = read.get(holder) ?? []
      children[item.index] = node
      read.set(holder, children)
    }
    item.child = node
    return node
  }
  const expand = (stack: WalkItem[], side: DiffSide, visited: Node[]): void => {
    const item = stack.pop() as WalkItem
    const node = load(item, side)
    visited.push(node)
    if (!node.leaf) for (let i = node.children.length - 1; i >= 0; i--) stack.push({ child: node.children[i] as Child, holder: node, index: i })
  }
  for (;;) {
    const x = left[left.length - 1]
    const y = right[right.length - 1]
    if (!x && !y) return walked
    if (x && y) {
      if (shared(x.child, y.child)) {
        left.pop()
        right.pop()
        continue
      }
      const nx = load(x, a)
      const ny = load(y, b)
      // Expand the higher of the two first, so equal subtrees below it can line up.
      if (nx.leaf === ny.leaf || !nx.leaf) expand(left, a, nodesA)
      if (nx.leaf === ny.leaf || !ny.leaf) expand(right, b, nodesB)
    } else if (x) {
      expand(left, a, nodesA)
    } else {
      expand(right, b, nodesB)
    }
  }
}
