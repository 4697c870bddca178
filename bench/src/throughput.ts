/**
 * Throughput with benny, side by side in one run: point reads, batches of 1,000 random overwrites
 * (durable and not), range scans of 1,000 entries, full scans and point reads at a snapshot taken
 * before the writes, on Strata (both engines, through the engine and through StrataLevel), lmdb, LevelDB
 * (classic-level) and memory-level, on the same keys and values. One store is open at a time, so
 * no store pays for another's memory or garbage.
 *
 *   pnpm bench:throughput [--quick] [--keys 1000000] [--dir /tmp] [--out bench/results/throughput.json]
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import type { Operation } from '@strata/btree'
import b from 'benny'
import { benchKey, formatRate, random, table } from './harness.js'
import { partProgress } from './progress.js'
import { type RunRecord, runRecord, writeJson } from './result-file.js'
import { removeFolder } from './stores.js'
import { entriesPerCall, loadStore, OPERATIONS, type OperationName, openThroughputStore, THROUGHPUT_STORES, type ThroughputName, type ThroughputStore } from './throughput-stores.js'
import { incompressibleValue } from './workloads.js'

/** benny's figures for one store and operation. */
export interface ThroughputCase {
  store: ThroughputName
  operation: OperationName
  reads: ThroughputStore['reads']
  /** Calls per second (from benny's mean time per call); entries per second is this × entriesPerCall. */
  callsPerSecond: number
  entriesPerSecond: number
  /** Relative margin of error, percent. */
  margin: number
  samples: number
  /** Seconds per call of each sample, as benny measured them. */
  sampleSeconds: number[]
}

/** The throughput benchmark's results file. */
export interface ThroughputResults extends RunRecord {
  benchmark: 'throughput'
  keys: number
  valueBytes: number
  /** benny's settings: `maxTime` per case, `batchMaxTime` for the durable-batch case. */
  benny: { minSamples: number; maxTime: number; batchMaxTime: number }
  /** Seconds each store took to load, in batches of 1,000 (only the last one durable). */
  loadSeconds: Partial<Record<ThroughputName, number>>
  cases: ThroughputCase[]
}

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    keys: { type: 'string' },
    dir: { type: 'string', default: tmpdir() },
    out: { type: 'string', default: 'bench/results/throughput.json' },
  },
})

/** A ring of inputs made before the clock starts; each call takes the next. */
function ring<T>(items: T[]): () => T {
  let i = 0
  return () => items[i++ % items.length] as T
}

/** Runs benny's suite over one loaded store. */
async function timeStore(store: ThroughputStore, keys: number, benny: ThroughputResults['benny']): Promise<ThroughputCase[]> {
  const rand = random(2024)
  const readKey = ring(Array.from({ length: 65_536 }, () => benchKey(Math.floor(rand() * keys))))
  let round = 1
  const batch = ring(
    Array.from({ length: 64 }, () =>
      Array.from({ length: 1000 }, (): Operation => {
        const i = Math.floor(rand() * keys)
        return { type: 'put', key: benchKey(i), value: incompressibleValue(i, round++, 100) }
      }),
    ),
  )
  const scanStart = ring(Array.from({ length: 4096 }, () => benchKey(Math.floor(rand() * keys))))
  // The snapshot is taken before the writes, so its reads find versions the writes replaced.
  store.takeSnapshot()
  const sync = store.reads === 'sync'
  const get = (key: Buffer) => {
    if (store.get(key) === undefined) throw new Error(`${store.name}: missing key`)
  }
  const getAsync = async (key: Buffer) => {
    if ((await store.get(key)) === undefined) throw new Error(`${store.name}: missing key`)
  }
  const snapGet = (key: Buffer) => {
    if (store.getAtSnapshot(key) === undefined) throw new Error(`${store.name}: missing key at the snapshot`)
  }
  const snapGetAsync = async (key: Buffer) => {
    if ((await store.getAtSnapshot(key)) === undefined) throw new Error(`${store.name}: missing key at the snapshot`)
  }
  // A full scan must see every key: a short one would time less than it claims.
  const all = (n: number) => {
    if (n !== keys) throw new Error(`${store.name}: a full scan saw ${n} of ${keys} keys`)
  }
  const scan = store.scan(scanStart(), 1000)
  const scanIsSync = typeof scan === 'number'
  await scan
  const summary = await b.suite(
    store.name,
    b.add('point read', () => (sync ? () => get(readKey()) : () => getAsync(readKey()))),
    // A durable batch case runs long enough to span a checkpoint of a million-key database
    // (about a million puts), so its figure weighs checkpoints as a steady stream of writes does.
    b.add('durable batch', () => () => store.write(batch(), true), { maxTime: benny.batchMaxTime }),
    b.add('non-durable batch', () => () => store.write(batch(), false)),
    b.add('range scan', () => (scanIsSync ? () => store.scan(scanStart(), 1000) : async () => void (await store.scan(scanStart(), 1000)))),
    b.add('full scan', () => (scanIsSync ? () => all(store.scanAll() as number) : async () => all(await store.scanAll()))),
    b.add('snapshot read', () => (sync ? () => snapGet(readKey()) : () => snapGetAsync(readKey()))),
    b.configure({ cases: { minSamples: benny.minSamples, maxTime: benny.maxTime, delay: 0.01 } }),
    b.cycle(() => undefined),
    b.complete(() => undefined),
  )
  await store.releaseSnapshot()
  return summary.results.map((r) => {
    const operation = r.name as OperationName
    // benny rounds `ops` to whole calls per second, which reads 0 for a call slower than two
    // seconds (a full scan of level): the mean time per call is what it rounds.
    const callsPerSecond = r.details.mean > 0 ? 1 / r.details.mean : r.ops
    return {
      store: store.name,
      operation,
      reads: store.reads,
      callsPerSecond,
      entriesPerSecond: callsPerSecond * entriesPerCall(operation, keys),
      margin: r.margin,
      samples: r.samples,
      sampleSeconds: r.details.sampleResults,
    }
  })
}

async function main(): Promise<void> {
  const quick = args.quick === true
  const keys = Number(args.keys ?? (quick ? 2000 : 1_000_000))
  const benny = quick ? { minSamples: 2, maxTime: 0.05, batchMaxTime: 0.05 } : { minSamples: 5, maxTime: 3, batchMaxTime: 15 }
  const root = mkdtempSync(join(args.dir as string, 'strata-throughput-'))
  const progress = partProgress()
  console.log(`throughput (benny): ${keys.toLocaleString('en-US')} keys of 16 bytes, 100-byte values; ${THROUGHPUT_STORES.join(', ')}`)
  progress.stage('throughput: stores', THROUGHPUT_STORES.length)
  const cases: ThroughputCase[] = []
  const loadSeconds: Partial<Record<ThroughputName, number>> = {}
  try {
    for (const name of THROUGHPUT_STORES) {
      const dir = join(root, name.replace(/\W+/g, '-'))
      const store = await openThroughputStore(name, dir)
      try {
        loadSeconds[name] = await loadStore(store, keys)
        ;(globalThis as { gc?: () => void }).gc?.()
        cases.push(...(await timeStore(store, keys, benny)))
      } finally {
        await store.close()
        removeFolder(dir)
      }
      progress.tick()
    }
  } finally {
    removeFolder(root)
    progress.stop()
  }
  report(cases)
  const results: ThroughputResults = { benchmark: 'throughput', ...runRecord(quick), keys, valueBytes: 100, benny, loadSeconds, cases }
  writeJson(args.out as string, results)
  console.log(`\nwrote ${args.out}`)
}

function report(cases: ThroughputCase[]): void {
  console.log('\nentries per second (benny), by operation and store')
  console.log(
    table(
      ['', ...THROUGHPUT_STORES],
      OPERATIONS.map((op) => [op, ...THROUGHPUT_STORES.map((s) => formatRate(cases.find((c) => c.store === s && c.operation === op)?.entriesPerSecond))]),
    ),
  )
}

await main()
