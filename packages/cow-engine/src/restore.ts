import { isRef, leafValue, NO_ADDRESS, type Node, type PageSource, type ValueRef, walkApart } from '@strata/btree'
import { assert } from '@strata/storage'
import type { Database } from './database.js'
import { OVERFLOW_HEADER_BYTES, overflowChain } from './overflow.js'
import type { CowSnapshot } from './snapshots.js'

/** A large value of the restored head whose chain the head had overwritten: the restore checkpoint writes it again. */
export interface RestoredValue {
  leaf: Node
  index: number
  value: Buffer
}

/** What a restore checkpoint writes besides the restored head's dirty nodes: values on new chains. */
export interface RestorePlan {
  values: RestoredValue[]
}

/** One side of the walk: the nodes visited (pages, and chains of leaves), and how to read them. */
interface Side {
  source: PageSource
  versionAt: (page: number) => unknown
  chainPages: (ref: ValueRef) => number[]
  /** Visited nodes, in the order visited (parents before children). */
  nodes: Node[]
  /** The children read in for each visited branch, by index (a branch keeps only its dirty ones). */
  children: Map<Node, Node[]>
}

/**
 * Makes the head named snapshot `snapshot`'s state (docs/architecture.md §Restore). The head must
 * be clean (just checkpointed). Nothing the old head uses is overwritten: its pages are only freed
 * by the restore checkpoint, so readers keep the old state until the restore is durable, and a
 * restore that fails leaves it whole.
 *
 * 1. Walk the snapshot's tree beside the head's, skipping every subtree both read in the same
 *    version (Database.versionAt): the walk costs what changed since the snapshot.
 * 2. A walked node of the snapshot whose page the head has overwritten since (the snapshot reads
 *    it from its copy), or with such a node below it, or with a large value whose chain the head
 *    has overwritten, becomes a dirty node: the restore checkpoint writes it on a new page. Every
 *    other walked node, and every skipped subtree, is kept where it is.
 * 3. Pages the old head used that the restored head does not keep are freed at the restore
 *    checkpoint; free pages it keeps are used again as they are.
 * 4. The head's root becomes the restored root, at the next sequence number. The caller runs the
 *    restore checkpoint, which writes the dirty nodes and the values and names the root, and only
 *    then shows the restored state to readers.
 */
export function planRestore(db: Database, snapshot: CowSnapshot): RestorePlan {
  const record = snapshot.named
  assert(record !== undefined, 'a restore names a catalogued snapshot')
  const slot = (page: number) => db.snapshotSlot(snapshot, page, 'value')
  const restored: Side = {
    source: snapshot.source,
    versionAt: (page) => db.versionAt(snapshot, page),
    chainPages: (ref) => overflowChain((page) => slot(page).subarray(0, OVERFLOW_HEADER_BYTES), ref.address, ref.length, db.pageSize, db.pages.location),
    nodes: [],
    children: new Map(),
  }
  const head: Side = { source: db, versionAt: () => db.currentVersion, chainPages: (ref) => db.chainPages(ref), nodes: [], children: new Map() }
  // 1. What differs.
  walk(restored, snapshot.root, head, db.tree.root)
  // 2. Children before parents: which walked nodes change, and their dirty copies.
  const copied = (page: number) => db.store.has(snapshot, page)
  const dirty = new Map<Node, Node>()
  const kept = new Set<number>()
  const values: RestoredValue[] = []
  for (let n = restored.nodes.length - 1; n >= 0; n--) {
    const node = restored.nodes[n] as Node
    let copy: Node | undefined
    const change = (): Node => {
      copy ??= dirtyCopy(node)
      return copy
    }
    if (copied(node.address)) change()
    if (node.leaf) {
      for (let i = 0; i < node.off.length; i++) {
        const value = leafValue(node, i)
        if (!isRef(value)) continue
        const pages = restored.chainPages(value)
        if (!pages.some(copied)) {
          for (const page of pages) kept.add(page)
          continue
        }
        values.push({ leaf: change(), index: i, value: snapshot.source.readValue(value) })
      }
    } else {
      const walked = restored.children.get(node)
      node.children.forEach((child, i) => {
        const read = typeof child === 'number' ? walked?.[i] : child
        const moved = read === undefined ? undefined : dirty.get(read)
        if (moved) (change() as typeof node).children[i] = moved
      })
    }
    if (copy) dirty.set(node, copy)
    else kept.add(node.address)
  }
  // 3. The page accounting: the old head's pages the restored head does not keep, and free pages it keeps.
  const used = new Set<number>()
  for (const node of head.nodes) {
    used.add(node.address)
    if (node.leaf) {
      for (let i = 0; i < node.off.length; i++) {
        const value = leafValue(node, i)
        if (isRef(value)) for (const page of head.chainPages(value)) used.add(page)
      }
    }
  }
  for (const page of used) if (!kept.has(page)) db.table.free(page)
  for (const page of kept) if (!used.has(page)) db.table.reclaim(page)
  // 4. The head is the snapshot's state.
  db.tree.replaceRoot(dirty.get(snapshot.root) ?? snapshot.root)
  db.tree.dataBytes = record.dataBytes
  db.seq++
  db.chains.clear()
  return { values }
}

/** A dirty copy of a clean node, to be written on a new page: its keys are shared, its children or values are its own. */
function dirtyCopy(node: Node): Node {
  if (node.leaf) return { ...node, src: node.src.slice(), off: node.off.slice(), address: NO_ADDRESS, home: NO_ADDRESS, headsShared: true }
  return { ...node, children: node.children.slice(), address: NO_ADDRESS, home: NO_ADDRESS, headsShared: true }
}

/**
 * Walks two trees side by side, in key order, skipping subtrees both sides read in one version,
 * and records on each side the nodes it visits. A page visited on both sides (the two trees'
 * shapes need not line up) is used by both.
 */
function walk(a: Side, rootA: Node, b: Side, rootB: Node): void {
  const walked = walkApart({ ...a, root: rootA }, { ...b, root: rootB }, false)
  for (const nodes of [walked.nodesA, walked.nodesB]) for (const node of nodes) assert(node.address >= 0, 'a restore walks clean trees only')
  a.nodes = walked.nodesA
  a.children = walked.childrenA
  b.nodes = walked.nodesB
  b.children = walked.childrenB
}
