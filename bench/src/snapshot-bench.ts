/**
 * The snapshot benchmark: what named snapshots cost on the redirect-on-write engine at 1,000 keys
 * and at 1,000,000, and how much of the tree a diff of two snapshots reads.
 *
 *   pnpm bench:snapshots [--keys 1000000] [--rounds 5] [--dir /tmp] [--out bench/results/snapshots.json]
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { parseArgs } from 'node:util'
import { RowEngine } from '@strata/row-engine'
import { NodeFileSystem } from '@strata/storage'
import { benchKey, benchValue, median, random } from './harness.js'
import { removeFolder } from './stores.js'

const { values: args } = parseArgs({
  options: {
    keys: { type: 'string', default: '1000000' },
    rounds: { type: 'string', default: '5' },
    dir: { type: 'string', default: tmpdir() },
    out: { type: 'string', default: 'bench/results/snapshots.json' },
  },
})
const KEYS = Number(args.keys)
const ROUNDS = Number(args.rounds)
const CHANGED = 100

async function loaded(dir: string, keys: number): Promise<RowEngine> {
  const engine = await RowEngine.open({ fs: new NodeFileSystem(dir, { create: true }) })
  for (let at = 0; at < keys; at += 10_000) {
    const n = Math.min(10_000, keys - at)
    await engine.write(
      Array.from({ length: n }, (_, i) => ({ type: 'put' as const, key: benchKey(at + i), value: benchValue(at + i, 0) })),
      { sync: at + n >= keys },
    )
  }
  return engine
}

/** Median ms of creating (and deleting) a named snapshot; each create is durable (one fsync). */
async function namedCreateMs(engine: RowEngine): Promise<number[]> {
  const out: number[] = []
  for (let i = 0; i < ROUNDS * 4; i++) {
    const start = process.hrtime.bigint()
    await engine.createSnapshot(`bench-${i}`)
    out.push(Number(process.hrtime.bigint() - start) / 1e6)
    await engine.deleteSnapshot(`bench-${i}`)
  }
  return out
}

/** Page reads (each page is read as header, then body) since the last reset. */
function pageReads(fs: NodeFileSystem): number {
  return fs.io.report().bytesRead.page > 0 ? Math.round(fs.io.reads / 2) : 0
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(args.dir, 'strata-snapshot-bench-'))
  try {
    const smallDir = join(root, 'small')
    const largeDir = join(root, 'large')
    const small = await loaded(smallDir, 1000)
    console.log(`loading ${KEYS.toLocaleString()} keys…`)
    let large = await loaded(largeDir, KEYS)
    // Alternate, so machine noise falls on both sizes alike.
    const smallMs: number[] = []
    const largeMs: number[] = []
    for (let r = 0; r < ROUNDS; r++) {
      smallMs.push(...(await namedCreateMs(small)))
      largeMs.push(...(await namedCreateMs(large)))
    }
    await small.close()

    // Two snapshots CHANGED keys apart, read back cold: every page the diff needs is a read.
    await large.createSnapshot('a')
    const rand = random(31)
    await large.write(Array.from({ length: CHANGED }, () => ({ type: 'put' as const, key: benchKey(Math.floor(rand() * KEYS)), value: Buffer.from('changed') })))
    await large.createSnapshot('b')
    await large.close()
    let fs = new NodeFileSystem(largeDir)
    large = await RowEngine.open({ fs })
    fs.io.reset()
    const cost = { pagesRead: 0, nodesExpanded: 0, subtreesSkipped: 0 }
    const [a, b] = [large.openSnapshot('a'), large.openSnapshot('b')]
    let changes = 0
    for (const _ of large.diff(a, b, cost)) changes++
    a.release()
    b.release()
    const diffReads = pageReads(fs)
    await large.close()
    // The whole tree, for scale: a cold full scan reads every page once.
    fs = new NodeFileSystem(largeDir)
    large = await RowEngine.open({ fs })
    fs.io.reset()
    const cursor = large.iterate()
    while (cursor.next()) {}
    cursor.close()
    const treeReads = pageReads(fs)
    await large.close()

    const result = {
      date: new Date().toISOString(),
      node: process.version,
      keys: KEYS,
      rounds: ROUNDS,
      namedCreateMs: { small: median(smallMs), large: median(largeMs), ratio: median(largeMs) / median(smallMs) },
      diff: { changedKeys: CHANGED, changes, pagesRead: diffReads, treePages: treeReads, share: diffReads / treeReads, nodesExpanded: cost.nodesExpanded, subtreesSkipped: cost.subtreesSkipped },
    }
    console.log(
      `named snapshot create (durable): ${result.namedCreateMs.small.toFixed(3)} ms at 1,000 keys, ${result.namedCreateMs.large.toFixed(3)} ms at ${KEYS.toLocaleString()} keys (ratio ${result.namedCreateMs.ratio.toFixed(2)})`,
    )
    console.log(
      `diff of two snapshots ${CHANGED} keys apart at ${KEYS.toLocaleString()} keys: ${changes} changes, ${diffReads} page reads of a ${treeReads}-page tree (${((100 * diffReads) / treeReads).toFixed(2)}%)`,
    )
    mkdirSync(dirname(args.out), { recursive: true })
    writeFileSync(args.out, `${JSON.stringify(result, null, 2)}\n`)
    console.log(`results written to ${args.out}`)
  } finally {
    removeFolder(root)
  }
}

await main()
