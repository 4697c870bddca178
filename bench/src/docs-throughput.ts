/** The docs' section on throughput: benny's figures for every store and operation, and Strata's ratios. */
import type { ChartWriter } from './chart-writer.js'
import { rate, thousands, times } from './docs-format.js'
import { markdownTable, median } from './harness.js'
import { colourScale } from './svg-chart.js'
import type { ThroughputResults } from './throughput.js'
import { entriesPerCall, OPERATIONS, type OperationName, THROUGHPUT_STORES, type ThroughputName } from './throughput-stores.js'

/** Entries per second of one store and operation (benny's figure: from the mean time per call), or undefined. */
export function entriesPerSecond(results: ThroughputResults, store: ThroughputName, operation: OperationName): number | undefined {
  return results.cases.find((c) => c.store === store && c.operation === operation)?.entriesPerSecond
}

/** Entries per second from the median sample of one store and operation: the typical call, without rare slow ones. */
export function medianEntriesPerSecond(results: ThroughputResults, store: ThroughputName, operation: OperationName): number | undefined {
  const c = results.cases.find((x) => x.store === store && x.operation === operation)
  return c && c.sampleSeconds.length > 0 ? entriesPerCall(operation, results.keys) / median(c.sampleSeconds) : undefined
}

/** The docs' section on throughput. */
export async function throughputSection(results: ThroughputResults, charts: ChartWriter): Promise<string> {
  const eps = (s: ThroughputName, o: OperationName) => entriesPerSecond(results, s, o)
  const med = (s: ThroughputName, o: OperationName) => medianEntriesPerSecond(results, s, o)
  const rows = OPERATIONS.map((o) => [o, ...THROUGHPUT_STORES.map((s) => rate(eps(s, o)))])
  const medianRows = OPERATIONS.map((o) => [o, ...THROUGHPUT_STORES.map((s) => rate(med(s, o)))])
  const margins = OPERATIONS.map((o) => [o, ...THROUGHPUT_STORES.map((s) => {
    const c = results.cases.find((x) => x.store === s && x.operation === o)
    return c ? `±${c.margin.toFixed(1)} % (${c.samples})` : '—'
  })])
  const ratio = (a: ThroughputName, b: ThroughputName, o: OperationName, target: number) => {
    const x = eps(a, o)
    const y = eps(b, o)
    const mx = med(a, o)
    const my = med(b, o)
    const typical = mx === undefined || my === undefined ? '—' : times(mx / my)
    if (x === undefined || y === undefined) return ['—', typical, '—']
    return [times(x / y), typical, x / y >= target ? 'met' : 'not met']
  }
  const targets: [string, ThroughputName, ThroughputName, OperationName, number][] = [
    ['ROW engine point reads ÷ lmdb `get`', 'strata-row', 'lmdb', 'point read', 1],
    ['ROW engine durable batches of 1,000 ÷ level (`sync: true`)', 'strata-row', 'level', 'durable batch', 2],
    ['ROW engine durable batches of 1,000 ÷ lmdb', 'strata-row', 'lmdb', 'durable batch', 2],
    ['ROW engine full scans ÷ lmdb `getRange`', 'strata-row', 'lmdb', 'full scan', 1],
    ['StrataLevel `await db.get` ÷ level', 'StrataLevel row', 'level', 'point read', 3],
    ['StrataLevel `db.batch` of 1,000 (sync) ÷ level', 'StrataLevel row', 'level', 'durable batch', 2],
    ['StrataLevel iterator scans (`for await`, every entry) ÷ level', 'StrataLevel row', 'level', 'full scan', 2],
  ]
  const chart = await charts.chart('throughput', 'Throughput by operation and store', {
    title: { text: 'Throughput (benny)', subtitle: `entries per second, ${thousands(results.keys)} keys of 16 bytes with 100-byte values (log scale)` },
    data: { values: results.cases.map((c) => ({ store: c.store, operation: c.operation, eps: c.entriesPerSecond })) },
    width: 620,
    height: 260,
    mark: 'bar',
    encoding: {
      x: { field: 'operation', type: 'nominal', sort: [...OPERATIONS], title: null, axis: { labelAngle: 0 } },
      xOffset: { field: 'store', sort: [...THROUGHPUT_STORES] },
      y: { field: 'eps', type: 'quantitative', scale: { type: 'log' }, stack: null, title: 'entries per second (log)' },
      color: { field: 'store', type: 'nominal', scale: colourScale(THROUGHPUT_STORES), title: null },
    },
  })
  return `# Throughput

[benny](https://github.com/caderek/benny) (on benchmark.js) times each operation on each store, one
store at a time, in one process, on ${thousands(results.keys)} keys of 16 bytes with 100-byte values loaded in random
order. Each figure is benny's mean over at least ${results.benny.minSamples} samples taken for up to ${results.benny.maxTime} s (${results.benny.batchMaxTime ?? results.benny.maxTime} s for
durable batches, so that they span a checkpoint of the database), in entries per second (a batch or
a range scan handles 1,000 entries per call, a full scan every key).

${chart}

${markdownTable(['entries/s (benny)', ...THROUGHPUT_STORES], rows)}

benny's figure is the number of calls divided by their total time: it includes the rare slow call
(a Strata checkpoint, a LevelDB compaction stall, a sync that waits behind another process's
writes), which is what a sustained workload pays. The typical call, from the median sample, says
how fast one call is when nothing else is due:

${markdownTable(['entries/s (median sample)', ...THROUGHPUT_STORES], medianRows)}

- **point read**: one random existing key per call; synchronous where the store has it (the
  engines, lmdb), \`await db.get\` through abstract-level otherwise (StrataLevel, level,
  memory-level).
- **durable batch** / **non-durable batch**: an atomic batch of 1,000 random overwrites per call,
  with and without waiting for it to be durable (\`sync\`; lmdb: the transaction, then \`flushed\`).
- **range scan**: 1,000 entries in key order from a random key (\`nextv(1000)\` through
  abstract-level). In StrataLevel most of an entry's cost here is the first touch of its bytes and
  the two Buffers it is handed out in, so the per-call cost that a one-entry step pays matters
  little, and StrataLevel and level read at similar rates.
- **full scan**: every entry in key order, as an app walks a whole database: \`for await\` over an
  iterator through abstract-level (one entry per step, as the abstract-level benchmark reads), a
  cursor on the engines, \`getRange()\` on lmdb. The scan targets are for these.
- **snapshot read**: one random key at a snapshot taken before the batches above, so the snapshot's
  versions are older than the head's (an explicit snapshot for Strata, level and memory-level; a
  read transaction for lmdb).

Margins of error (benny's relative margin, and samples):

${markdownTable(['', ...THROUGHPUT_STORES], margins)}

The engine's and StrataLevel's throughput targets, in this suite:

${markdownTable(['target', 'measured (benny)', 'typical call (median)', 'target ratio', 'verdict (benny)'], targets.map(([label, a, b, o, t]) => [label, ...(() => {
    const [r, typical, v] = ratio(a, b, o, t)
    return [r as string, typical as string, `≥ ${t.toFixed(1)}×`, v as string]
  })()]))}

A margin of error in the tens of percent (durable batches, whose syncs wait on a shared disk)
makes a verdict near its target a coin toss; the engine and abstract-level benchmarks below
measure the same targets as medians of rounds of many calls each.
`
}
