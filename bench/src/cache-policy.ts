/**
 * The page cache's replacement policy, chosen by measurement: LRU, CLOCK and S3-FIFO (the
 * PageCache both engines use) replay the page reads of a B+tree of 200,000 keys (a leaf per 36
 * entries, as 16-byte keys and 100-byte values fill 4 KiB pages) under uniform point reads, zipfian
 * point reads, and zipfian reads with full scans among them, at a cache of a tenth of the tree.
 * Prints the hit ratios and writes them as JSON (docs/architecture.md §The page cache cites them).
 *
 *   node bench/dist/cache-policy.js [--out bench/results/cache-policy.json]
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { parseArgs } from 'node:util'
import { type Node, type PageAddress, PageCache } from '@strata/btree'
import { random, table } from './harness.js'
import { Zipfian } from './zipfian.js'

const { values: args } = parseArgs({ options: { out: { type: 'string', default: 'bench/results/cache-policy.json' } } })

const KEYS = 200_000
const PER_LEAF = 36
const PER_BRANCH = 190
const LEAVES = Math.ceil(KEYS / PER_LEAF)
const BRANCHES = Math.ceil(LEAVES / PER_BRANCH)
const READS = 400_000
/** A full scan among the zipfian reads after every this many of them. */
const SCAN_EVERY = 20_000

/** A page of the simulated tree: as PageCache charges it, a 4 KiB image with its entries. */
function page(leaf: boolean): Node {
  const count = leaf ? PER_LEAF : PER_BRANCH
  return (leaf ? { leaf, off: new Array(count), bytes: 4000 } : { leaf, keys: new Array(count), bytes: 4000 }) as unknown as Node
}
const LEAF = page(true)
const BRANCH = page(false)
const nodeAt = (address: number) => (address < BRANCHES ? BRANCH : LEAF)

/** The pages a read of key rank `k` touches below the root (held by the tree): its branch, its leaf. */
function* pointRead(k: number): Generator<number> {
  const leaf = Math.floor(k / PER_LEAF)
  yield Math.floor(leaf / PER_BRANCH)
  yield BRANCHES + leaf
}

function* scan(): Generator<number> {
  for (let b = 0; b < BRANCHES; b++) {
    yield b
    for (let l = b * PER_BRANCH; l < Math.min(LEAVES, (b + 1) * PER_BRANCH); l++) yield BRANCHES + l
  }
}

/** A policy under test: a read is a hit, or a miss after which the page is admitted. */
interface Policy {
  read(address: number): boolean
}

class S3Fifo implements Policy {
  readonly #cache: PageCache
  constructor(budget: number) {
    this.#cache = new PageCache(budget)
  }
  read(address: number): boolean {
    if (this.#cache.get(address as PageAddress)) return true
    this.#cache.admit(address as PageAddress, nodeAt(address))
    return false
  }
}

class Lru implements Policy {
  readonly #pages = new Map<number, number>()
  #bytes = 0
  constructor(readonly budget: number) {}
  read(address: number): boolean {
    const cost = this.#pages.get(address)
    if (cost !== undefined) {
      this.#pages.delete(address)
      this.#pages.set(address, cost)
      return true
    }
    const added = costOf(address)
    this.#pages.set(address, added)
    this.#bytes += added
    for (const [oldest, bytes] of this.#pages) {
      if (this.#bytes <= this.budget) break
      this.#pages.delete(oldest)
      this.#bytes -= bytes
    }
    return false
  }
}

class Clock implements Policy {
  readonly #referenced = new Map<number, boolean>()
  readonly #ring: number[] = []
  #hand = 0
  #bytes = 0
  constructor(readonly budget: number) {}
  read(address: number): boolean {
    if (this.#referenced.has(address)) {
      this.#referenced.set(address, true)
      return true
    }
    const added = costOf(address)
    while (this.#bytes + added > this.budget && this.#ring.length > 0) {
      if (this.#hand >= this.#ring.length) this.#hand = 0
      const at = this.#ring[this.#hand] as number
      if (this.#referenced.get(at)) {
        this.#referenced.set(at, false)
        this.#hand++
        continue
      }
      this.#referenced.delete(at)
      this.#ring.splice(this.#hand, 1)
      this.#bytes -= costOf(at)
    }
    this.#ring.splice(this.#hand, 0, address)
    this.#hand++
    this.#referenced.set(address, false)
    this.#bytes += added
    return false
  }
}

function costOf(address: number): number {
  const node = nodeAt(address) as unknown as { bytes: number; off?: unknown[]; keys?: unknown[] }
  return node.bytes + 200 + (node.off ? node.off.length * 24 : (node.keys as unknown[]).length * 96)
}

/** A key rank drawn by a workload; zipfian ranks are spread over the key space, as hot keys are in a real one. */
type Draw = () => number

function spread(rank: number): number {
  return Number((BigInt(rank) * 2654435761n) % BigInt(KEYS))
}

const workloads: Record<string, { draw: () => Draw; scans: boolean }> = {
  uniform: { draw: () => ((r) => () => Math.floor(r() * KEYS))(random(11)), scans: false },
  zipfian: { draw: () => ((z) => () => spread(z.next()))(new Zipfian(KEYS, random(12))), scans: false },
  'zipfian + scans': { draw: () => ((z) => () => spread(z.next()))(new Zipfian(KEYS, random(13))), scans: true },
}

const policies: Record<string, (budget: number) => Policy> = {
  LRU: (budget) => new Lru(budget),
  CLOCK: (budget) => new Clock(budget),
  'S3-FIFO': (budget) => new S3Fifo(budget),
}

const treeBytes = BRANCHES * costOf(0) + LEAVES * costOf(BRANCHES)
const results: { workload: string; policy: string; cacheShare: number; pointHitRatio: number }[] = []
for (const cacheShare of [0.05, 0.1, 0.25]) {
  const budget = Math.round(treeBytes * cacheShare)
  for (const [workload, { draw, scans }] of Object.entries(workloads)) {
    for (const [name, make] of Object.entries(policies)) {
      const policy = make(budget)
      const next = draw()
      let hits = 0
      let reads = 0
      for (let i = 0; i < READS; i++) {
        if (scans && i > 0 && i % SCAN_EVERY === 0) for (const address of scan()) policy.read(address)
        // Point reads only count: what a scan does to them is the question.
        for (const address of pointRead(next())) {
          reads++
          if (policy.read(address)) hits++
        }
      }
      results.push({ workload, policy: name, cacheShare, pointHitRatio: hits / reads })
    }
  }
}

console.log(`A tree of ${BRANCHES} branches and ${LEAVES} leaves below its root, ${READS.toLocaleString()} point reads per run`)
console.log(
  table(
    ['cache', 'workload', ...Object.keys(policies)],
    [...new Set(results.map((r) => `${r.cacheShare}|${r.workload}`))].map((cell) => {
      const [share, workload] = cell.split('|') as [string, string]
      const row = results.filter((r) => `${r.cacheShare}|${r.workload}` === cell)
      return [`${Number(share) * 100}%`, workload, ...row.map((r) => `${(r.pointHitRatio * 100).toFixed(1)}%`)]
    }),
  ),
)
mkdirSync(dirname(args.out), { recursive: true })
writeFileSync(args.out, `${JSON.stringify({ keys: KEYS, leaves: LEAVES, branches: BRANCHES, reads: READS, scanEvery: SCAN_EVERY, results }, null, 2)}\n`)
