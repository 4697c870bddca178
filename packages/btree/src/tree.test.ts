import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { BatchUndo } from './batch-undo.js'
import { checkTree } from './check.js'
import { Cursor, type Range } from './cursor.js'
import { keyCount, leafKey, type Node, type PageAddress, type ValueRef } from './node.js'
import { decodeNode, pageProbe } from './page-layout.js'
import type { PageSource } from './page-source.js'
import { PageCache } from './page-cache.js'
import { cacheWritten, spill } from './spill.js'
import { Tree, type TreeEvents } from './tree.js'

/** Pages and values in a Map: the smallest page store, with the space events counted. */
class MapStore implements PageSource, TreeEvents {
  readonly pages = new Map<number, Buffer>()
  readonly values = new Map<number, Buffer>()
  /** Addresses of the pages read in, in order. */
  readonly loads: number[] = []
  next = 1
  released = 0
  constructor(readonly pageSize: number) {}
  loadNode(address: PageAddress): Node {
    const image = this.pages.get(address)
    if (!image) throw new Error(`no page ${address}`)
    this.loads.push(address)
    return decodeNode(image, address, 0, 'map', address)
  }
  readValue(ref: ValueRef): Buffer {
    return this.values.get(ref.address) as Buffer
  }
  rewritten(): void {
    this.released++
  }
  removed(): void {}
  valueRemoved(): void {}
  write(root: Node): number {
    return spill(root, (_node, image) => {
      const address = this.next++ as PageAddress
      this.pages.set(address, image)
      return address
    })
  }
}

const key = (n: number) => Buffer.from(`k${n.toString().padStart(6, '0')}`)

function entries(cursor: Cursor): string[] {
  const out: string[] = []
  for (let e = cursor.next(); e; e = cursor.next()) out.push(e[0].toString())
  return out
}

describe('B+tree', () => {
  it('splits and merges through many levels and stays sound', () => {
    const store = new MapStore(256)
    const tree = new Tree(store, store)
    for (let i = 0; i < 5000; i++) tree.put(key((i * 7919) % 5000), Buffer.from(`v${i}`))
    let { problems, shape } = checkTree(store, tree.root)
    expect(problems).toEqual([])
    expect(shape.entries).toBe(5000)
    expect(shape.height).toBeGreaterThan(3)
    for (let i = 0; i < 5000; i += 2) expect(tree.del(key(i))).toBe(true)
    ;({ problems, shape } = checkTree(store, tree.root))
    expect(problems).toEqual([])
    expect(shape.entries).toBe(2500)
    for (let i = 1; i < 5000; i += 2) tree.del(key(i))
    ;({ problems, shape } = checkTree(store, tree.root))
    expect(problems).toEqual([])
    expect(shape).toMatchObject({ entries: 0, height: 1 })
  })

  it('a frozen root does not see later changes', () => {
    const store = new MapStore(256)
    const tree = new Tree(store, store)
    for (let i = 0; i < 500; i++) tree.put(key(i), Buffer.from('old'))
    const frozen = tree.freeze()
    for (let i = 0; i < 500; i++) {
      if (i % 2) tree.del(key(i))
      else tree.put(key(i), Buffer.from('new'))
    }
    const before = new Cursor(store, frozen)
    let count = 0
    for (let e = before.next(); e; e = before.next()) {
      expect(e[1].toString()).toBe('old')
      count++
    }
    expect(count).toBe(500)
    expect(checkTree(store, frozen).problems).toEqual([])
    expect(checkTree(store, tree.root).shape.entries).toBe(250)
  })

  it('pages read in under a frozen root stay as they were; the head copies a page it reads in to change it', () => {
    const store = new MapStore(256)
    const written = new Tree(store, store)
    for (let i = 0; i < 500; i++) written.put(key(i), Buffer.from('old'))
    store.write(written.root)
    // A tree opened from its pages: every node below the root is read in on use.
    const tree = new Tree(store, store)
    tree.replaceRoot(store.loadNode(written.root.address))
    // Half the pages are read in under the head first, then the head is frozen.
    for (let i = 0; i < 250; i++) expect(tree.get(key(i))?.toString()).toBe('old')
    const frozen = tree.freeze()
    // The other half are read in under the frozen root, then under the head.
    for (let i = 250; i < 500; i++) expect(new Cursor(store, frozen, { gte: key(i), lte: key(i) }).next()?.[1].toString()).toBe('old')
    for (let i = 0; i < 500; i++) tree.put(key(i), Buffer.from('new'))
    expect(entries(new Cursor(store, frozen))).toHaveLength(500)
    for (let e = new Cursor(store, frozen), x = e.next(); x; x = e.next()) expect(x[1].toString()).toBe('old')
    expect(checkTree(store, frozen).problems).toEqual([])
    // A tree opened from its pages changes its own root where it is; a page read in below it may
    // be shared through a cache, so the head changes a copy and holds that.
    const opened = new Tree(store, store)
    opened.adoptRoot(store.loadNode(written.root.address))
    const root = opened.root
    expect(opened.get(key(0))?.toString()).toBe('old')
    opened.put(key(0), Buffer.from('first'))
    const leftmost = (node: Node): Node[] => (node.leaf ? [node] : [node, ...leftmost(node.children[0] as Node)])
    const path = leftmost(opened.root)
    expect(path[0]).toBe(root)
    expect(path.length).toBeGreaterThan(2)
    for (let i = 1; i < 40; i++) opened.put(key(i), Buffer.from('again'))
    leftmost(opened.root).forEach((node, i) => expect(node).toBe(path[i]))
    expect(opened.get(key(0))?.toString()).toBe('first')
    expect(opened.get(key(39))?.toString()).toBe('again')
  })

  it('a cache given the written pages bounds what the head holds, and the head reads the same', () => {
    const store = new MapStore(256)
    const cache = new PageCache(4 * 1024)
    const cached = Object.assign(Object.create(store) as MapStore, {
      cachedNode: (address: PageAddress) => cache.readThrough(address, store),
    })
    const tree = new Tree(cached, store)
    const model = new Map<number, string>()
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 400; i++) {
        const k = (i * 7 + round * 13) % 600
        tree.put(key(k), Buffer.from(`v${round}.${i}`))
        model.set(k, `v${round}.${i}`)
      }
      store.write(tree.root)
      cacheWritten(tree.root, cache)
      // Only the root stays in the tree; every other node is the cache's to keep or drop.
      expect(tree.root.leaf || (tree.root.children as unknown[]).every((c) => typeof c === 'number')).toBe(true)
      expect(cache.bytes).toBeLessThanOrEqual(cache.budget)
      for (const [k, v] of model) expect(tree.get(key(k))?.toString()).toBe(v)
      expect(cache.bytes).toBeLessThanOrEqual(cache.budget)
    }
    expect(cache.evictions).toBeGreaterThan(0)
    const all: string[] = []
    for (let e = new Cursor(cached, tree.root), x = e.next(); x; x = e.next()) all.push(`${x[0].toString()}=${x[1].toString()}`)
    expect(all).toEqual([...model].sort((a, b) => a[0] - b[0]).map(([k, v]) => `${key(k).toString()}=${v}`))
    expect(checkTree(cached, tree.root).problems).toEqual([])
  })

  it('pages written and read back give the same tree', () => {
    const store = new MapStore(512)
    const tree = new Tree(store, store)
    for (let i = 0; i < 2000; i++) tree.put(key(i), Buffer.alloc(i % 50, i))
    store.write(tree.root)
    const reloaded = store.loadNode(tree.root.address)
    expect(entries(new Cursor(store, reloaded))).toEqual(entries(new Cursor(store, tree.root)))
    expect(checkTree(store, reloaded).problems).toEqual([])
  })

  it('a corrupt page is a LEVEL_CORRUPTION error', () => {
    const store = new MapStore(512)
    const tree = new Tree(store, store)
    for (let i = 0; i < 100; i++) tree.put(key(i), Buffer.from('v'))
    store.write(tree.root)
    const image = store.pages.get(tree.root.address) as Buffer
    image[20] = (image[20] as number) ^ 0xff
    expect(() => store.loadNode(tree.root.address)).toThrow(expect.objectContaining({ code: 'LEVEL_CORRUPTION' }))
  })

  it('a page probe is a key in the page range, read without decoding the page', () => {
    const store = new MapStore(512)
    const tree = new Tree(store, store)
    expect(store.write(tree.root)).toBe(1)
    expect(pageProbe(store.pages.get(tree.root.address) as Buffer, 'map', 0)).toEqual(Buffer.alloc(0))
    for (let i = 0; i < 2000; i++) tree.put(key(i), Buffer.alloc(i % 50, i))
    store.write(tree.root)
    let branches = 0
    for (const [address, image] of store.pages) {
      const node = decodeNode(image, address as PageAddress, 0, 'map', address)
      if (keyCount(node) === 0) continue
      if (!node.leaf) branches++
      expect(pageProbe(image, 'map', address)).toEqual(node.leaf ? leafKey(node, 0) : node.keys[0])
    }
    expect(branches).toBeGreaterThan(1)
    const image = store.pages.get(tree.root.address) as Buffer
    expect(() => pageProbe(image.subarray(0, 10), 'map', 0)).toThrow(expect.objectContaining({ code: 'LEVEL_CORRUPTION' }))
    expect(() => pageProbe(image.subarray(0, 20), 'map', 0)).toThrow(expect.objectContaining({ code: 'LEVEL_CORRUPTION' }))
  })

  it('relocates the pages it is asked to, reading in branches and, of the leaves, the leftmost and those it picks', () => {
    const picks: [string, (address: number, root: number) => boolean][] = [
      ['none', () => false],
      ['every third page', (a) => a % 3 === 0],
      ['the root only', (a, root) => a === root],
      ['every page', () => true],
    ]
    for (const [what, pick] of picks) {
      const store = new MapStore(512)
      const written = new Tree(store, store)
      for (let i = 0; i < 2000; i++) written.put(key(i), Buffer.alloc(i % 50, i))
      store.write(written.root)
      const rootAddress = written.root.address
      // What each page is, read straight from the store.
      const leaves = new Set<number>()
      for (const [address, image] of store.pages) if (decodeNode(image, address as PageAddress, 0, 'map', address).leaf) leaves.add(address)
      const picked = [...store.pages.keys()].filter((a) => pick(a, rootAddress)).sort((a, b) => a - b)
      // A tree opened from its pages: nothing below the root is in memory yet.
      const tree = new Tree(store, store)
      tree.adoptRoot(store.loadNode(rootAddress))
      store.loads.length = 0
      const moved = tree.relocatePages((a) => pick(a, rootAddress))
      expect(moved.map((p) => p.address).sort((a, b) => a - b), what).toEqual(picked)
      for (const p of moved) expect(p.bytes, what).toBe((store.pages.get(p.address) as Buffer).length)
      // The leftmost leaf is read in to learn the tree's height; no other leaf unless picked.
      let leftmost: PageAddress = rootAddress
      for (let n = store.loadNode(leftmost); !n.leaf; n = store.loadNode(leftmost)) leftmost = n.children[0] as PageAddress
      expect(store.loads.filter((a) => leaves.has(a) && a !== leftmost && !pick(a, rootAddress)), `${what}: leaves read in but not picked`).toEqual([])
      expect(entries(new Cursor(store, tree.root)), what).toEqual(entries(new Cursor(store, written.root)))
      // Writing the tree again moves every picked page: none of them is reachable afterwards.
      store.write(tree.root)
      const reachable = new Set<number>()
      const visit = (address: number) => {
        reachable.add(address)
        const node = decodeNode(store.pages.get(address) as Buffer, address as PageAddress, 0, 'map', address)
        if (!node.leaf) for (const child of node.children) visit(typeof child === 'number' ? child : child.address)
      }
      visit(tree.root.address)
      expect(picked.filter((a) => reachable.has(a)), what).toEqual([])
      expect(checkTree(store, tree.root).problems, what).toEqual([])
    }
  })

  it('a node copied for a write keeps finding keys after the original changes', () => {
    const store = new MapStore(512)
    const tree = new Tree(store, store)
    for (let i = 0; i < 2000; i += 2) tree.put(key(i), Buffer.from('a'))
    store.write(tree.root)
    for (let i = 0; i < 2000; i += 2) expect(tree.get(key(i))).toEqual(Buffer.from('a'))
    const frozen = tree.freeze()
    for (let i = 1; i < 2000; i += 2) tree.put(key(i), Buffer.from('b'))
    for (let i = 0; i < 2000; i += 4) tree.del(key(i))
    for (let i = 0; i < 2000; i++) expect(tree.get(key(i))?.toString()).toBe(i % 4 === 0 ? undefined : i % 2 ? 'b' : 'a')
    expect(entries(new Cursor(store, frozen))).toEqual(Array.from({ length: 1000 }, (_, i) => key(2 * i).toString()))
    expect(checkTree(store, tree.root).problems).toEqual([])
  })

  it('copies hand out keys and values the reader owns, out-of-line values read', () => {
    const store = new MapStore(4096)
    const tree = new Tree(store, store)
    for (let i = 0; i < 2000; i++) {
      if (i % 7 === 0) {
        const address = store.next++
        store.values.set(address, Buffer.from(`far value ${i}`))
        tree.put(key(i), { address, length: `far value ${i}`.length })
      } else {
        tree.put(key(i), Buffer.from(`value ${i}`))
      }
    }
    store.write(tree.root)
    const expected = Array.from({ length: 2000 }, (_, i) => [key(i).toString(), i % 7 === 0 ? `far value ${i}` : `value ${i}`])
    const got = new Cursor(store, tree.root).copies(Number.POSITIVE_INFINITY)
    expect(got.map(([k, v]) => [k.toString(), v.toString()])).toEqual(expected)
    for (const [k, v] of got) {
      k.fill(0)
      v.fill(0)
    }
    const again = new Cursor(store, tree.root).copies(Number.POSITIVE_INFINITY)
    expect(again.map(([k, v]) => [k.toString(), v.toString()])).toEqual(expected)
  })

  it('rejects keys longer than the page allows with a RangeError', () => {
    const store = new MapStore(4096)
    const tree = new Tree(store, store)
    expect(() => tree.put(Buffer.alloc(1025), Buffer.alloc(1))).toThrow(RangeError)
    expect(() => tree.put(Buffer.alloc(1025), Buffer.alloc(1))).toThrow(expect.objectContaining({ code: 'STRATA_KEY_TOO_LARGE' }))
    tree.put(Buffer.alloc(1024, 1), Buffer.alloc(1))
    expect(tree.get(Buffer.alloc(1024, 1))).toEqual(Buffer.alloc(1))
  })

  it('agrees with a sorted-map model under random puts, deletes, spills and range scans', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('put' as const), k: fc.integer({ min: 0, max: 300 }), v: fc.nat(40) }),
      fc.record({ kind: fc.constant('del' as const), k: fc.integer({ min: 0, max: 300 }) }),
      fc.record({ kind: fc.constant('spill' as const) }),
      fc.record({ kind: fc.constant('freeze' as const) }),
    )
    const bound = fc.option(fc.integer({ min: -5, max: 305 }), { nil: undefined })
    const range = fc.record({
      lo: bound,
      hi: bound,
      loEx: fc.boolean(),
      hiEx: fc.boolean(),
      reverse: fc.boolean(),
      limit: fc.option(fc.nat(50), { nil: undefined }),
      copies: fc.integer({ min: 1, max: 80 }),
    })
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400 }), fc.array(range, { maxLength: 5 }), (ops, ranges) => {
        const store = new MapStore(256)
        const tree = new Tree(store, store)
        const model = new Map<string, string>()
        for (const o of ops) {
          if (o.kind === 'put') {
            const value = 'x'.repeat(o.v)
            tree.put(key(o.k), Buffer.from(value))
            model.set(key(o.k).toString(), value)
          } else if (o.kind === 'del') {
            expect(tree.del(key(o.k))).toBe(model.delete(key(o.k).toString()))
          } else if (o.kind === 'spill') {
            store.write(tree.root)
          } else {
            tree.freeze()
          }
        }
        expect(checkTree(store, tree.root).problems).toEqual([])
        const sorted = [...model.keys()].sort()
        for (const r of ranges) {
          const options: Range = { reverse: r.reverse, limit: r.limit }
          if (r.lo !== undefined) options[r.loEx ? 'gt' : 'gte'] = key(r.lo)
          if (r.hi !== undefined) options[r.hiEx ? 'lt' : 'lte'] = key(r.hi)
          let expected = sorted.filter((k) => {
            if (options.gt && k <= options.gt.toString()) return false
            if (options.gte && k < options.gte.toString()) return false
            if (options.lt && k >= options.lt.toString()) return false
            if (options.lte && k > options.lte.toString()) return false
            return true
          })
          if (r.reverse) expected.reverse()
          if (r.limit !== undefined) expected = expected.slice(0, r.limit)
          expect(entries(new Cursor(store, tree.root, options))).toEqual(expected)
          // The same walk in copies of up to `r.copies` entries at a time, one entry between them.
          const walk = new Cursor(store, tree.root, options)
          const copied: [string, string][] = []
          for (;;) {
            const batch = walk.copies(r.copies)
            copied.push(...batch.map(([k, v]): [string, string] => [k.toString(), v.toString()]))
            // Whatever the reader does to its copies, the tree does not see it.
            for (const [k, v] of batch) {
              k.fill(0xff)
              v.fill(0xff)
            }
            if (batch.length < r.copies) break
            const one = walk.next()
            if (!one) break
            copied.push([one[0].toString(), one[1].toString()])
          }
          expect(copied).toEqual(expected.map((k) => [k, model.get(k)]))
        }
        for (const [k, v] of model) expect(tree.get(Buffer.from(k))?.toString()).toBe(v)
      }),
      { numRuns: 300 },
    )
  })
})

describe('BatchUndo', () => {
  it('tells what each key of a batch held before it, and takes the batch back out, over 300 random batches', () => {
    const op = fc.record({ del: fc.boolean(), k: fc.nat(399), size: fc.nat(60) })
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), fc.array(op, { minLength: 1, maxLength: 200 }), (load, batch) => {
        const store = new MapStore(256)
        const tree = new Tree(store, store)
        const model = new Map<string, string>()
        const value = (i: number, size: number, tag: string) => Buffer.from(`${tag}${i}:`.padEnd(size, '.'))
        for (const [i, { del, k, size }] of load.entries()) {
          if (del) {
            tree.del(key(k))
            model.delete(key(k).toString())
          } else {
            tree.put(key(k), value(i, size, 'load'))
            model.set(key(k).toString(), value(i, size, 'load').toString())
          }
        }
        if (load.length % 2 === 0) store.write(tree.root)
        const bytesBefore = tree.dataBytes
        // In key order, a key's own operations in batch order, as an engine applies a batch.
        const sorted = batch.map((o, i) => ({ ...o, i })).sort((a, b) => a.k - b.k || a.i - b.i)
        const undo = new BatchUndo(tree)
        expect(undo.dataBytesBefore).toBe(bytesBefore)
        for (const { del, k, size, i } of sorted) {
          if (del) tree.del(key(k))
          else tree.put(key(k), value(i, size, 'batch'))
          undo.note(key(k))
        }
        for (let k = 0; k < 400; k++) {
          const written = batch.some((o) => o.k === k)
          expect(undo.has(key(k))).toBe(written)
          if (written) expect((undo.before(key(k)) as Buffer | undefined)?.toString()).toBe(model.get(key(k).toString()))
        }
        undo.restore(() => undefined)
        expect(checkTree(store, tree.root).problems).toEqual([])
        expect(tree.dataBytes).toBe(bytesBefore)
        expect(entries(new Cursor(store, tree.root, {}))).toEqual([...model.keys()].sort())
        for (const [k, v] of model) expect(tree.get(Buffer.from(k))?.toString()).toBe(v)
      }),
      { numRuns: 300 },
    )
  })

  it('refuses a batch applied out of key order', () => {
    const store = new MapStore(256)
    const tree = new Tree(store, store)
    const undo = new BatchUndo(tree)
    tree.put(key(2), Buffer.from('b'))
    undo.note(key(2))
    tree.put(key(1), Buffer.from('a'))
    expect(() => undo.note(key(1))).toThrow('out of key order')
  })
})
