import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { checkTree } from './check.js'
import { type DiffCost, type DiffSide, diffTrees, walkApart } from './diff.js'
import { leafKey, type Node, type PageAddress, type ValueRef } from './node.js'
import { decodeNode } from './page-layout.js'
import type { PageSource } from './page-source.js'
import { spill } from './spill.js'
import { Tree, type TreeEvents } from './tree.js'

class MapStore implements PageSource, TreeEvents {
  readonly pages = new Map<number, Buffer>()
  next = 1
  constructor(readonly pageSize: number) {}
  loadNode(address: PageAddress): Node {
    return decodeNode(this.pages.get(address) as Buffer, address, 0, 'map', address)
  }
  readValue(_ref: ValueRef): Buffer {
    throw new Error('no out-of-line values here')
  }
  rewritten(): void {}
  removed(): void {}
  valueRemoved(): void {}
  write(root: Node): void {
    spill(root, (_node, framed) => {
      const address = this.next++ as PageAddress
      this.pages.set(address, framed)
      return address
    })
  }
}

const key = (n: number) => Buffer.from(`k${String(n).padStart(6, '0')}`)

describe('tree diff', () => {
  it('agrees with a model diff between a frozen state and a later one', () => {
    const op = fc.record({ del: fc.boolean(), k: fc.nat(400), v: fc.nat(1000) })
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), fc.array(op, { maxLength: 100 }), fc.boolean(), (before, after, spillBetween) => {
        const store = new MapStore(256)
        const tree = new Tree(store, store)
        const model = new Map<string, string>()
        const apply = (ops: typeof before) => {
          for (const o of ops) {
            if (o.del) {
              tree.del(key(o.k))
              model.delete(key(o.k).toString())
            } else {
              tree.put(key(o.k), Buffer.from(`v${o.v}`))
              model.set(key(o.k).toString(), `v${o.v}`)
            }
          }
        }
        apply(before)
        if (spillBetween) store.write(tree.root)
        const a = tree.freeze()
        const was = new Map(model)
        apply(after)
        if (spillBetween) store.write(tree.root)
        const b = tree.freeze()
        const expected: string[] = []
        for (const k of [...new Set([...was.keys(), ...model.keys()])].sort()) {
          if (was.get(k) !== model.get(k)) expected.push(`${k}:${was.get(k)}->${model.get(k)}`)
        }
        const got = [...diffTrees({ source: store, root: a }, { source: store, root: b }, true)].map((c) => `${c.key}:${c.before?.toString()}->${c.after?.toString()}`)
        expect(got).toEqual(expected)
      }),
      { numRuns: 300 },
    )
  })

  it('reads only the pages on the paths of the changes', () => {
    const store = new MapStore(4096)
    const tree = new Tree(store, store)
    for (let i = 0; i < 100_000; i++) tree.put(key(i), Buffer.alloc(100, i))
    store.write(tree.root)
    const a = tree.freeze()
    for (let i = 0; i < 10; i++) tree.put(key(i * 9973), Buffer.from('changed'))
    store.write(tree.root)
    const b = tree.freeze()
    // Read both trees back from storage, so every page the diff needs is a read.
    const cost: DiffCost = { pagesRead: 0, nodesExpanded: 0, subtreesSkipped: 0 }
    const changes = [...diffTrees({ source: store, root: store.loadNode(a.address) }, { source: store, root: store.loadNode(b.address) }, true, cost)]
    expect(changes).toHaveLength(10)
    expect(cost.pagesRead).toBeLessThanOrEqual(2 * 10 * 3)
    expect(cost.subtreesSkipped).toBeGreaterThan(0)
  })

  it('where pages are overwritten in place, one page number is not one subtree unless both sides read one version', () => {
    // Pages updated in place: a node is written back to the page it came from.
    const store = new MapStore(512)
    const written = new Set<number>()
    const inPlace = (root: Node) =>
      spill(root, (node, framed) => {
        const address = (node.home >= 0 ? node.home : store.next++) as PageAddress
        store.pages.set(address, framed)
        written.add(address)
        return address
      })
    const tree = new Tree(store, store)
    for (let i = 0; i < 400; i++) tree.put(key(i), Buffer.from(`v${i}`))
    inPlace(tree.root)
    const before = new MapStore(512)
    for (const [address, image] of store.pages) before.pages.set(address, image)
    const rootPage = tree.root.address
    written.clear()
    tree.put(key(7), Buffer.from('changed'))
    inPlace(tree.freeze())
    expect(tree.root.address).toBe(rootPage)
    const sides = () => [
      { source: before, root: before.loadNode(rootPage) },
      { source: store, root: store.loadNode(rootPage) },
    ] as const
    const changes = (a: DiffSide, b: DiffSide) => [...diffTrees(a, b, false)].map((c) => `${c.key}:${c.before?.toString()}->${c.after?.toString()}`)
    const [a, b] = sides()
    expect(changes(a, b)).toEqual([`${key(7)}:v7->changed`])
    // Version tokens let the sides skip what they read in one version: every page but those the
    // second spill rewrote (the path to the change, whatever bytes it wrote).
    const rewritten = written
    const [c, d] = sides()
    const cost: DiffCost = { pagesRead: 0, nodesExpanded: 0, subtreesSkipped: 0 }
    const versionAt = (side: string) => (address: number) => (rewritten.has(address) ? `${side}${address}` : 'same')
    expect([...diffTrees({ ...c, versionAt: versionAt('a') }, { ...d, versionAt: versionAt('b') }, false, cost)]).toHaveLength(1)
    expect(cost.subtreesSkipped).toBeGreaterThan(0)
    expect(cost.pagesRead).toBeLessThanOrEqual(2 * rewritten.size)
  })
})

describe('walkApart', () => {
  const store = new MapStore(256)
  const tree = new Tree(store, store)
  for (let i = 0; i < 3000; i++) tree.put(key(i), Buffer.from(`v${i}`))
  store.write(tree.root)
  const before = tree.freeze()
  tree.put(key(1234), Buffer.from('changed'))
  store.write(tree.root)
  const after = tree.freeze()
  const height = checkTree(store, after).shape.height

  it('visits only the path to the one changed leaf on each side, parents first', () => {
    const { nodesA, nodesB } = walkApart({ source: store, root: before }, { source: store, root: after }, true)
    for (const nodes of [nodesA, nodesB]) {
      expect(nodes).toHaveLength(height)
      expect(nodes.slice(0, -1).every((n) => !n.leaf)).toBe(true)
      const leaf = nodes[nodes.length - 1] as Node
      if (!leaf.leaf) throw new Error('the walk does not end in a leaf')
      expect(Array.from({ length: leaf.off.length }, (_, i) => leafKey(leaf, i).toString())).toContain(key(1234).toString())
    }
  })

  it('visits nothing when both sides are the same tree, and every node against an empty tree', () => {
    expect(walkApart({ source: store, root: after }, { source: store, root: after }, true)).toMatchObject({ nodesA: [], nodesB: [] })
    const empty = new Tree(new MapStore(256), new MapStore(256)).freeze()
    const { nodesA, nodesB } = walkApart({ source: store, root: after }, { source: store, root: empty }, true)
    const shape = checkTree(store, after).shape
    expect(nodesA).toHaveLength(shape.leaves + shape.branches)
    expect(nodesB).toHaveLength(1)
  })
})
