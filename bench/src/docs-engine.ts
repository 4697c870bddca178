/**
 * The docs' sections on the engine benchmark (the ROW engine beside lmdb, level and memory-level)
 * and the abstract-level benchmark (StrataLevel beside classic-level), with the project's targets
 * for them.
 */
import { mark, thousands, times } from './docs-format.js'
import { markdownTable, median } from './harness.js'

/** One store's figures in engine.json. */
export interface EngineStoreResult {
  store: string
  loadSeconds: number
  reads: number[]
  durableBatchPuts: number[]
  scan: number[]
  writeAmplification?: number
  deviceWriteAmplification?: number
  spaceAmplification?: number
}

/** What engine-bench.ts writes. */
export interface EngineResults {
  date: string
  node: string
  keys: number
  rounds: number
  machine?: string
  results: EngineStoreResult[]
  snapshotNs?: { small: number; large: number }
}

/** One database's figures in level.json. */
export interface LevelStoreResult {
  store: string
  get: number[]
  getSync?: number[]
  batch: number[]
  scan: number[]
}

/** What level-bench.ts writes. */
export interface LevelResults {
  date: string
  node: string
  keys: number
  rounds: number
  machine?: string
  results: LevelStoreResult[]
}

/** One of the project's targets: what it compares, the measured figure, the target as text, whether it is met. */
export type Target = [label: string, measured: number, target: string, met: boolean]

/** The project's targets for the engine benchmark, with the measured figures. */
export function engineTargets(run: EngineResults): Target[] {
  const strata = run.results.find((r) => r.store === 'strata-row')
  const by = (name: string) => run.results.find((r) => r.store === name)
  const ratio = (pick: (r: EngineStoreResult) => number[], peer: string) => {
    const p = by(peer)
    return strata && p ? median(pick(strata)) / median(pick(p)) : Number.NaN
  }
  const snapshotRatio = run.snapshotNs ? run.snapshotNs.large / run.snapshotNs.small : Number.NaN
  return [
    ['random point reads ÷ lmdb `get`', ratio((r) => r.reads, 'lmdb'), '≥ 1.0×', ratio((r) => r.reads, 'lmdb') >= 1],
    ['durable 1,000-op batches ÷ level (`sync: true`)', ratio((r) => r.durableBatchPuts, 'level'), '≥ 2×', ratio((r) => r.durableBatchPuts, 'level') >= 2],
    ['durable 1,000-op batches ÷ lmdb', ratio((r) => r.durableBatchPuts, 'lmdb'), '≥ 2×', ratio((r) => r.durableBatchPuts, 'lmdb') >= 2],
    ['full forward scan ÷ lmdb `getRange`', ratio((r) => r.scan, 'lmdb'), '≥ 1.0×', ratio((r) => r.scan, 'lmdb') >= 1],
    [`snapshot creation at ${thousands(run.keys)} keys ÷ at 1,000 keys`, snapshotRatio, '< 1.5', snapshotRatio < 1.5],
    ['write amplification, 1,000-op uniform overwrites (own counters)', strata?.writeAmplification ?? Number.NaN, '≤ 5×', (strata?.writeAmplification ?? Infinity) <= 5],
    ['file ÷ live bytes after reclamation, no snapshot', strata?.spaceAmplification ?? Number.NaN, '≤ 2×', (strata?.spaceAmplification ?? Infinity) <= 2],
  ]
}

/** The engine benchmark's section. */
export function engineSection(run: EngineResults): string {
  const strata = run.results.find((r) => r.store === 'strata-row')
  const peers = run.results.filter((r) => r !== strata)
  const row = (label: string, pick: (r: EngineStoreResult) => number | undefined, format: (n: number | undefined) => string, higherIsBetter: boolean) => [
    label,
    ...run.results.map((r) => format(pick(r))),
    ...peers.map((p) => {
      const a = strata && pick(strata)
      const b = pick(p)
      if (a === undefined || b === undefined || b === 0) return '—'
      return `${(a / b).toFixed(2)}×${higherIsBetter ? '' : ' (lower is better)'}`
    }),
  ]
  const rate = (n: number | undefined) => (n === undefined ? '—' : thousands(n))
  const rows = [
    row('random point reads, ops/s', (r) => median(r.reads), rate, true),
    row('durable 1,000-op batches, puts/s', (r) => median(r.durableBatchPuts), rate, true),
    row('full forward scan, entries/s', (r) => median(r.scan), rate, true),
    row('write amplification (own I/O counters)', (r) => r.writeAmplification, times, false),
    row('write amplification (block device)', (r) => r.deviceWriteAmplification, times, false),
    row('file ÷ live bytes after compaction', (r) => r.spaceAmplification, times, false),
  ]
  const header = ['', ...run.results.map((r) => r.store), ...peers.map((p) => `strata ÷ ${p.store}`)]
  const targets = engineTargets(run)
  const snapshotRatio = run.snapshotNs ? run.snapshotNs.large / run.snapshotNs.small : Number.NaN
  const snapshot = run.snapshotNs
    ? `Snapshot creation (create and release): ${run.snapshotNs.small.toFixed(0)} ns at 1,000 keys, ${run.snapshotNs.large.toFixed(0)} ns at ${thousands(run.keys)} keys: a ratio of ${snapshotRatio.toFixed(2)}.`
    : ''
  return `# Engine benchmark

Strata's redirect-on-write engine (used directly, no adapter), LMDB (\`lmdb\`, default durable
settings, \`await db.flushed\` after each commit), LevelDB (\`classic-level\`, what \`level\` gives on
Node) and \`memory-level\`, in one process, one store at a time, on the same ${thousands(run.keys)} keys of 16
bytes with 100-byte values, loaded in random order. Each figure is the median of ${run.rounds} rounds (scans:
of up to 3). Measured ${run.date.slice(0, 10)} on Node ${run.node}${run.machine ? `, ${run.machine}` : ''}.

${markdownTable(header, rows)}

${snapshot}

${markdownTable(['target', 'measured', 'target', 'verdict'], targets.map(([label, value, target, ok]) => [label, times(value), target, mark(ok)]))}

- **Reads** are random point lookups of existing keys: synchronous \`get\` where the store has
  one (Strata, lmdb, memory-level's \`getSync\`), \`await db.get\` for LevelDB.
- **Durable batches** are atomic batches of 1,000 random overwrites, each waiting until it is
  durable (\`sync: true\`; lmdb: the transaction, then \`db.flushed\`), 20 to a round, after one
  untimed round that lets work left over from the load settle (LevelDB's compactions, Strata's
  checkpoint).
- **Write amplification** is all bytes written ÷ key and value bytes written by the user, for
  durable 1,000-op batches of uniform random overwrites. Strata's own counters see every byte its
  storage layer writes, by purpose; the block-device figure reads the disk's own sectors-written
  counter around the run, so it includes the file system's journal and anything else the machine
  wrote meanwhile. Strata's run includes a final compaction, so no checkpoint or reclamation it
  owes is left out. LevelDB's run is short against its database (a third of it rewritten), so its
  figure holds little compaction; see the peers section for runs of several times the database.
- **Space** is the database's file bytes ÷ the key and value bytes it holds, after \`compact()\`
  with no snapshot held.
`
}

/** The rows of the abstract-level benchmark: label, StrataLevel's figure, level's, the ratio, the target as text and as a number. */
function levelRows(strata: LevelStoreResult, level: LevelStoreResult): [string, number | undefined, number | undefined, number, string, number][] {
  const r = (a: number[] | undefined, b: number[]) => (a && a.length > 0 ? median(a) / median(b) : Number.NaN)
  return [
    ['`await db.get`, ops/s', median(strata.get), median(level.get), r(strata.get, level.get), '≥ 3×', 3],
    ['`db.getSync` (level: `await db.get`), ops/s', strata.getSync ? median(strata.getSync) : undefined, median(level.get), r(strata.getSync, level.get), '≥ 1.0×', 1],
    ['`db.batch` of 1,000, sync, puts/s', median(strata.batch), median(level.batch), r(strata.batch, level.batch), '≥ 2×', 2],
    ['iterator scan, entries/s', median(strata.scan), median(level.scan), r(strata.scan, level.scan), '≥ 2×', 2],
  ]
}

/** The project's targets for the abstract-level benchmark, with the measured figures. */
export function levelTargets(run: LevelResults): Target[] {
  const strata = run.results.find((r) => r.store === 'strata')
  const level = run.results.find((r) => r.store === 'level')
  if (!strata || !level) return []
  return levelRows(strata, level).map(([label, , , ratio, target, t]) => [`StrataLevel ÷ level, ${label.replace(/, (ops|puts|entries)\/s$/, '')}`, ratio, target, ratio >= t])
}

/** The abstract-level benchmark's section. */
export function levelSection(run: LevelResults): string {
  const strata = run.results.find((r) => r.store === 'strata')
  const level = run.results.find((r) => r.store === 'level')
  if (!strata || !level) return ''
  const rows = levelRows(strata, level)
  return `# abstract-level benchmark

StrataLevel (ROW engine) beside classic-level (what \`level\` gives on Node), both through the
abstract-level API that apps use, in one process, on ${thousands(run.keys)} keys of 16 bytes with 100-byte values.
Medians of ${run.rounds} rounds. Measured ${run.date.slice(0, 10)} on Node ${run.node}${run.machine ? `, ${run.machine}` : ''}.

No memory-level runs in this process. classic-level's synced batches have been seen to run faster
once memory-level has run in the same process (the two share one abstract-level module; the cause
is not yet known): level's batch figure here is that of a process that uses level alone, and may
be below what it reaches in other processes. Read the batch ratio with that in mind.

${markdownTable(
  ['', 'StrataLevel', 'level', 'StrataLevel ÷ level', 'target', 'verdict'],
  rows.map(([label, a, b, ratio, target, t]) => [label, a === undefined ? '—' : thousands(a), b === undefined ? '—' : thousands(b), times(ratio), target, mark(ratio >= t)]),
)}
`
}

/** What snapshot-bench.ts writes. */
export interface SnapshotBenchResults {
  date: string
  node: string
  keys: number
  rounds: number
  namedCreateMs: { small: number; large: number; ratio: number }
  diff: { changedKeys: number; changes: number; pagesRead: number; treePages: number; share: number; nodesExpanded: number; subtreesSkipped: number }
}

/** The named-snapshot benchmark's section. */
export function namedSnapshotSection(run: SnapshotBenchResults): string {
  const { namedCreateMs: c, diff: d } = run
  return `# Named snapshots (ROW engine)

\`pnpm bench:snapshots\`: a durable named snapshot (\`createSnapshot\`, one synced log record) on
databases of 1,000 and ${thousands(run.keys)} keys, median of ${run.rounds} rounds of creations, and a diff of two
snapshots ${thousands(d.changedKeys)} changed keys apart, read back cold. Measured ${run.date.slice(0, 10)} on Node ${run.node}.

${markdownTable(
  ['', 'measured'],
  [
    ['named snapshot creation at 1,000 keys', `${c.small.toFixed(3)} ms`],
    [`named snapshot creation at ${thousands(run.keys)} keys`, `${c.large.toFixed(3)} ms`],
    ['ratio (large ÷ small)', times(c.ratio)],
    ['changes the diff found', thousands(d.changes)],
    ['pages the diff read, of the tree\'s', `${thousands(d.pagesRead)} of ${thousands(d.treePages)} (${(100 * d.share).toFixed(2)} %)`],
    ['subtrees the diff skipped as shared', thousands(d.subtreesSkipped)],
  ],
)}

A named snapshot costs one durable record whatever the database's size, and a diff reads only the
paths to what changed, skipping every subtree the two snapshots share.
`
}
