/**
 * Peers on one ruler: the study's workloads on Strata (both engines, real files), LevelDB
 * (classic-level), LMDB (lmdb-js) and memory-level, each store's write amplification read from the
 * block device's own sectors-written counter around the run (dirty pages flushed on both sides),
 * and Strata's own I/O counters beside it, so both rulers can be compared.
 *
 *   pnpm bench:peers [--quick] [--runs 3] [--dir /tmp] [--out bench/results/peers.json]
 */
import { cpSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import type { Operation } from '@strata/btree'
import { BlockDevice } from './block-device.js'
import { median, table } from './harness.js'
import { openPeer, PEERS, type PeerName, type WriteStore } from './peer-stores.js'
import { partProgress } from './progress.js'
import { type RunRecord, runRecord, writeJson } from './result-file.js'
import { removeFolder } from './stores.js'
import { inBatches, loadBatches, userBytes, WORKLOADS, type WorkloadName, workloadOperations } from './workloads.js'

/** One database size of the comparison. */
export interface PeerSize {
  valueBytes: number
  keys: number
  /** Operations of each workload at batches of 1,000 or more. */
  operations: number
}

/** One measured run of one store. */
export interface PeerRun {
  store: PeerName
  workload: WorkloadName
  valueBytes: number
  /** Entries in the database before the workload. */
  keys: number
  batch: number
  run: number
  operations: number
  userBytes: number
  /** Bytes the block device wrote during the workload and the close that follows it. */
  deviceBytes?: number
  deviceWriteAmplification?: number
  /** Strata only: all bytes its storage layer wrote ÷ user bytes. */
  ownWriteAmplification?: number
  /** Bytes of the store's files after the run. */
  fileBytes: number
  seconds: number
}

/** The comparison's results file. */
export interface PeerResults extends RunRecord {
  benchmark: 'peers'
  /** The block device whose counter was read, or undefined where none could be. */
  device: string | undefined
  /** For a loop device, the file behind it: a device of the benchmark's own, which no other process writes to. */
  deviceBackingFile: string | undefined
  sizes: PeerSize[]
  /** Batches of fewer than 1,000 operations run at most this many commits (a durable commit each takes a sync). */
  maxCommits: number
  runs: PeerRun[]
}

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    runs: { type: 'string' },
    dir: { type: 'string', default: tmpdir() },
    out: { type: 'string', default: 'bench/results/peers.json' },
  },
})

/** One combination to measure, and how many runs of it. */
interface Case {
  workload: WorkloadName
  size: PeerSize
  batch: number
  runs: number
  stores: readonly PeerName[]
}

function plan(quick: boolean, runs: number): { sizes: PeerSize[]; cases: Case[]; maxCommits: number } {
  const small = quick ? { valueBytes: 100, keys: 1000, operations: 3000 } : { valueBytes: 100, keys: 50_000, operations: 150_000 }
  // Three times the database's size in overwrites: LevelDB's compactions reach their steady state,
  // and the checkpoint Strata pays at the close weighs less than in a short run.
  const large = { valueBytes: 100, keys: 1_000_000, operations: 3_000_000 }
  const big = quick ? { valueBytes: 4096, keys: 100, operations: 300 } : { valueBytes: 4096, keys: 2000, operations: 6000 }
  const cases: Case[] = []
  // The headline: uniform overwrites of 100-byte values at every batch size, several runs.
  for (const batch of quick ? [1, 1000] : [1, 10, 100, 1000, 10_000]) cases.push({ workload: 'uniform', size: small, batch, runs, stores: PEERS })
  // Every other workload and value size at batches of 1,000, once.
  for (const size of [small, big]) {
    for (const workload of WORKLOADS) {
      if (!(workload === 'uniform' && size === small)) cases.push({ workload, size, batch: 1000, runs: 1, stores: PEERS })
    }
  }
  // The headline again on the engine benchmark's million keys, where LevelDB compacts into deeper
  // levels: once (it takes minutes), without memory-level (which writes nothing).
  if (!quick) cases.push({ workload: 'uniform', size: large, batch: 1000, runs: 1, stores: PEERS.filter((p) => p !== 'memory-level') })
  return { sizes: quick ? [small, big] : [small, big, large], cases, maxCommits: quick ? 20 : 500 }
}

/** Loaded databases, closed, one per store and size, copied for each run instead of loaded again. */
class Templates {
  readonly #made = new Map<string, string>()

  constructor(readonly root: string) {}

  /**
   * A folder holding `store` loaded with `size` (in random order, batches of 1,000, the last one
   * durable) and closed; made on first use. Closing and reopening means nothing the load owes (a
   * checkpoint, a compaction) is paid inside the measurement by the stores that defer work.
   */
  async folder(store: PeerName, size: PeerSize): Promise<string> {
    const id = `${store}-${size.valueBytes}-${size.keys}`
    const made = this.#made.get(id)
    if (made) return made
    const dir = join(this.root, `template-${id}`)
    await load(await openPeer(store, dir), size).then((db) => db.close())
    this.#made.set(id, dir)
    return dir
  }
}

async function load(db: WriteStore, size: PeerSize): Promise<WriteStore> {
  const batches = loadBatches(size.keys, size.valueBytes)
  for (let i = 0; i < batches.length; i++) await db.write(batches[i] as Operation[], i === batches.length - 1)
  return db
}

/**
 * One run of one store:
 * 1. Copy the store's loaded database into a new folder and open it (memory-level: load it).
 * 2. Read the device counter, run the workload in durable batches, close the store (Strata pays
 *    its owed checkpoint there), read the counter again.
 */
async function measureRun(store: PeerName, templates: Templates, size: PeerSize, workload: Operation[][], device: BlockDevice): Promise<Omit<PeerRun, 'store' | 'workload' | 'valueBytes' | 'keys' | 'batch' | 'run'>> {
  const dir = mkdtempSync(join(templates.root, `${store}-`))
  try {
    let db: WriteStore
    if (store === 'memory-level') db = await load(await openPeer(store, dir), size)
    else {
      cpSync(await templates.folder(store, size), dir, { recursive: true })
      db = await openPeer(store, dir)
    }
    db.resetIo()
    const ops = workload.flat()
    const user = userBytes(ops)
    const started = process.hrtime.bigint()
    const open = db
    const deviceBytes = await device.bytesWrittenDuring(async () => {
      for (const batch of workload) await open.write(batch, true)
      await open.close()
    })
    const seconds = Number(process.hrtime.bigint() - started) / 1e9
    const own = db.io()
    return {
      operations: ops.length,
      userBytes: user,
      ...(deviceBytes === undefined ? {} : { deviceBytes, deviceWriteAmplification: deviceBytes / user }),
      ...(own ? { ownWriteAmplification: own.totalWritten / own.userBytes } : {}),
      fileBytes: db.fileBytes(),
      seconds,
    }
  } finally {
    removeFolder(dir)
  }
}

async function main(): Promise<void> {
  const quick = args.quick === true
  const runsPerCase = Number(args.runs ?? (quick ? 1 : 3))
  const { sizes, cases, maxCommits } = plan(quick, runsPerCase)
  const root = mkdtempSync(join(args.dir as string, 'strata-peers-'))
  const device = new BlockDevice(root)
  const progress = partProgress()
  console.log(`peers on one ruler: ${PEERS.join(', ')}; block device counter ${device.available ? 'available' : 'NOT available: device figures left out'}`)
  for (const s of sizes) console.log(`  ${s.valueBytes}-byte values: ${s.keys.toLocaleString('en-US')} keys, ${s.operations.toLocaleString('en-US')} operations per workload (at most ${maxCommits.toLocaleString('en-US')} commits for batches under 1,000)`)
  progress.stage('peers: runs', cases.reduce((n, c) => n + c.runs * c.stores.length, 0))
  const runs: PeerRun[] = []
  const templates = new Templates(root)
  try {
    for (const c of cases) {
      const operations = c.batch < 1000 ? Math.min(c.size.operations, c.batch * maxCommits) : c.size.operations
      const batches = inBatches(workloadOperations({ name: c.workload, keys: c.size.keys, operations, valueBytes: c.size.valueBytes }), c.batch)
      for (let run = 0; run < c.runs; run++) {
        // Stores take turns within a run, so a noisy minute of the machine does not fall on one store's runs alone.
        for (const store of c.stores) {
          const measured: PeerRun = { store, workload: c.workload, valueBytes: c.size.valueBytes, keys: c.size.keys, batch: c.batch, run, ...(await measureRun(store, templates, c.size, batches, device)) }
          runs.push(measured)
          console.log(`  ${store} ${c.workload}/${c.size.valueBytes} B/${c.size.keys} keys/${c.batch} per commit, run ${run + 1}: ${measured.seconds.toFixed(1)} s, device ${measured.deviceWriteAmplification?.toFixed(2) ?? '—'}×${measured.ownWriteAmplification === undefined ? '' : `, own ${measured.ownWriteAmplification.toFixed(2)}×`}`)
          progress.tick()
        }
      }
    }
  } finally {
    removeFolder(root)
    progress.stop()
  }
  report(runs)
  const results: PeerResults = { benchmark: 'peers', ...runRecord(quick), device: device.name, deviceBackingFile: device.backingFile, sizes, maxCommits, runs }
  writeJson(args.out as string, results)
  console.log(`\nwrote ${args.out}`)
}

function report(runs: PeerRun[]): void {
  const x = (values: (number | undefined)[]) => {
    const known = values.filter((v): v is number => v !== undefined)
    return known.length === 0 ? '—' : `${median(known).toFixed(2)}×`
  }
  const of = (store: PeerName, workload: WorkloadName, keys: number, batch: number) => runs.filter((r) => r.store === store && r.workload === workload && r.keys === keys && r.batch === batch)
  const keys = [...new Set(runs.map((r) => `${r.workload}/${r.keys}/${r.batch}`))]
  console.log('\nwrite amplification by the block device (Strata: own counters in brackets), medians')
  console.log(
    table(
      ['workload / keys / batch', ...PEERS],
      keys.map((key) => {
        const [workload, keys, batch] = key.split('/') as [WorkloadName, string, string]
        return [
          key,
          ...PEERS.map((store) => {
            const rs = of(store, workload, Number(keys), Number(batch))
            const own = rs.some((r) => r.ownWriteAmplification !== undefined) ? ` (${x(rs.map((r) => r.ownWriteAmplification))})` : ''
            return `${x(rs.map((r) => r.deviceWriteAmplification))}${own}`
          }),
        ]
      }),
    ),
  )
}

await main()
