/**
 * Writes docs/benchmarks.md from the JSON results in bench/results/, so the figures in the docs
 * are always the ones a run measured.
 *
 *   pnpm bench:docs
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { markdownTable, median } from './harness.js'

interface StoreResult {
  store: string
  loadSeconds: number
  reads: number[]
  durableBatchPuts: number[]
  scan: number[]
  writeAmplification?: number
  deviceWriteAmplification?: number
  spaceAmplification?: number
}

interface EngineResults {
  date: string
  node: string
  keys: number
  rounds: number
  machine?: string
  results: StoreResult[]
  snapshotNs?: { small: number; large: number }
}

const thousands = (n: number) => Math.round(n).toLocaleString('en-US')
const times = (n: number | undefined) => (n === undefined ? '—' : `${n.toFixed(2)}×`)

function engineSection(run: EngineResults): string {
  const strata = run.results.find((r) => r.store === 'strata-row')
  const peers = run.results.filter((r) => r !== strata)
  const row = (label: string, pick: (r: StoreResult) => number | undefined, format: (n: number | undefined) => string, higherIsBetter: boolean) => [
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
  const snapshot = run.snapshotNs
    ? `Snapshot creation (create and release): ${run.snapshotNs.small.toFixed(0)} ns at 1,000 keys, ${run.snapshotNs.large.toFixed(0)} ns at ${thousands(run.keys)} keys: a ratio of ${(run.snapshotNs.large / run.snapshotNs.small).toFixed(2)}.`
    : ''
  return `## Engine benchmark

Strata's redirect-on-write engine (used directly, no adapter), LMDB (\`lmdb\`, default durable
settings, \`await db.flushed\` after each commit), LevelDB (\`classic-level\`, what \`level\` gives on
Node) and \`memory-level\`, in one process, on the same ${thousands(run.keys)} keys of 16 bytes with
100-byte values, loaded in random order. Each figure is the median of ${run.rounds} rounds
(scans: of up to 3).

${markdownTable(header, rows)}

${snapshot}

- **Reads** are random point lookups of existing keys: synchronous \`get\` where the store has
  one (Strata, lmdb, memory-level's \`getSync\`), \`await db.get\` for LevelDB.
- **Durable batches** are atomic batches of 1,000 random overwrites, each waiting until it is
  durable (\`sync: true\`; lmdb: the transaction, then \`db.flushed\`).
- **Write amplification** is all bytes written ÷ key and value bytes written by the user, for
  durable 1,000-op batches of uniform random overwrites. Strata's own counters see every byte its
  storage layer writes, by purpose; the block-device figure reads the disk's own sectors-written
  counter around the run, so it includes the file system's journal and anything else the machine
  wrote meanwhile. Strata's run includes a final compaction, so no checkpoint or reclamation it
  owes is left out.
- **Space** is the database's file bytes ÷ the key and value bytes it holds, after \`compact()\`
  with no snapshot held.

Measured ${run.date.slice(0, 10)} on Node ${run.node}${run.machine ? `, ${run.machine}` : ''}. This machine is shared
and noisy: compare ratios from one run, not absolute figures across runs.

Reproduce with \`npm run bench:engine\` (add \`-- --keys 100000\` for a shorter run), then
\`npm run bench:docs\` to rewrite this page from \`bench/results/engine.json\`.
`
}

const parts = ['# Benchmarks\n\nEvery figure on this page is generated from the JSON results in `bench/results/`.\n']
if (existsSync('bench/results/engine.json')) parts.push(engineSection(JSON.parse(readFileSync('bench/results/engine.json', 'utf8')) as EngineResults))
writeFileSync('docs/benchmarks.md', `${parts.join('\n')}`)
console.log('docs/benchmarks.md written')
