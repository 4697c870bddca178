/** The docs' section on concurrent writers: independent puts with many in flight, and the issue's targets. */
import type { ChartWriter } from './chart-writer.js'
import { CLIENT_STORES, CONCURRENCY_CELLS, type ConcurrencyCell, cellLabel, DISK_PEERS, findRun, STRATA_CLIENT_STORES } from './clients.js'
import type { ConcurrencyResults } from './concurrency.js'
import { mark, rate, thousands, times } from './docs-format.js'
import { markdownTable } from './harness.js'
import { colourScale } from './svg-chart.js'
import type { ThroughputName } from './throughput-stores.js'

/** A target of issue 20: Strata ÷ a peer in one cell, at least `ratio`. */
interface ConcurrencyTarget {
  cell: ConcurrencyCell
  peer: (typeof DISK_PEERS)[number]
  ratio: number
}

/** Group commit's targets for independent puts. */
export const CONCURRENCY_TARGETS: readonly ConcurrencyTarget[] = [
  { cell: { inFlight: 256, durable: true }, peer: 'lmdb', ratio: 2 },
  { cell: { inFlight: 256, durable: true }, peer: 'level', ratio: 4 },
  { cell: { inFlight: 16, durable: true }, peer: 'lmdb', ratio: 1 },
  { cell: { inFlight: 16, durable: true }, peer: 'level', ratio: 2 },
  { cell: { inFlight: 1, durable: true }, peer: 'level', ratio: 1 },
  { cell: { inFlight: 64, durable: false }, peer: 'level', ratio: 1.5 },
]

/** Median puts per second of `store` in `cell`. */
function putsPerSecond(results: ConcurrencyResults, store: ThroughputName, cell: ConcurrencyCell): number | undefined {
  return findRun(results, store, cell)?.median
}

/** Strata ÷ `peer` in `cell`, from the medians. */
export function concurrencyRatio(results: ConcurrencyResults, strata: ThroughputName, peer: ThroughputName, cell: ConcurrencyCell): number | undefined {
  const a = putsPerSecond(results, strata, cell)
  const b = putsPerSecond(results, peer, cell)
  return a === undefined || b === undefined ? undefined : a / b
}

/** The docs' section on concurrent writers. */
export async function concurrencySection(results: ConcurrencyResults, charts: ChartWriter): Promise<string> {
  const cells = CONCURRENCY_CELLS.filter((cell) => CLIENT_STORES.some((s) => findRun(results, s, cell)))
  const rows = cells.map((cell) => [cellLabel(cell), ...CLIENT_STORES.map((s) => rate(putsPerSecond(results, s, cell)))])
  const spread = cells.map((cell) => [
    cellLabel(cell),
    ...CLIENT_STORES.map((s) => {
      const r = findRun(results, s, cell)?.putsPerSecond ?? []
      return r.length === 0 ? '—' : `${rate(Math.min(...r))} – ${rate(Math.max(...r))}`
    }),
  ])
  const ratioHeads = STRATA_CLIENT_STORES.flatMap((s) => DISK_PEERS.map((p) => `${s} ÷ ${p}`))
  const ratios = cells.map((cell) => [cellLabel(cell), ...STRATA_CLIENT_STORES.flatMap((s) => DISK_PEERS.map((p) => times(concurrencyRatio(results, s, p, cell))))])
  const row: ThroughputName = 'StrataLevel row'
  const targets = CONCURRENCY_TARGETS.map((t) => {
    const measured = concurrencyRatio(results, row, t.peer, t.cell)
    const cow = concurrencyRatio(results, 'StrataLevel cow', t.peer, t.cell)
    return [`${cellLabel(t.cell)}: Strata ÷ ${t.peer}`, times(measured), times(cow), `≥ ${t.ratio.toFixed(1)}×`, measured === undefined ? '—' : mark(measured >= t.ratio)]
  })
  const chart = await charts.chart('concurrency', 'Independent puts per second by writers in flight and store', {
    title: { text: 'Independent puts, many writers in flight', subtitle: `puts per second, median of ${results.rounds} round(s) of ${thousands(results.puts)} puts on a fresh database (log scale)` },
    data: { values: results.runs.map((r) => ({ store: r.store, cell: cellLabel(r).replaceAll('`', ''), rate: r.median })) },
    width: 680,
    height: 240,
    mark: 'bar',
    encoding: {
      x: { field: 'cell', type: 'nominal', sort: cells.map((c) => cellLabel(c).replaceAll('`', '')), title: null, axis: { labelAngle: 0, labelLimit: 0 } },
      xOffset: { field: 'store', sort: [...CLIENT_STORES] },
      y: { field: 'rate', type: 'quantitative', scale: { type: 'log' }, stack: null, title: 'puts per second (log)' },
      color: { field: 'store', type: 'nominal', scale: colourScale(CLIENT_STORES), title: null },
    },
  })
  return `# Concurrent writers

\`pnpm bench:concurrency\` makes independent puts as a server's request handlers do: each writer
awaits its own \`put\` of a ${results.valueBytes}-byte value under a ${results.keyBytes}-byte key, with N writers in flight at
once, ${thousands(results.puts)} puts on a fresh database per store, cell and round. Durable puts are
\`put(k, v, { sync: true })\` on StrataLevel and level (classic-level), and on lmdb \`await db.put(k, v)\`
followed by \`await db.flushed\` (lmdb-js resolves a put when its transaction commits and, by default
on Linux, syncs after the commit). The \`sync: false\` row is \`put(k, v, { sync: false })\`, and for
lmdb, which has no per-put equivalent, ${results.lmdbNotDurable.replace(/^lmdb: /, '')}. memory-level
writes nothing to disk: the ceiling of the API itself. Each round runs every cell on every store,
the stores taking turns; each figure is the median of ${results.rounds} round(s).${results.quick ? ' **This is a quick run: tiny figures, not for conclusions.**' : ''}

${chart}

${markdownTable(['puts/s (median)', ...CLIENT_STORES], rows)}

Strata ÷ its peers, from the medians:

${markdownTable(['', ...ratioHeads], ratios)}

The targets of group commit (StrataLevel on the ROW engine; the COW engine's ratio beside it):

${markdownTable(['target', 'ROW', 'COW', 'target ratio', 'verdict (ROW)'], targets)}

The spread of the rounds (slowest – fastest):

${markdownTable(['puts/s', ...CLIENT_STORES], spread)}
`
}
