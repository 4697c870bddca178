/**
 * Sustained writes: a long run of durable 1,000-op batches of uniform random overwrites, several
 * times the database's size, on Strata's ROW engine and on LevelDB (classic-level). At each
 * multiple of the database's size the part reads the block device's sectors-written counter
 * (dirty pages flushed first) and the time spent writing, so the results show where each store's
 * write amplification and write rate settle, and whether LevelDB's grows as its compactions reach
 * deeper levels. Then the same run on both Strata engines with a named snapshot held from the start
 * and no explicit compaction, sampling the files against the space bound (docs/architecture.md
 * §Space policy): max(1.5 × live bytes, live bytes + 8 MiB), plus what the snapshot alone keeps.
 *
 *   pnpm bench:sustained [--quick] [--keys 1000000] [--times 10] [--dir /tmp] [--out bench/results/sustained.json]
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import type { Operation, SnapshotEngine } from '@strata/btree'
import { BlockDevice } from './block-device.js'
import { benchKey, random, table } from './harness.js'
import { openPeer, type PeerName, strataEngine } from './peer-stores.js'
import { partProgress } from './progress.js'
import { type RunRecord, runRecord, writeJson } from './result-file.js'
import { removeFolder } from './stores.js'
import { pointAmplification } from './docs-sustained.js'
import { incompressibleValue, loadBatches } from './workloads.js'

/** The stores compared: the write-amplification target's pair. */
export const SUSTAINED_STORES: readonly PeerName[] = ['strata-row', 'level']
/** The stores run again with a named snapshot held from the start. */
export const HELD_STORES: readonly PeerName[] = ['strata-row', 'strata-cow']
/** Batches between two samples of the files against the space bound. */
const SPACE_SAMPLE_BATCHES = 25

/** Where one store stood after `multiple` × the database's size in overwrites. */
export interface SustainedPoint {
  multiple: number
  operations: number
  userBytes: number
  /** Bytes the block device wrote since the workload began; undefined without a counter. */
  deviceBytes: number | undefined
  /** Seconds spent in the store's writes so far (the flushes for the readings left out). */
  seconds: number
  /** Strata with a snapshot held: its files, live bytes and what the snapshot alone keeps, at this multiple. */
  space?: SpaceSample
}

/** The files of a Strata database against the space bound at one moment. */
export interface SpaceSample {
  fileBytes: number
  liveBytes: number
  /** What the named snapshots alone keep (the sum of their `exclusiveBytes`). */
  keptBytes: number
}

/** One store's run. */
export interface SustainedRun {
  store: PeerName
  points: SustainedPoint[]
  /** Bytes the device wrote over the whole workload and the close after it. */
  closedDeviceBytes: number | undefined
  /** Seconds of the whole workload and the close. */
  closedSeconds: number
  /** Strata only: all bytes its storage layer wrote ÷ user bytes, close included. */
  ownWriteAmplification?: number
  /** The longest any one durable batch took, in seconds: a write that waited behind a checkpoint, cleaning or compaction shows here. */
  longestWrite: number
  /** Whether a named snapshot was held from the start of the workload. */
  snapshotHeld?: boolean
  /** With a snapshot held: the largest files ÷ (bound + kept) of the samples every 25 batches and at each multiple, from the first third of the run on. */
  worstSpace?: number
}

/** The part's results file. */
export interface SustainedResults extends RunRecord {
  benchmark: 'sustained'
  keys: number
  valueBytes: number
  batch: number
  /** Overwrites in all, as a multiple of `keys`. */
  times: number
  device: string | undefined
  deviceBackingFile: string | undefined
  runs: SustainedRun[]
}

const BATCH = 1000
const VALUE_BYTES = 100

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    keys: { type: 'string' },
    times: { type: 'string' },
    dir: { type: 'string', default: tmpdir() },
    out: { type: 'string', default: 'bench/results/sustained.json' },
  },
})

/**
 * One store: load the database (random order, the last batch durable), close and reopen it so
 * nothing the load owes falls in the measurement, then write `times` × `keys` overwrites in
 * durable batches, reading the device at each multiple; close, and read it once more.
 */
async function runStore(store: PeerName, root: string, keys: number, times: number, device: BlockDevice, tick: () => void, held = false): Promise<SustainedRun> {
  const dir = mkdtempSync(join(root, `${store}-`))
  try {
    const loading = await openPeer(store, dir)
    const load = loadBatches(keys, VALUE_BYTES)
    for (let i = 0; i < load.length; i++) await loading.write(load[i] as Operation[], i === load.length - 1)
    await loading.close()
    const db = await openPeer(store, dir)
    const engine = strataEngine(db)
    if (held) await engine?.createSnapshot('held')
    db.resetIo()
    device.flush()
    const start = device.bytesWritten()
    const since = () => {
      device.flush()
      const now = device.bytesWritten()
      return start === undefined || now === undefined ? undefined : now - start
    }
    // The same keys and values for every store: one seed, values that no compressor shrinks.
    const rand = random(4242)
    let round = 1
    let seconds = 0
    let userBytes = 0
    const points: SustainedPoint[] = []
    let worstSpace = 0
    let batches = 0
    let longestWrite = 0
    for (let multiple = 1; multiple <= times; multiple++) {
      for (let done = 0; done < keys; done += BATCH) {
        const ops: Operation[] = []
        for (let n = 0; n < Math.min(BATCH, keys - done); n++) {
          const i = Math.floor(rand() * keys)
          const key = benchKey(i)
          const value = incompressibleValue(i, round++, VALUE_BYTES)
          userBytes += key.length + value.length
          ops.push({ type: 'put', key, value })
        }
        const started = process.hrtime.bigint()
        await db.write(ops, true)
        const took = Number(process.hrtime.bigint() - started) / 1e9
        seconds += took
        longestWrite = Math.max(longestWrite, took)
        batches++
        // Past the first third of the run, the files against the bound (the load's log settled).
        if (held && engine && batches % SPACE_SAMPLE_BATCHES === 0 && batches * BATCH * 3 > keys * times) {
          worstSpace = Math.max(worstSpace, spaceShare(spaceSample(engine)))
        }
      }
      const sample = held && engine ? spaceSample(engine) : undefined
      // The sample at each multiple counts too, past the first third (a quick run has few batches).
      if (sample && multiple * 3 > times) worstSpace = Math.max(worstSpace, spaceShare(sample))
      const space = sample ? { space: sample } : {}
      points.push({ multiple, operations: multiple * keys, userBytes, deviceBytes: since(), seconds, ...space })
      tick()
    }
    const started = process.hrtime.bigint()
    await db.close()
    const closedSeconds = seconds + Number(process.hrtime.bigint() - started) / 1e9
    const own = db.io()
    return {
      store,
      points,
      closedDeviceBytes: since(),
      closedSeconds,
      longestWrite,
      ...(own ? { ownWriteAmplification: own.totalWritten / own.userBytes } : {}),
      ...(held ? { snapshotHeld: true, worstSpace } : {}),
    }
  } finally {
    removeFolder(dir)
  }
}

/** The files of `engine` against the space bound now. */
function spaceSample(engine: SnapshotEngine): SpaceSample {
  const { fileBytes, liveBytes } = engine.stats()
  return { fileBytes, liveBytes, keptBytes: engine.listSnapshots().reduce((sum, s) => sum + s.exclusiveBytes, 0) }
}

/** The space bound a sample's live bytes allow, plus what its snapshots alone keep. */
export function spaceAllowed(s: SpaceSample): number {
  return Math.max(1.5 * s.liveBytes, s.liveBytes + 8 * 2 ** 20) + s.keptBytes
}

/** A sample's files ÷ what the bound allows: at most 1 within the bound. */
function spaceShare(s: SpaceSample): number {
  return s.fileBytes / spaceAllowed(s)
}

async function main(): Promise<void> {
  const quick = args.quick === true
  const keys = Number(args.keys ?? (quick ? 2000 : 1_000_000))
  const times = Number(args.times ?? (quick ? 3 : 10))
  if (!Number.isInteger(keys) || keys < BATCH || !Number.isInteger(times) || times < 1) throw new RangeError('--keys must be a whole number of at least 1000 and --times a whole number of at least 1')
  const root = mkdtempSync(join(args.dir as string, 'strata-sustained-'))
  const device = new BlockDevice(root)
  const progress = partProgress()
  console.log(
    `sustained writes: ${keys.toLocaleString('en-US')} keys of 16 bytes, 100-byte values, ${times} × that in durable batches of ${BATCH.toLocaleString('en-US')} uniform overwrites; ${SUSTAINED_STORES.join(', ')}; block device counter ${device.available ? `on ${device.name}` : 'NOT available'}`,
  )
  progress.stage('sustained: multiples', times * (SUSTAINED_STORES.length + HELD_STORES.length))
  const runs: SustainedRun[] = []
  try {
    for (const store of SUSTAINED_STORES) runs.push(await runStore(store, root, keys, times, device, () => progress.tick()))
    for (const store of HELD_STORES) runs.push(await runStore(store, root, keys, times, device, () => progress.tick(), true))
  } finally {
    removeFolder(root)
    progress.stop()
  }
  const cell = (run: SustainedRun, p: SustainedPoint) => `${pointAmplification(p)?.toFixed(2) ?? '—'}× · ${((p.operations / p.seconds) / 1000).toFixed(1)}k/s`
  const label = (run: SustainedRun) => `${run.store}${run.snapshotHeld ? ' (snapshot held)' : ''}`
  console.log(`\ndevice write amplification · puts per second, after each multiple of the database's size`)
  console.log(table(['multiple', ...runs.map(label)], Array.from({ length: times }, (_, m) => [`${m + 1}×`, ...runs.map((r) => cell(r, r.points[m] as SustainedPoint))])))
  console.log(`\nlongest durable batch of 1,000 puts (waits behind checkpoints, cleaning and compaction included): ${runs.map((r) => `${label(r)} ${(r.longestWrite * 1000).toFixed(0)} ms`).join(', ')}`)
  console.log(`\nown write amplification (all bytes written ÷ user bytes, close included): ${runs.filter((r) => r.ownWriteAmplification !== undefined).map((r) => `${label(r)} ${r.ownWriteAmplification?.toFixed(2)}×`).join(', ')}`)
  const held = runs.filter((r) => r.snapshotHeld)
  const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`
  const spaceCell = (p: SustainedPoint) => (p.space ? `${mib(p.space.fileBytes)} / ${mib(spaceAllowed(p.space))} (kept ${mib(p.space.keptBytes)})` : '—')
  console.log(`\nsnapshot held, no compaction: file bytes / bound + what the snapshot alone keeps, after each multiple`)
  console.log(table(['multiple', ...held.map((r) => r.store)], Array.from({ length: times }, (_, m) => [`${m + 1}×`, ...held.map((r) => spaceCell(r.points[m] as SustainedPoint))])))
  console.log(`largest files ÷ allowed, sampled every ${SPACE_SAMPLE_BATCHES} batches after the first third: ${held.map((r) => `${r.store} ${r.worstSpace?.toFixed(2)}`).join(', ')}`)
  const results: SustainedResults = {
    benchmark: 'sustained',
    ...runRecord(quick),
    keys,
    valueBytes: VALUE_BYTES,
    batch: BATCH,
    times,
    device: device.name,
    deviceBackingFile: device.backingFile,
    runs,
  }
  writeJson(args.out as string, results)
  console.log(`\nwrote ${args.out}`)
}

await main()
