/**
 * The sustained-writes section of docs/benchmarks.md: where ROW's and LevelDB's write
 * amplification and write rate settle over a run many times the database's size.
 */
import type { ChartWriter } from './chart-writer.js'
import { rate, thousands, times } from './docs-format.js'
import { markdownTable } from './harness.js'
import type { SustainedPoint, SustainedResults, SustainedRun } from './sustained.js'
import { colourScale } from './svg-chart.js'

/** Device write amplification of a point, or undefined without a counter. */
export function pointAmplification(point: SustainedPoint): number | undefined {
  return point.deviceBytes === undefined ? undefined : point.deviceBytes / point.userBytes
}

/** Device write amplification after the close, or undefined without a counter. */
export function closedAmplification(run: SustainedRun): number | undefined {
  const last = run.points.at(-1)
  return run.closedDeviceBytes === undefined || !last ? undefined : run.closedDeviceBytes / last.userBytes
}

/** Puts per second over the whole run, the close included. */
export function closedRate(run: SustainedRun): number | undefined {
  const last = run.points.at(-1)
  return last ? last.operations / run.closedSeconds : undefined
}

export async function sustainedSection(results: SustainedResults, charts: ChartWriter): Promise<string> {
  // The write-amplification comparison: the runs without a snapshot held.
  const r = { ...results, runs: results.runs.filter((run) => run.snapshotHeld !== true) }
  const row = r.runs.find((x) => x.store === 'strata-row')
  const level = r.runs.find((x) => x.store === 'level')
  const cell = (run: SustainedRun | undefined, m: number) => {
    const p = run?.points[m] as SustainedPoint | undefined
    return p ? `${times(pointAmplification(p))} · ${rate(p.operations / p.seconds)}` : '—'
  }
  const rows = Array.from({ length: r.times }, (_, m) => [`${m + 1}×`, ...r.runs.map((run) => cell(run, m))])
  rows.push(['after the close', ...r.runs.map((run) => `${times(closedAmplification(run))} · ${rate(closedRate(run))}`)])
  const chart = await charts.chart('sustained', 'Write amplification on the block device over a long run of overwrites', {
    title: { text: 'Write amplification over a long run', subtitle: `${thousands(r.keys)} keys, durable batches of ${thousands(r.batch)} uniform overwrites; block device counter` },
    data: { values: r.runs.flatMap((run) => run.points.map((p) => ({ store: run.store, multiple: p.multiple, wa: pointAmplification(p) }))).filter((d) => d.wa !== undefined) },
    width: 460,
    height: 240,
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'multiple', type: 'quantitative', title: "overwrites so far, in multiples of the database's entries", axis: { tickMinStep: 1 } },
      y: { field: 'wa', type: 'quantitative', title: 'bytes written ÷ user bytes', scale: { zero: true } },
      color: { field: 'store', type: 'nominal', scale: colourScale(r.runs.map((run) => run.store)), title: null },
    },
  })
  const rowWa = row ? closedAmplification(row) : undefined
  const levelWa = level ? closedAmplification(level) : undefined
  const rowRate = row ? closedRate(row) : undefined
  const levelRate = level ? closedRate(level) : undefined
  const levelPoints = level?.points.map(pointAmplification).filter((x): x is number => x !== undefined) ?? []
  const levelSpread = levelPoints.length > 0 ? `${times(Math.min(...levelPoints))} to ${times(Math.max(...levelPoints))}` : '—'
  const levelFlat = levelPoints.length > 1 && Math.max(...levelPoints) / Math.min(...levelPoints) < 1.15
  const levelLine = levelFlat
    ? `**LevelDB's write amplification does not grow with a longer run** at this size: ${levelSpread} at
  every multiple. At ${thousands(r.keys)} keys its compactions are at their steady state from the first
  multiple on; the figure is not a short run's compaction debt.`
    : `**LevelDB's write amplification moves with the length of the run**: ${levelSpread} over the
  multiples, ${times(levelPoints[0])} after the first and ${times(levelPoints.at(-1))} after the last.`
  const rateRatio = rowRate !== undefined && levelRate !== undefined ? rowRate / levelRate : undefined
  const rateLine =
    rateRatio !== undefined && rateRatio > 0.8 && rateRatio < 1.25
      ? `**Sustained, the two write at about the same rate**: ${rate(rowRate)} against ${rate(levelRate)} puts per second,
  ROW ÷ level ${times(rateRatio)}, checkpoints and cleaning included.`
      : `**Sustained, ROW writes ${times(rateRatio)} level's rate**: ${rate(rowRate)} against ${rate(levelRate)} puts per second,
  checkpoints and cleaning included.`
  return `# Sustained writes

\`pnpm bench:sustained\` loads ${thousands(r.keys)} keys, closes and reopens the store, then writes
${r.times} times as many uniform random overwrites of ${r.valueBytes}-byte values in durable batches of ${thousands(r.batch)},
reading the block device's counter${r.device ? ` (\`${r.device}\`${r.deviceBackingFile ? `, a loop device over \`${r.deviceBackingFile}\`` : ''})` : ''} after each multiple of the database's size and
once more after the close. Each cell: device write amplification so far · puts per second so far
(time in the store's writes only).${r.quick ? ' **This is a quick run: tiny figures, not for conclusions.**' : ''}

${markdownTable(['overwrites so far', ...r.runs.map((run) => run.store)], rows)}

${chart}

What this shows:

- ${levelLine}
- **ROW's settles at ${times(rowWa)}** after the close: the log once, and each page a checkpoint
  rewrites about once per log's worth of its bytes (docs/architecture.md §Checkpoint policy).
  ROW ÷ level: **${times(rowWa !== undefined && levelWa !== undefined ? rowWa / levelWa : undefined)}** (the project's target is at most 0.20×).
- ${rateLine} The burst figures of the abstract-level and
  throughput benchmarks (20 batches a round, or 15 seconds) fall mostly between checkpoints; this
  is the rate a write load that never stops gets.${r.deviceBackingFile?.startsWith('/dev/shm') ? ' A sync here is cheap (the device is in RAM), which favours neither store: each syncs once per batch.' : ''}
`
}
