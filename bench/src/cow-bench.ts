/**
 * The copy-before-write benchmark: what live snapshots cost a workload that overwrites every page
 * once. For k = 0, 1, 2, 4, 8, 16 live snapshots it loads a database of N keys, reopens it (so
 * nothing is cached and every page is on disk), takes k snapshots, overwrites every key once in
 * key order in batches, and checkpoints; then it prints bytes written per user byte for the COW
 * engine with per-snapshot stores, with the shared store, and for the ROW engine beside them, and
 * the extra page reads and writes of the first overwrite of a page after a snapshot. The byte
 * counters are exact and deterministic (in-memory files, the same workload every run), so one run
 * is the distribution. Writes the figures as JSON.
 *
 *   pnpm bench:cow [--keys 20000] [--value 100] [--page 4096] [--batch 1000] [--out bench/results/cow.json]
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { parseArgs } from 'node:util'
import type { Engine, Operation } from '@strata/btree'
import { CowEngine, type StoreMode } from '@strata/cow-engine'
import { RowEngine } from '@strata/row-engine'
import { type IoReport, MemoryFileSystem } from '@strata/storage'
import { benchKey, benchValue, random, table } from './harness.js'
import { partProgress } from './progress.js'

const { values: args } = parseArgs({
  options: {
    keys: { type: 'string', default: '20000' },
    value: { type: 'string', default: '100' },
    page: { type: 'string', default: '4096' },
    batch: { type: 'string', default: '1000' },
    out: { type: 'string', default: 'bench/results/cow.json' },
  },
})
const KEYS = Number(args.keys)
const VALUE_BYTES = Number(args.value)
const PAGE_SIZE = Number(args.page)
const BATCH = Number(args.batch)
const SNAPSHOTS = [0, 1, 2, 4, 8, 16]
/** No checkpoint until the benchmark asks for one: the overwrite pass then rewrites each page once. */
const MANUAL = { minLogBytes: 2 ** 40, maxLogBytes: 2 ** 40 }

type Variant = 'cow-per-snapshot' | 'cow-shared' | 'row'

/** What one run of the overwrite pass cost. */
interface Run {
  variant: Variant
  snapshots: number
  /** Pages of the database before the pass (meta pages and free pages left out for COW). */
  pages: number
  userBytes: number
  bytesWritten: number
  writeAmplification: number
  byPurpose: IoReport['bytesWritten']
  /** Extra page reads per page overwritten: reads of old contents to copy them. */
  extraReadsPerPage: number
  /** Extra page writes per page overwritten: pre-image copies written. */
  extraWritesPerPage: number
  /** Bytes the snapshots' pre-images take after the pass. */
  preimageBytes: number
}

function open(variant: Variant, fs: MemoryFileSystem): Promise<Engine> {
  if (variant === 'row') return RowEngine.open({ fs, pageSize: PAGE_SIZE, checkpoint: MANUAL })
  const store: StoreMode = variant === 'cow-shared' ? 'shared' : 'per-snapshot'
  return CowEngine.open({ fs, store, pageSize: PAGE_SIZE, checkpoint: MANUAL })
}

/** Every key once, in batches: in key order, or shuffled (as a database fills in practice). */
function pass(round: number, order: 'sorted' | 'shuffled'): Operation[][] {
  const keys = Array.from({ length: KEYS }, (_, i) => i)
  if (order === 'sorted') {
    // Each key made once, not once per comparison.
    const byIndex = keys.map((i) => benchKey(i))
    keys.sort((a, b) => Buffer.compare(byIndex[a] as Buffer, byIndex[b] as Buffer))
  } else {
    const rand = random(7)
    for (let i = keys.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1))
      ;[keys[i], keys[j]] = [keys[j] as number, keys[i] as number]
    }
  }
  const batches: Operation[][] = []
  for (let at = 0; at < KEYS; at += BATCH) {
    batches.push(keys.slice(at, at + BATCH).map((i) => ({ type: 'put', key: benchKey(i), value: benchValue(i, round, VALUE_BYTES) })))
  }
  return batches
}

async function measure(variant: Variant, k: number): Promise<Run> {
  const fs = new MemoryFileSystem()
  let engine = await open(variant, fs)
  for (const batch of pass(0, 'shuffled')) await engine.write(batch)
  // Closing checkpoints; reopening starts with every page on disk and none in memory.
  await engine.close()
  engine = await open(variant, fs)
  const before = engine.stats()
  // The COW engine's tree pages: all pages but the meta area's and the free ones.
  const pages = variant === 'row' ? 0 : (before.pageCount as number) - Math.ceil(1024 / PAGE_SIZE) - (before.freePages as number)
  const snapshots = Array.from({ length: k }, () => engine.snapshot())
  const overwrites = pass(1, 'sorted')
  fs.io.reset()
  for (const batch of overwrites) await engine.write(batch)
  // COW checkpoints with the snapshots live, so the pre-images are made; ROW's closing checkpoint
  // writes its pages (its snapshots cost no writes).
  if (engine instanceof CowEngine) await engine.checkpoint()
  const preimageBytes = (engine.stats().preimageBytes as number | undefined) ?? 0
  await engine.close()
  for (const s of snapshots) s.release()
  const io = fs.io.report()
  const perPage = (bytes: number) => (pages === 0 ? 0 : bytes / PAGE_SIZE / pages)
  return {
    variant,
    snapshots: k,
    pages,
    userBytes: io.userBytes,
    bytesWritten: io.totalWritten,
    writeAmplification: io.writeAmplification,
    byPurpose: io.bytesWritten,
    extraReadsPerPage: perPage(io.bytesRead.preimage),
    extraWritesPerPage: perPage(io.bytesWritten.preimage),
    preimageBytes,
  }
}

async function main(): Promise<void> {
  console.log(`copy-before-write benchmark: ${KEYS.toLocaleString()} keys of 16 bytes, ${VALUE_BYTES}-byte values, ${PAGE_SIZE}-byte pages, batches of ${BATCH}`)
  console.log('workload: load, reopen, take k snapshots, overwrite every key once in key order, checkpoint\n')
  const runs: Run[] = []
  const progress = partProgress()
  progress.stage('cow: overwrite passes', SNAPSHOTS.length * 3)
  for (const k of SNAPSHOTS) {
    for (const variant of ['cow-per-snapshot', 'cow-shared', 'row'] as const) {
      runs.push(await measure(variant, k))
      progress.tick()
    }
  }
  progress.stop()
  const of = (variant: Variant, k: number) => runs.find((r) => r.variant === variant && r.snapshots === k) as Run
  const x = (n: number) => `${n.toFixed(2)}×`
  const f = (n: number) => n.toFixed(2)
  const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`
  console.log('bytes written per user byte (write amplification) of the overwrite pass and its checkpoint\n')
  console.log(
    table(
      ['snapshots', 'COW per-snapshot', 'COW shared', 'ROW', 'per-snapshot pre-images', 'shared pre-images'],
      SNAPSHOTS.map((k) => [String(k), x(of('cow-per-snapshot', k).writeAmplification), x(of('cow-shared', k).writeAmplification), x(of('row', k).writeAmplification), mib(of('cow-per-snapshot', k).preimageBytes), mib(of('cow-shared', k).preimageBytes)]),
    ),
  )
  console.log(`\nthe first overwrite of a page after the snapshots: extra page reads and writes per overwritten page (${of('cow-shared', 0).pages} pages)\n`)
  console.log(
    table(
      ['snapshots', 'per-snapshot reads', 'per-snapshot writes', 'shared reads', 'shared writes'],
      SNAPSHOTS.map((k) => [String(k), f(of('cow-per-snapshot', k).extraReadsPerPage), f(of('cow-per-snapshot', k).extraWritesPerPage), f(of('cow-shared', k).extraReadsPerPage), f(of('cow-shared', k).extraWritesPerPage)]),
    ),
  )
  const shared0 = of('cow-shared', 0)
  console.log(`\nwhere the bytes go without snapshots (COW): ${Object.entries(shared0.byPurpose).filter(([, n]) => n > 0).map(([p, n]) => `${p} ${mib(n)}`).join(', ')} for ${mib(shared0.userBytes)} of user bytes`)
  const out = args.out as string
  mkdirSync(dirname(out), { recursive: true })
  writeFileSync(out, `${JSON.stringify({ benchmark: 'cow', keys: KEYS, valueBytes: VALUE_BYTES, pageSize: PAGE_SIZE, batch: BATCH, runs }, null, 2)}\n`)
  console.log(`\nwrote ${out}`)
}

await main()
