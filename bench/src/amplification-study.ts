/**
 * The write-amplification study: ROW, COW with per-snapshot stores and COW with a shared store,
 * on the storage layer's own I/O accounting (every byte by purpose), across live snapshots, batch
 * sizes, workloads and value sizes (see study-plan.ts), plus snapshot creation time against
 * database size. In-memory files: the byte counts are exact and the same on every machine.
 *
 *   pnpm bench:study [--quick] [--out bench/results/study.json]
 */
import { parseArgs } from 'node:util'
import type { Operation } from '@strata/btree'
import { formatRate, table } from './harness.js'
import { partProgress } from './progress.js'
import { type RunRecord, runRecord, writeJson } from './result-file.js'
import { measureCreation, type CreationCost } from './snapshot-creation.js'
import { type CellResult, familyOf, type LoadedDatabase, loadDatabase, measureCell, VARIANTS } from './study-cell.js'
import { type StudySize, studyPlan } from './study-plan.js'
import { inBatches, type WorkloadName, workloadOperations } from './workloads.js'

/** The study's results file. */
export interface StudyResults extends RunRecord {
  benchmark: 'study'
  sizes: StudySize[]
  snapshotGets: number
  cells: CellResult[]
  creation: CreationCost[]
}

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    out: { type: 'string', default: 'bench/results/study.json' },
  },
})

async function main(): Promise<void> {
  const quick = args.quick === true
  const plan = studyPlan(quick)
  const progress = partProgress()
  console.log(`write-amplification study: ${plan.cells.length} cells`)
  for (const s of plan.sizes) console.log(`  ${s.valueBytes}-byte values: ${s.keys.toLocaleString('en-US')} keys, ${s.operations.toLocaleString('en-US')} operations per workload; checkpoints after ${formatRate(s.settings.minLogBytes)}B–${formatRate(s.settings.maxLogBytes)}B of log, ${formatRate(s.settings.segmentBytes)}B segments`)
  progress.stage('study: loading databases', plan.sizes.length * 2)
  const loaded = new Map<string, LoadedDatabase>()
  for (const s of plan.sizes) {
    for (const family of ['row', 'cow'] as const) {
      loaded.set(`${family}/${s.valueBytes}`, await loadDatabase(family, s.keys, s.valueBytes, s.settings))
      progress.tick()
    }
  }
  progress.stage('study: cells', plan.cells.length)
  const cells: CellResult[] = []
  // Cells that share a workload share its operations: made once, outside the measurement.
  const workloads = new Map<string, Operation[]>()
  for (const spec of plan.cells) {
    const size = plan.sizes.find((s) => s.valueBytes === spec.valueBytes) as StudySize
    const id = `${spec.workload}/${spec.valueBytes}`
    let ops = workloads.get(id)
    if (!ops) {
      workloads.clear()
      ops = workloadOperations({ name: spec.workload, keys: size.keys, operations: size.operations, valueBytes: spec.valueBytes })
      workloads.set(id, ops)
    }
    const db = loaded.get(`${familyOf(spec.variant)}/${spec.valueBytes}`) as LoadedDatabase
    cells.push(await measureCell(db, spec, inBatches(ops, spec.batch), plan.snapshotGets))
    progress.tick()
  }
  progress.stage('study: snapshot creation', VARIANTS.length * plan.creationSizes.length)
  const creation = await measureCreation(VARIANTS, plan.creationSizes, quick ? 3 : 11, () => progress.tick())
  progress.stop()
  report(cells, creation)
  const results: StudyResults = { benchmark: 'study', ...runRecord(quick), sizes: plan.sizes, snapshotGets: plan.snapshotGets, cells, creation }
  writeJson(args.out as string, results)
  console.log(`\nwrote ${args.out}`)
}

/** Prints the headline tables: write amplification against k for each workload at 100-byte values. */
function report(cells: CellResult[], creation: CreationCost[]): void {
  const x = (n: number | undefined) => (n === undefined ? '—' : `${n.toFixed(2)}×`)
  const find = (variant: string, workload: WorkloadName, valueBytes: number, batch: number, k: number) =>
    cells.find((c) => c.variant === variant && c.workload === workload && c.valueBytes === valueBytes && c.batch === batch && c.snapshots === k)
  for (const valueBytes of [...new Set(cells.map((c) => c.valueBytes))]) {
    const ks = [...new Set(cells.filter((c) => c.batch === 1000 && c.valueBytes === valueBytes).map((c) => c.snapshots))].sort((a, b) => a - b)
    console.log(`\nwrite amplification, ${valueBytes}-byte values, batches of 1,000, by live snapshots`)
    const rows: string[][] = []
    for (const workload of [...new Set(cells.map((c) => c.workload))]) {
      for (const variant of VARIANTS) rows.push([`${workload} ${variant}`, ...ks.map((k) => x(find(variant, workload, valueBytes, 1000, k)?.writeAmplification))])
    }
    console.log(table(['', ...ks.map((k) => `k=${k}`)], rows))
  }
  console.log('\nsnapshot creation, ns per snapshot, by database size')
  const sizes = [...new Set(creation.map((c) => c.keys))]
  console.log(table(['', ...sizes.map((n) => `${n.toLocaleString('en-US')} keys`)], VARIANTS.map((v) => [v, ...sizes.map((n) => (creation.find((c) => c.variant === v && c.keys === n)?.ns ?? 0).toFixed(0))])))
}

await main()
