import { isRef, leafKey, leafValue, type Node, type PageSource, type ValueRef, walkApart } from '@strata/btree'

/** A clean page of one tree that the other does not use. */
export interface PageOnly {
  address: number
  bytes: number
  born: number
}

/** An out-of-line value one tree references and the other does not. */
export interface ValueOnly {
  ref: ValueRef
  keyLength: number
}

/** What two trees do not share, page by page and value by value. */
export interface TreeDifference {
  pagesOnlyInA: PageOnly[]
  pagesOnlyInB: PageOnly[]
  valuesOnlyInA: ValueOnly[]
  valuesOnlyInB: ValueOnly[]
  /** Key and value bytes of the entries in the leaves walked on each side (the rest is shared). */
  walkedDataBytesA: number
  walkedDataBytesB: number
}

/**
 * The pages and out-of-line values each of two trees uses and the other does not, found by walking
 * both side by side and skipping every subtree they share (the same node, or the same page, which
 * a redirect-on-write store never changes). Costs in proportion to the difference, not the trees.
 * A restore uses it to move space between the head and the snapshots.
 */
export function treeDifference(source: PageSource, a: Node, b: Node): TreeDifference {
  const { nodesA: seenA, nodesB: seenB } = walkApart({ source, root: a }, { source, root: b }, true)
  // A node can be walked on both sides when the two trees' shapes do not line up; what both use
  // cancels out.
  const pages = (seen: Node[]) => new Map(seen.filter((n) => n.address >= 0).map((n) => [n.address as number, { address: n.address as number, bytes: n.bytes, born: n.born }]))
  const values = (seen: Node[]) => {
    const out = new Map<number, ValueOnly>()
    for (const n of seen) {
      if (!n.leaf) continue
      for (let i = 0; i < n.off.length; i++) {
        const v = leafValue(n, i)
        if (isRef(v)) out.set(v.address, { ref: v, keyLength: leafKey(n, i).length })
      }
    }
    return out
  }
  const dataBytes = (seen: Node[]) => {
    let total = 0
    for (const n of seen) if (n.leaf) for (let i = 0; i < n.off.length; i++) total += leafKey(n, i).length + leafValue(n, i).length
    return total
  }
  const pagesA = pages(seenA)
  const pagesB = pages(seenB)
  const valuesA = values(seenA)
  const valuesB = values(seenB)
  return {
    pagesOnlyInA: [...pagesA.values()].filter((p) => !pagesB.has(p.address)),
    pagesOnlyInB: [...pagesB.values()].filter((p) => !pagesA.has(p.address)),
    valuesOnlyInA: [...valuesA.values()].filter((v) => !valuesB.has(v.ref.address)),
    valuesOnlyInB: [...valuesB.values()].filter((v) => !valuesA.has(v.ref.address)),
    walkedDataBytesA: dataBytes(seenA),
    walkedDataBytesB: dataBytes(seenB),
  }
}
