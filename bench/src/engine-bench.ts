/**
 * The engine benchmark: Strata's redirect-on-write engine beside lmdb, LevelDB (classic-level, as
 * `level` gives it) and memory-level, in one process, on the same keys and values. Prints medians
 * of several rounds and Strata's ratio to each peer, and writes the figures as JSON.
 *
 *   pnpm bench:engine [--keys 1000000] [--rounds 5] [--dir /tmp] [--out bench/results/engine.json]
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir, totalmem } from 'node:os'
import { dirname, join } from 'node:path'
import { parseArgs } from 'node:util'
import { RowEngine } from '@strata/row-engine'
import { MemoryFileSystem } from '@strata/storage'
import { BlockDevice } from './block-device.js'
import { partProgress } from './progress.js'
import { benchKey, benchValue, formatRate, median, random, rate, table } from './harness.js'
import { type BenchStore, LevelStore, LmdbStore, MemoryStore, removeFolder, StrataRowStore } from './stores.js'

const { values: args } = parseArgs({
  options: {
    keys: { type: 'string', default: '1000000' },
    rounds: { type: 'string', default: '5' },
    dir: { type: 'string', default: tmpdir() },
    out: { type: 'string', default: 'bench/results/engine.json' },
    only: { type: 'string' },
  },
})
const KEYS = Number(args.keys)
const ROUNDS = Number(args.rounds)
const BATCH = 1000
const READS_PER_ROUND = Math.min(200_000, KEYS)
/** Durable batches in one timed round: enough that a round spans a few of each store's fsyncs and background steps. */
const DURABLE_BATCHES_PER_ROUND = 20
/** Batches of the write-amplification run: enough overwrites for Strata to pass checkpoints. */
const WA_BATCHES = Math.max(50, Math.round((2 * KEYS) / BATCH))
const PEER_WA_BATCHES = Math.max(50, Math.round((0.3 * KEYS) / BATCH))

/** Figures for one store; rates are ops/s medians of the rounds, with the rounds kept. */
interface StoreResult {
  store: string
  loadSeconds: number
  reads: number[]
  durableBatchPuts: number[]
  scan: number[]
  writeAmplification?: number
  deviceWriteAmplification?: number
  fileBytes?: number
  liveBytes?: number
  spaceAmplification?: number
}

async function load(store: BenchStore): Promise<number> {
  const start = process.hrtime.bigint()
  const order = Array.from({ length: KEYS }, (_, i) => i)
  const rand = random(7)
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1))
    ;[order[i], order[j]] = [order[j] as number, order[i] as number]
  }
  for (let at = 0; at < KEYS; at += BATCH) {
    const slice = order.slice(at, at + BATCH)
    await store.batch(
      slice.map((i) => [benchKey(i), benchValue(i, 0)]),
      at + BATCH >= KEYS,
    )
  }
  return Number(process.hrtime.bigint() - start) / 1e9
}

function overwrites(rand: () => number, round: number): [Buffer, Buffer][] {
  return Array.from({ length: BATCH }, () => {
    const i = Math.floor(rand() * KEYS)
    return [benchKey(i), benchValue(i, round)]
  })
}

async function measure(store: BenchStore, device: BlockDevice): Promise<StoreResult> {
  const result: StoreResult = { store: store.name, loadSeconds: await load(store), reads: [], durableBatchPuts: [], scan: [] }
  const readKeys = Array.from({ length: READS_PER_ROUND }, (_, i) => benchKey(Math.floor(random(1000 + i)() * KEYS)))
  result.reads = await rate(ROUNDS, async () => {
    let found = 0
    if (store.syncGet) for (const key of readKeys) found += store.get(key) === undefined ? 0 : 1
    else for (const key of readKeys) found += (await store.get(key)) === undefined ? 0 : 1
    if (found !== readKeys.length) throw new Error(`${store.name}: ${readKeys.length - found} keys missing`)
    return readKeys.length
  })
  // The batches are made before the clock starts: the figure is the store's, not the harness's.
  // One round more than is timed: the first warms up, as the reads' first round does, and lets
  // work left over from the load (LevelDB's compactions, Strata's checkpoint) settle; the
  // abstract-level benchmark does the same.
  const rand = random(99)
  const rounds = Array.from({ length: ROUNDS + 1 }, (_, r) => Array.from({ length: DURABLE_BATCHES_PER_ROUND }, (_, b) => overwrites(rand, 1 + r * DURABLE_BATCHES_PER_ROUND + b)))
  for (const batch of rounds[0] ?? []) await store.batch(batch, true)
  let round = 1
  result.durableBatchPuts = await rate(ROUNDS, async () => {
    for (const batch of rounds[round++] ?? []) await store.batch(batch, true)
    return DURABLE_BATCHES_PER_ROUND * BATCH
  })
  result.scan = await rate(Math.min(ROUNDS, 3), async () => {
    const n = await store.scan()
    if (n !== KEYS) throw new Error(`${store.name}: scan saw ${n} of ${KEYS} entries`)
    return n
  })
  return result
}

/** Write amplification of durable 1,000-op batches of uniform random overwrites. */
async function writeAmplification(store: BenchStore, device: BlockDevice, result: StoreResult, close: () => Promise<void>): Promise<void> {
  const batches = store instanceof StrataRowStore ? WA_BATCHES : PEER_WA_BATCHES
  const rand = random(4242)
  const userBytes = batches * BATCH * (16 + 100)
  const strata = store instanceof StrataRowStore ? store : undefined
  strata?.fs.io.reset()
  const before = device.bytesWritten()
  for (let b = 0; b < batches; b++) await store.batch(overwrites(rand, 1000 + b), true)
  if (strata) {
    // Count the checkpoint still owed for these writes, so the figure is not flattered.
    await strata.engine.compact()
    const after = device.bytesWritten()
    const io = strata.fs.io.report()
    const ownTotal = io.bytesWritten.log + io.bytesWritten.page + io.bytesWritten.value + io.bytesWritten.meta
    result.writeAmplification = (ownTotal + io.bytesWritten.reclaim) / io.userBytes
    if (before !== undefined && after !== undefined) result.deviceWriteAmplification = (after - before) / userBytes
    const stats = strata.engine.stats()
    result.fileBytes = stats.fileBytes
    result.liveBytes = stats.liveBytes
    result.spaceAmplification = stats.fileBytes / stats.liveBytes
    await close()
    return
  }
  await close()
  const after = device.bytesWritten()
  if (before !== undefined && after !== undefined) result.deviceWriteAmplification = (after - before) / userBytes
}

/**
 * Snapshot creation (and release) time, median ns, on the loaded engine and on one of 1,000 keys.
 * Both are measured in the same process state, in alternating rounds, so heap size and machine
 * noise fall on both alike: what remains is what the database's size costs.
 */
async function snapshotCosts(large: RowEngine): Promise<{ small: number; large: number }> {
  const small = await RowEngine.open({ fs: new MemoryFileSystem() })
  await small.write(Array.from({ length: 1000 }, (_, i) => ({ type: 'put' as const, key: benchKey(i), value: benchValue(i, 0) })))
  const per = (engine: RowEngine) => {
    const start = process.hrtime.bigint()
    for (let i = 0; i < 100_000; i++) engine.snapshot().release()
    return Number(process.hrtime.bigint() - start) / 100_000
  }
  per(small)
  per(large)
  const smallRounds: number[] = []
  const largeRounds: number[] = []
  ;(globalThis as { gc?: () => void }).gc?.()
  for (let round = 0; round < 2 * ROUNDS; round++) {
    smallRounds.push(per(small))
    largeRounds.push(per(large))
  }
  await small.close()
  return { small: median(smallRounds), large: median(largeRounds) }
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(args.dir, 'strata-bench-'))
  const device = new BlockDevice(root)
  const results: StoreResult[] = []
  let snapshotNs: { small: number; large: number } | undefined
  const factories: [string, () => Promise<BenchStore>][] = [
    ['strata-row', () => StrataRowStore.open(join(root, 'strata'))],
    ['lmdb', async () => LmdbStore.open(join(root, 'lmdb'))],
    ['level', () => LevelStore.open(join(root, 'level'))],
    ['memory-level', () => MemoryStore.open()],
  ]
  console.log(`engine benchmark: ${KEYS.toLocaleString()} keys of 16 bytes, 100-byte values, ${ROUNDS} rounds; ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB`)
  console.log(`block device counter: ${device.available ? 'available' : 'not available'}`)
  const progress = partProgress()
  progress.stage('engine: stores', factories.filter(([name]) => !args.only || args.only.split(',').includes(name)).length)
  try {
    for (const [name, open] of factories) {
      if (args.only && !args.only.split(',').includes(name)) continue
      process.stdout.write(`${name}: loading… `)
      const store = await open()
      const result = await measure(store, device)
      process.stdout.write(`loaded in ${result.loadSeconds.toFixed(1)} s; `)
      if (store instanceof StrataRowStore) {
        snapshotNs = await snapshotCosts(store.engine)
      }
      if (store instanceof MemoryStore) await store.close()
      else {
        process.stdout.write('write amplification… ')
        await writeAmplification(store, device, result, () => store.close())
      }
      console.log('done')
      results.push(result)
      removeFolder(join(root, name === 'strata-row' ? 'strata' : name))
      progress.tick()
    }
  } finally {
    removeFolder(root)
    progress.stop()
  }
  report(results, snapshotNs)
}

function report(results: StoreResult[], snapshotNs: { small: number; large: number } | undefined): void {
  const by = (name: string) => results.find((r) => r.store === name)
  const strata = by('strata-row')
  const peers = results.filter((r) => r !== strata)
  const metric = (label: string, pick: (r: StoreResult) => number | undefined, format: (v: number | undefined) => string = formatRate) => [
    label,
    ...results.map((r) => format(pick(r))),
    ...peers.map((p) => {
      const a = strata && pick(strata)
      const b = pick(p)
      return a !== undefined && b !== undefined && b > 0 ? `${(a / b).toFixed(2)}×` : '—'
    }),
  ]
  const amp = (v: number | undefined) => (v === undefined ? '—' : `${v.toFixed(2)}×`)
  const rows = [
    metric('random point reads (ops/s)', (r) => median(r.reads)),
    metric('durable 1,000-op batches (puts/s)', (r) => median(r.durableBatchPuts)),
    metric('full forward scan (entries/s)', (r) => median(r.scan)),
    metric('write amplification, own counters', (r) => r.writeAmplification, amp),
    metric('write amplification, block device', (r) => r.deviceWriteAmplification, amp),
    metric('file bytes ÷ live bytes after compaction', (r) => r.spaceAmplification, amp),
  ]
  console.log()
  console.log(table(['', ...results.map((r) => r.store), ...peers.map((p) => `strata ÷ ${p.store}`)], rows))
  if (snapshotNs) {
    console.log()
    console.log(`snapshot create + release: ${snapshotNs.small.toFixed(0)} ns at 1,000 keys, ${snapshotNs.large.toFixed(0)} ns at ${KEYS.toLocaleString()} keys (ratio ${(snapshotNs.large / snapshotNs.small).toFixed(2)})`)
  }
  console.log('(write amplification rows are lower-is-better; ratios there are Strata ÷ peer, so below 1 means Strata writes less)')
  const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB`
  const out = { date: new Date().toISOString(), node: process.version, machine, keys: KEYS, rounds: ROUNDS, results, snapshotNs }
  mkdirSync(dirname(args.out), { recursive: true })
  writeFileSync(args.out, `${JSON.stringify(out, null, 2)}\n`)
  console.log(`results written to ${args.out}`)
}

await main()
