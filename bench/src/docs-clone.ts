/**
 * The docs' section on clones: clone time and bytes written against the database's size for each
 * method, the issue's targets, the time chart, and the write amplification of overwrites on a
 * clone beside its source.
 */
import type { ChartWriter } from './chart-writer.js'
import { type CloneMethod, type CloneResults, type CloneRun, type ClonedState, DEFAULT_SEGMENT_BYTES, medianBytes, medianMs, type OverwriteRun } from './clone-results.js'
import { bytes, thousands, times } from './docs-format.js'
import { markdownTable } from './harness.js'
import { colourScale } from './svg-chart.js'

/** The issue's targets: ROW's clone time at `large` keys within `ratio` × its time at `small`, and bytes written at most one segment plus metadata. */
export const CLONE_TARGET = { small: 10_000, large: 1_000_000, ratio: 2 } as const

/** A target, what was measured against it, and whether it was met (undefined: not run). */
export interface CloneVerdict {
  label: string
  measured: string
  target: string
  met: boolean | undefined
}

/** The run of `method` on `state` at `keys`, if it ran. */
export function cloneRun(results: CloneResults, method: CloneMethod, keys: number, state: ClonedState = 'head'): CloneRun | undefined {
  return results.runs.find((r) => r.method === method && r.keys === keys && r.state === state)
}

/** The sizes `method` ran at, smallest first. */
function sizesOf(results: CloneResults, method: CloneMethod): number[] {
  return [...new Set(results.runs.filter((r) => r.method === method).map((r) => r.keys))].sort((a, b) => a - b)
}

/** The sizes the time target compares: the target's where they ran, else the smallest and largest that did. */
export function comparedSizes(results: CloneResults): { small: number; large: number } | undefined {
  const sizes = sizesOf(results, 'row-link')
  const small = sizes.includes(CLONE_TARGET.small) ? CLONE_TARGET.small : sizes[0]
  const large = sizes.includes(CLONE_TARGET.large) ? CLONE_TARGET.large : sizes.at(-1)
  return small === undefined || large === undefined || small === large ? undefined : { small, large }
}

/** A method's median clone time of `state` (the head by default) at `large` keys ÷ at `small`, if both ran. */
export function cloneTimeRatio(results: CloneResults, method: CloneMethod, small: number, large: number, state: ClonedState = 'head'): number | undefined {
  const a = cloneRun(results, method, small, state)
  const b = cloneRun(results, method, large, state)
  return a && b ? medianMs(b) / medianMs(a) : undefined
}

/**
 * Whether every round of a ROW clone wrote at most one segment plus metadata: it copied at most
 * one file and wrote no more than a segment in all (enough, whatever the metadata).
 */
export function withinOneSegment(run: CloneRun, segmentBytes: number): boolean {
  return run.rounds.every((r) => r.copiedFiles <= 1 && r.bytesWritten <= segmentBytes)
}

const ms = (value: number | undefined) => (value === undefined ? '—' : value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${value.toFixed(value < 10 ? 1 : 0)} ms`)

/** A ROW clone's bytes written, and the files it copied rather than linked. */
function bytesAndCopies(run: CloneRun): string {
  const copied = Math.max(...run.rounds.map((r) => r.copiedFiles))
  return `${bytes(medianBytes(run))} (${copied} file${copied === 1 ? '' : 's'} copied, ${run.rounds.at(-1)?.linkedFiles ?? 0} linked)`
}

/** The issue's two targets, on ROW's clone by hard link of the head. */
export function cloneVerdicts(results: CloneResults): CloneVerdict[] {
  const compared = comparedSizes(results)
  const note = compared && (compared.small !== CLONE_TARGET.small || compared.large !== CLONE_TARGET.large) ? " (the target's sizes did not run)" : ''
  const ratio = compared ? cloneTimeRatio(results, 'row-link', compared.small, compared.large) : undefined
  const large = compared ? cloneRun(results, 'row-link', compared.large) : undefined
  return [
    {
      label: compared ? `ROW clone time, ${thousands(compared.large)} keys ÷ ${thousands(compared.small)} keys${note}` : 'ROW clone time against size',
      measured: times(ratio),
      target: `≤ ${CLONE_TARGET.ratio}×`,
      met: ratio === undefined ? undefined : ratio <= CLONE_TARGET.ratio,
    },
    {
      label: large ? `ROW clone bytes written at ${thousands(large.keys)} keys${note}` : 'ROW clone bytes written',
      measured: large ? bytesAndCopies(large) : '—',
      target: `≤ one segment (${bytes(results.segmentBytes)}) + metadata`,
      met: large === undefined ? undefined : withinOneSegment(large, results.segmentBytes),
    },
  ]
}

/** What each method is, as the tables name it. */
const METHOD_LABELS: Record<CloneMethod, string> = {
  'row-link': 'ROW clone, hard links',
  'row-copy': 'ROW clone, `link: false`',
  cow: 'COW clone',
  export: 'ROW export',
}

function overwriteRun(results: CloneResults, run: { engine: string; keys: number }, on: 'clone' | 'source'): OverwriteRun | undefined {
  return results.overwriteRuns.find((o) => o.engine === run.engine && o.keys === run.keys && o.on === on)
}

/** The table of one state's copies: a row per size and method. */
function copyTable(results: CloneResults, state: ClonedState): string {
  const rows = results.runs
    .filter((r) => r.state === state)
    .sort((a, b) => a.keys - b.keys)
    .map((r) => {
      const last = r.rounds.at(-1)
      const fastest = Math.min(...r.rounds.map((x) => x.ms))
      const slowest = Math.max(...r.rounds.map((x) => x.ms))
      const linkRun = cloneRun(results, 'row-link', r.keys, state)
      return [
        thousands(r.keys),
        METHOD_LABELS[r.method],
        ms(medianMs(r)),
        `${ms(fastest)} – ${ms(slowest)}`,
        bytes(medianBytes(r)),
        r.method === 'export' ? '—' : `${last?.linkedFiles ?? 0} / ${last?.copiedFiles ?? 0}`,
        linkRun && r.method !== 'row-link' ? times(medianMs(r) / medianMs(linkRun), 1) : '—',
      ]
    })
  return markdownTable(['keys', 'method', 'median time', 'fastest – slowest', 'bytes written', 'files linked / copied', 'time ÷ ROW link'], rows)
}

/** The fastest and slowest rounds of a run. */
function span(run: CloneRun): readonly [number, number] {
  return [Math.min(...run.rounds.map((r) => r.ms)), Math.max(...run.rounds.map((r) => r.ms))]
}

/** Whether the rounds of ROW's clone by hard link at the two compared sizes overlap: then their ratio is within the noise. */
export function roundsOverlap(results: CloneResults): boolean {
  const compared = comparedSizes(results)
  const small = compared ? cloneRun(results, 'row-link', compared.small) : undefined
  const large = compared ? cloneRun(results, 'row-link', compared.large) : undefined
  if (!small || !large) return false
  const [a, b] = [span(small), span(large)]
  return a[1] >= b[0] && b[1] >= a[0]
}

/** The fastest and slowest rounds of ROW's clone by hard link of the head at the compared sizes, and whether they overlap. */
function spreadLine(results: CloneResults): string {
  const compared = comparedSizes(results)
  const small = compared ? cloneRun(results, 'row-link', compared.small) : undefined
  const large = compared ? cloneRun(results, 'row-link', compared.large) : undefined
  if (!small || !large) return ''
  const [a, b] = [span(small), span(large)]
  const overlap = roundsOverlap(results)
  return `ROW's clones by hard link took ${ms(a[0])} to ${ms(a[1])} at ${thousands(small.keys)} keys and ${ms(b[0])} to ${ms(b[1])} at ${thousands(large.keys)}${overlap ? ': the rounds of the two sizes overlap, so the ratio of their medians is within this machine\'s noise and reads as "about there", not as a margin' : ''}.`
}

/** ROW's clone by hard link of the head once the named snapshot is deleted, at each size, beside the same with it held. */
function withoutSnapshotLine(results: CloneResults): string {
  const runs = results.runs.filter((r) => r.state === 'head-no-snapshot').sort((a, b) => a.keys - b.keys)
  if (runs.length === 0) return ''
  const cells = runs.map((r) => {
    const held = cloneRun(results, 'row-link', r.keys)
    return `${ms(medianMs(r))} at ${thousands(r.keys)} keys (held: ${ms(held ? medianMs(held) : undefined)})`
  })
  const compared = comparedSizes(results)
  const without = compared ? cloneTimeRatio(results, 'row-link', compared.small, compared.large, 'head-no-snapshot') : undefined
  const ratio = without === undefined ? '' : ` The ratio of the two sizes is then ${times(without)}.`
  return `**Without the named snapshot.** With a named snapshot held, a ROW clone's checkpoint of the source,
the clone's recovery and the deletion of the snapshot in the clone each go through the list of pages
the snapshot alone keeps, which grows with the database. After the rounds the benchmark deletes the
snapshot from the source and clones the head by hard link ${results.rounds} more time${results.rounds === 1 ? '' : 's'}: ${cells.join(', ')}.${ratio}`
}

/** The docs' section. */
export async function cloneSection(results: CloneResults, charts: ChartWriter): Promise<string> {
  const compared = comparedSizes(results)
  const verdicts = cloneVerdicts(results)
  // The chart's lines: each method's clones of the head, and ROW's by link once the named snapshot is deleted.
  const line = (r: CloneRun) => (r.state === 'head-no-snapshot' ? `${r.method}, no snapshot` : r.method)
  const lines = results.runs.filter((r) => r.state !== 'named')
  const methods = [...new Set(lines.map(line))]
  const chart = await charts.chart('clone-time', 'Clone time against the number of keys, one line per method', {
    title: { text: 'Clone time against database size', subtitle: `the head, median of ${results.rounds} round${results.rounds === 1 ? '' : 's'}; the source holds a named snapshot, deleted for the last line` },
    data: { values: lines.map((r) => ({ method: line(r), keys: r.keys, ms: medianMs(r) })) },
    width: 460,
    height: 260,
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'keys', type: 'quantitative', scale: { type: 'log' }, title: 'keys (log)', axis: { format: '~s' } },
      y: { field: 'ms', type: 'quantitative', scale: { type: 'log' }, title: 'milliseconds (log)' },
      color: { field: 'method', type: 'nominal', scale: colourScale(methods), title: null, legend: { labelLimit: 240 } },
    },
  })
  const sources = results.sources.map((s) => `${s.engine.toUpperCase()} at ${thousands(s.keys)} keys ${bytes(s.fileBytes)}${s.segments === undefined ? '' : ` in ${s.segments} segment${s.segments === 1 ? '' : 's'}`}`).join(', ')
  const waRows = results.sources
    .filter((s) => overwriteRun(results, s, 'clone') && overwriteRun(results, s, 'source'))
    .map((s) => {
      const clone = overwriteRun(results, s, 'clone') as OverwriteRun
      const source = overwriteRun(results, s, 'source') as OverwriteRun
      return [thousands(s.keys), s.engine.toUpperCase(), times(clone.writeAmplification), times(source.writeAmplification), times(clone.writeAmplification / source.writeAmplification), `${clone.seconds.toFixed(1)} s / ${source.seconds.toFixed(1)} s`]
    })
  const large = compared ? cloneRun(results, 'row-link', compared.large) : undefined
  const cowLarge = compared ? cloneRun(results, 'cow', compared.large) : undefined
  const copyLarge = compared ? cloneRun(results, 'row-copy', compared.large) : undefined
  const exportLarge = compared ? cloneRun(results, 'export', compared.large) : undefined
  const namedLarge = compared ? cloneRun(results, 'row-link', compared.large, 'named') : undefined
  const rowLinks = results.runs.filter((r) => r.method === 'row-link')
  const copies = [...new Set(rowLinks.flatMap((r) => r.rounds.map((x) => x.copiedFiles)))].sort((a, b) => a - b)
  const rowCopies = rowLinks.length === 0 ? 'no ROW clone by link ran' : copies.length === 1 && copies[0] === 0 ? 'no file was copied in any of this run\'s clones by link' : `the clones by link copied ${copies.join(' or ')} files`
  const largeLine =
    compared && large
      ? `At ${thousands(compared.large)} keys the clone by hard link took ${ms(medianMs(large))} and wrote ${bytes(medianBytes(large))}; ` +
        [copyLarge && `copying the segments instead took ${ms(medianMs(copyLarge))} and wrote ${bytes(medianBytes(copyLarge))}`, cowLarge && `a COW clone ${ms(medianMs(cowLarge))} and ${bytes(medianBytes(cowLarge))}`, exportLarge && `an export ${ms(medianMs(exportLarge))} and ${bytes(medianBytes(exportLarge))}`]
          .filter((x) => x)
          .join(', ') +
        '.'
      : ''
  return `# Clones

\`pnpm bench:clone\` loads a database through StrataLevel (16-byte keys, ${results.valueBytes}-byte values, random
order, batches of ${thousands(results.batch)}) on each engine, taking a named snapshot when half the keys are in, and closes
and reopens it, so no checkpoint the load owes falls in a clone's time. Then, in each of ${results.rounds} round${results.rounds === 1 ? '' : 's'},
every method copies the head, and the named snapshot, into a new folder on the same file system,
taking turns: \`db.snapshots.clone\` on the ROW engine with hard links (the default) and with
\`link: false\`, \`db.snapshots.clone\` on the COW engine, and \`db.snapshots.export\` of the ROW
database (of the head by way of a snapshot made and deleted outside the timing). Before each copy
the file system's dirty pages are written out (\`sync -f\`), garbage is collected and the process
waits a second, so that no copy's time includes the write-back of the one before it or the
background work it left (most likely V8 freeing the buffers of a clone's page cache). The time is the call's, to its resolution, durable; bytes written are the clone's \`bytesWritten\`, and for an export
the bytes of the folder it made. ROW's segments are ${bytes(results.segmentBytes)}${results.segmentBytes === DEFAULT_SEGMENT_BYTES ? ' (the default)' : ` (the default is ${bytes(DEFAULT_SEGMENT_BYTES)})`}. The sources: ${sources}.

The head:

${copyTable(results, 'head')}

The named snapshot taken halfway through the load:

${copyTable(results, 'named')}

${markdownTable(['target', 'measured', 'target', 'verdict'], verdicts.map((v) => [v.label, v.measured, v.target, v.met === undefined ? 'not run' : v.met ? '✅ met' : '❌ not met']))}

${spreadLine(results)}

${withoutSnapshotLine(results)}

${chart}

${largeLine} A ROW clone checkpoints the source and seals its active segment (the source goes on in
a new one), links every segment up to it, and writes META, an empty segment and the records of its
own first steps (format.md §Clones): ${rowCopies}. A COW clone copies every file
(pages.db, the WAL and the pre-image stores): it scales with the database, as the copy of ROW's
segments does. An export reads every entry and writes a new, compact database.${namedLarge && large ? ` A clone of the named snapshot restores it in the clone, and a restore walks every page where the head and the snapshot differ (to move their space between freed and in use), read cold in the new clone: ${ms(medianMs(namedLarge))} at ${thousands(namedLarge.keys)} keys, where the two differ by half the keys, against the head's ${ms(medianMs(large))}.` : ''}

**The first overwrites on a clone.** After the rounds, a clone of the head of each engine (ROW's by
hard link) and its source, from which the named snapshot is deleted so that the two are alike, each
take the same ${thousands(results.overwrites)} uniform random overwrites in durable batches of ${thousands(results.batch)}, one after the
other; write amplification is every byte their storage wrote, the close included, ÷ the user's
bytes (Strata's own counters, as §Sustained writes counts them).

${markdownTable(['keys', 'engine', 'on the clone', 'on the source', 'clone ÷ source', 'seconds, clone / source'], waRows)}
`
}
