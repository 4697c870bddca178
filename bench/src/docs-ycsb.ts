/** The docs' YCSB section: throughput and latency of the six core workloads by clients, and the issue's targets. */
import type { ChartWriter } from './chart-writer.js'
import { CLIENT_STORES, DISK_PEERS } from './clients.js'
import { mark, rate, thousands, times } from './docs-format.js'
import { markdownTable } from './harness.js'
import { colourScale } from './svg-chart.js'
import type { ThroughputName } from './throughput-stores.js'
import { FULL_RUN_RECORDS, MAX_SCAN_LENGTH, YCSB_OPERATIONS, type YcsbWorkloadName } from './ycsb-workloads.js'
import type { LatencySummary, YcsbCell, YcsbResults } from './ycsb.js'

/** The clients at which the targets are read. */
const TARGET_CLIENTS = 64

/** The cell of `store`, `workload` and `clients`, if it ran. */
export function ycsbCell(results: YcsbResults, store: ThroughputName, workload: YcsbWorkloadName, clients: number): YcsbCell | undefined {
  return results.cells.find((c) => c.store === store && c.workload === workload && c.clients === clients)
}

/** Microseconds as the latency tables show them: milliseconds to three significant digits or so. */
function ms(us: number): string {
  return (us / 1000).toFixed(us < 1000 ? 3 : us < 10_000 ? 2 : 0)
}

function latencyCell(l: LatencySummary | undefined): string {
  return l ? [l.p50, l.p99, l.p999, l.max].map(ms).join(' / ') : '—'
}

/** The targets of issue 20 on workloads A and B at 64 clients, when the run has 64 clients. */
function targets(results: YcsbResults): string[][] {
  if (!results.clients.includes(TARGET_CLIENTS)) return []
  return (['A', 'B'] as const).flatMap((w) => {
    const at = (s: ThroughputName) => ycsbCell(results, s, w, TARGET_CLIENTS)
    const row = at('StrataLevel row')
    const best = Math.max(...DISK_PEERS.map((p) => at(p)?.operationsPerSecond ?? 0))
    const ratio = row && best > 0 ? row.operationsPerSecond / best : undefined
    const rowWrite = row?.latency.update?.p999
    const levelWrite = at('level')?.latency.update?.p999
    return [
      [`${w}, ${TARGET_CLIENTS} clients: throughput ÷ the best of level and lmdb`, times(ratio), '≥ 2.0×', ratio === undefined ? '—' : mark(ratio >= 2)],
      [`${w}, ${TARGET_CLIENTS} clients: update p99.9, Strata against level`, rowWrite === undefined || levelWrite === undefined ? '—' : `${ms(rowWrite)} ms against ${ms(levelWrite)} ms`, 'no worse', rowWrite === undefined || levelWrite === undefined ? '—' : mark(rowWrite <= levelWrite)],
    ]
  })
}

/** What a chart of one figure against clients shows: a point per panel, store and client count. */
interface ByClients {
  points: { panel: string; store: string; clients: number; y: number }[]
  /** The panels in order; a panel without points is left out. */
  panels: string[]
  columns: number
  yTitle: string
}

/** A chart of small multiples, one panel each, of a figure against clients, a line per store, both axes logarithmic. */
function byClients(results: YcsbResults, chart: ByClients) {
  return {
    data: { values: chart.points },
    facet: { field: 'panel', type: 'nominal', sort: chart.panels, title: null },
    columns: chart.columns,
    spec: {
      width: chart.columns > 3 ? 160 : 200,
      height: chart.columns > 3 ? 120 : 150,
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'clients', type: 'quantitative', scale: { type: 'log', base: 2 }, axis: { values: results.clients }, title: 'clients' },
        y: { field: 'y', type: 'quantitative', scale: { type: 'log' }, title: chart.yTitle },
        color: { field: 'store', type: 'nominal', scale: colourScale(CLIENT_STORES), title: null },
      },
    },
  } as const
}

/** The docs' YCSB section. */
export async function ycsbSection(results: YcsbResults, charts: ChartWriter): Promise<string> {
  const workloads = results.workloads
  const throughputRows = workloads.flatMap((w) => results.clients.map((c) => [`${w.name}, ${c}`, ...CLIENT_STORES.map((s) => rate(ycsbCell(results, s, w.name, c)?.operationsPerSecond))]))
  const latencyTables = workloads.map((w) => {
    const operations = YCSB_OPERATIONS.filter((o) => results.cells.some((c) => c.workload === w.name && c.latency[o]))
    const rows = results.clients.flatMap((c) => operations.map((o) => [`${c}`, o, ...CLIENT_STORES.map((s) => latencyCell(ycsbCell(results, s, w.name, c)?.latency[o]))]))
    return `**${w.name}** (${w.description}), latency in ms, p50 / p99 / p99.9 / max:

${markdownTable(['clients', 'operation', ...CLIENT_STORES], rows)}
`
  })
  const subtitle = `${thousands(results.records)} records of ${results.valueBytes} bytes, zipfian keys, durable writes, ${results.secondsPerCell} s per cell (log scales)`
  const throughputChart = await charts.chart('ycsb-throughput', 'YCSB throughput against clients, by workload and store', {
    title: { text: 'YCSB throughput against clients', subtitle },
    ...byClients(results, {
      points: results.cells.map((c) => ({ panel: `workload ${c.workload}`, store: c.store, clients: c.clients, y: c.operationsPerSecond })),
      panels: workloads.map((w) => `workload ${w.name}`),
      columns: 3,
      yTitle: 'operations per second (log)',
    }),
  })
  const latencyChart = await charts.chart('ycsb-p99', 'YCSB p99 latency against clients, by workload, operation type and store', {
    title: { text: 'YCSB p99 latency against clients', subtitle },
    ...byClients(results, {
      points: results.cells.flatMap((c) => YCSB_OPERATIONS.filter((o) => c.latency[o]).map((o) => ({ panel: `${c.workload}: ${o}`, store: c.store, clients: c.clients, y: (c.latency[o] as LatencySummary).p99 / 1000 }))),
      panels: workloads.flatMap((w) => YCSB_OPERATIONS.map((o) => `${w.name}: ${o}`)),
      columns: 4,
      yTitle: 'p99, ms (log)',
    }),
  })
  const verdicts = targets(results)
  return `# YCSB

\`pnpm bench:ycsb\` runs YCSB's six core workloads on ${thousands(results.records)} records of ${results.valueBytes} bytes (16-byte
keys), loaded in batches of 1,000, with zipfian keys (θ = 0.99; workload D reads the newest records
hottest). C clients each issue one operation, await it and issue the next, as request handlers do
(C = ${results.clients.join(', ')}); every write is durable (\`sync: true\` on StrataLevel and level, a put then
\`db.flushed\` on lmdb). Each store is loaded once and runs every workload at every C for
${results.secondsPerCell} s, in YCSB's order (A, B, C, F, D, E: the two that insert last). Latency is each
operation's time from its call to its answer, kept in an HDR histogram (hdr-histogram-js, three
significant digits) per cell and operation type.${results.quick ? ' **This is a quick run: tiny figures, not for conclusions.**' : results.records < FULL_RUN_RECORDS ? ` This run is smaller than a full one (${thousands(FULL_RUN_RECORDS)} records, \`pnpm bench:ycsb\` without \`--records\`).` : ''}

${markdownTable(['workload', 'mix'], workloads.map((w) => [w.name, w.description]))}

A scan reads a uniform 1 to ${MAX_SCAN_LENGTH} records from its start key; a read-modify-write reads a record
and writes it back changed, timed as one operation.

${throughputChart}

${markdownTable(['ops/s: workload, clients', ...CLIENT_STORES], throughputRows)}

${latencyChart}

${latencyTables.join('\n')}
${verdicts.length > 0 ? `The targets (StrataLevel on the ROW engine, ${TARGET_CLIENTS} clients, in this run):

${markdownTable(['target', 'measured', 'target', 'verdict'], verdicts)}
` : ''}`
}
