/**
 * The docs' sections on the write-amplification study and the copy-before-write check: the
 * literature's claims with their charts and verdicts, then where the bytes go, batch sizes,
 * workloads and value sizes, space, snapshot reads and snapshot creation.
 */
import { PURPOSES, type Purpose } from '@strata/storage'
import type { StudyResults } from './amplification-study.js'
import type { ChartWriter } from './chart-writer.js'
import { bytes, percent, thousands, times, valueSize } from './docs-format.js'
import { markdownTable } from './harness.js'
import { colourScale } from './svg-chart.js'
import { CRITERIA, claimFigures, growsLinearly, rowIgnoresK, sharedStaysFlat } from './study-claims.js'
import { type CellResult, VARIANTS } from './study-cell.js'
import { SNAPSHOT_SWEEP_BATCH } from './study-plan.js'
import { WORKLOAD_DESCRIPTIONS, WORKLOADS } from './workloads.js'

/** What cow-bench.ts writes: the overwrite-every-page-once check. */
export interface CowBenchResults {
  keys: number
  valueBytes: number
  pageSize: number
  batch: number
  runs: { variant: string; snapshots: number; pages: number; writeAmplification: number; extraReadsPerPage: number; extraWritesPerPage: number; preimageBytes: number }[]
}

const VARIANT_NAMES: Record<string, string> = { row: 'ROW', 'cow-per-snapshot': 'COW per-snapshot', 'cow-shared': 'COW shared' }

function find(cells: readonly CellResult[], variant: string, workload: string, valueBytes: number, batch: number, k: number): CellResult | undefined {
  return cells.find((c) => c.variant === variant && c.workload === workload && c.valueBytes === valueBytes && c.batch === batch && c.snapshots === k)
}

/** The claims, each with its chart and its verdict. */
async function claimsSection(study: StudyResults, cow: CowBenchResults | undefined, charts: ChartWriter): Promise<string> {
  const cells = study.cells
  const figures = claimFigures(cells)
  const overwriting = figures.filter((f) => f.workload !== 'sequential')
  const ks = [...new Set(cells.filter((c) => c.batch === SNAPSHOT_SWEEP_BATCH).map((c) => c.snapshots))].sort((a, b) => a - b)
  const byK = await charts.chart('wa-by-snapshots', 'Write amplification against live snapshots, by workload and value size', {
    title: { text: 'Write amplification against live snapshots', subtitle: `batches of ${thousands(SNAPSHOT_SWEEP_BATCH)}; every byte written ÷ user bytes` },
    data: {
      values: cells
        .filter((c) => c.batch === SNAPSHOT_SWEEP_BATCH)
        .map((c) => ({ k: c.snapshots, wa: c.writeAmplification, variant: c.variant, workload: c.workload, value: valueSize(c.valueBytes) })),
    },
    facet: { column: { field: 'workload', sort: [...WORKLOADS], title: null }, row: { field: 'value', title: 'value size' } },
    spec: {
      width: 150,
      height: 130,
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'k', type: 'quantitative', title: 'live snapshots k', axis: { values: ks.filter((k) => k === 0 || k >= 4) } },
        y: { field: 'wa', type: 'quantitative', title: 'WA (×)' },
        color: { field: 'variant', type: 'nominal', scale: colourScale(VARIANTS), title: null },
      },
    },
    resolve: { scale: { y: 'independent' }, axis: { x: 'independent' } },
  })
  const verdictRows = figures.map((f) => [
    `${f.workload}, ${valueSize(f.valueBytes)}`,
    `${f.perSnapshot.slope.toFixed(3)}× per snapshot (${percent(f.perSnapshotGrowth)} of k = 0), R² = ${f.perSnapshot.r2.toFixed(4)}`,
    growsLinearly(f) ? 'yes' : f.perSnapshotGrowth < CRITERIA.growing ? 'no growth' : 'no',
    `${percent(f.sharedFirstSnapshot)} at k = 1, then ±${percent(f.sharedDrift)}`,
    sharedStaysFlat(f) ? 'yes' : 'no',
    `±${percent(f.rowDrift)}`,
    rowIgnoresK(f) ? 'yes' : 'no',
  ])
  const linear = overwriting.every(growsLinearly)
  const flat = figures.every(sharedStaysFlat)
  const row = figures.every(rowIgnoresK)
  const verdict = (ok: boolean) => (ok ? '**Reproduced.**' : '**Not reproduced** (see the table).')
  let firstOverwrite = ''
  if (cow) {
    const runs = cow.runs.filter((r) => r.variant !== 'row')
    const points = runs.flatMap((r) => [
      { k: r.snapshots, mode: r.variant, kind: 'extra page reads', value: r.extraReadsPerPage },
      { k: r.snapshots, mode: r.variant, kind: 'extra page writes', value: r.extraWritesPerPage },
    ])
    const chart = await charts.chart('first-overwrite', 'Extra page reads and writes per overwritten page against live snapshots', {
      title: { text: 'The first overwrite of a page after the snapshots', subtitle: `extra I/O per overwritten page; ${thousands(cow.keys)} keys, every page overwritten once` },
      data: { values: points },
      width: 420,
      height: 240,
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'k', type: 'quantitative', title: 'live snapshots k', axis: { values: [...new Set(runs.map((r) => r.snapshots))] } },
        y: { field: 'value', type: 'quantitative', title: 'extra pages per overwritten page' },
        color: { field: 'mode', type: 'nominal', scale: colourScale(['cow-per-snapshot', 'cow-shared']), title: null },
        strokeDash: { field: 'kind', type: 'nominal', title: null },
        shape: { field: 'kind', type: 'nominal', title: null },
      },
    })
    const shared = runs.filter((r) => r.variant === 'cow-shared' && r.snapshots > 0)
    const per = runs.filter((r) => r.variant === 'cow-per-snapshot' && r.snapshots > 0)
    const near = (a: number, b: number) => Math.abs(a - b) <= 0.05 * Math.max(1, b)
    const ok = shared.every((r) => near(r.extraReadsPerPage, 1) && near(r.extraWritesPerPage, 1)) && per.every((r) => near(r.extraReadsPerPage, 1) && near(r.extraWritesPerPage, r.snapshots))
    firstOverwrite = `### The first overwrite after a snapshot costs COW one extra read and one extra write

${chart}

\`pnpm bench:cow\` loads ${thousands(cow.keys)} keys (${cow.valueBytes}-byte values, ${thousands(cow.pageSize)}-byte pages), reopens the database
(every page on disk, none in memory), takes *k* snapshots, overwrites every key once in key order in
batches of ${thousands(cow.batch)} and checkpoints: every page of the tree is overwritten exactly once, so the extra
I/O per overwritten page can be read straight off the pre-image counters (\`bytesRead.preimage\` and
\`bytesWritten.preimage\` ÷ page size ÷ pages).

${markdownTable(
  ['live snapshots', 'per-snapshot: extra reads / writes per page', 'shared: extra reads / writes per page', 'write amplification per-snapshot / shared / ROW'],
  [...new Set(cow.runs.map((r) => r.snapshots))].map((k) => {
    const at = (variant: string) => cow.runs.find((r) => r.variant === variant && r.snapshots === k)
    const p = at('cow-per-snapshot')
    const s = at('cow-shared')
    return [String(k), p ? `${p.extraReadsPerPage.toFixed(2)} / ${p.extraWritesPerPage.toFixed(2)}` : '—', s ? `${s.extraReadsPerPage.toFixed(2)} / ${s.extraWritesPerPage.toFixed(2)}` : '—', `${times(p?.writeAmplification)} / ${times(s?.writeAmplification)} / ${times(at('row')?.writeAmplification)}`]
  }),
)}

${ok ? '**Reproduced.**' : '**Not reproduced** (see the table).'} With the shared store, the first overwrite of a page after any number of
snapshots costs one extra page read (the old content) and one extra page write (its copy). With
per-snapshot stores it costs one read and *k* writes: the old content is read once and written to
each snapshot's store, as LVM's kcopyd copies one origin chunk to every snapshot's exception store.
Later overwrites of the same page cost nothing extra until the next snapshot.
`
  }
  return `## What the literature says, measured

Four claims about the two techniques, each checked against the measurement with a stated criterion:
*linear* means a least-squares line over k = 1 … 16 with R² ≥ ${CRITERIA.linearR2} and a slope of at least
${percent(CRITERIA.growing, 0)} of the k = 0 cost per snapshot; *flat* means within ±${percent(CRITERIA.flat, 0)} across k.

${byK}

${markdownTable(['workload, value size', 'COW per-snapshot: slope over k ≥ 1', 'linear?', 'COW shared: change with k', 'flat?', 'ROW: change with k', 'flat?'], verdictRows)}

### COW per-snapshot write cost grows about linearly with k

${verdict(linear)} Wherever the workload overwrites existing pages (uniform, zipfian, mixed), each
further live snapshot adds the same number of bytes: every page the workload overwrites is copied
once into every snapshot's own store before its first overwrite, as LVM copies every origin chunk
once per snapshot. The slope is the pre-image bytes of the pages the workload dirties divided by
the user bytes: ${overwriting.length > 0 ? `${times(Math.min(...overwriting.map((f) => f.perSnapshot.slope)))} to ${times(Math.max(...overwriting.map((f) => f.perSnapshot.slope)))}` : '—'} per snapshot here. Sequential inserts write new pages that
no snapshot has seen, so they copy almost nothing and show no growth, which is what the rule
predicts.

### COW shared stays about flat

${verdict(flat)} The first snapshot costs the copies (${figures.length > 0 ? `${percent(Math.min(...overwriting.map((f) => f.sharedFirstSnapshot)))} to ${percent(Math.max(...overwriting.map((f) => f.sharedFirstSnapshot)))}` : '—'} more bytes than
k = 0 on the overwriting workloads); every further snapshot of the same state shares them.

### ROW's cost does not depend on k

${verdict(row)} A ROW snapshot is a pinned root: writes go to new places whether or not an old
version is pinned, so the bytes written are the same at every k. (What k changes for ROW is
space: see below.)

${firstOverwrite}`
}

/** Where the bytes go, by purpose, for one workload. */
async function purposeSection(cells: readonly CellResult[], charts: ChartWriter): Promise<string> {
  const ks = [0, 1, 4, 16].filter((k) => cells.some((c) => c.snapshots === k && c.batch === SNAPSHOT_SWEEP_BATCH))
  const chosen = cells.filter((c) => c.workload === 'uniform' && c.batch === SNAPSHOT_SWEEP_BATCH && ks.includes(c.snapshots))
  const values = chosen.flatMap((c) =>
    PURPOSES.filter((p) => c.bytesWrittenBy[p] > 0).map((p) => ({ stack: PURPOSES.indexOf(p), bar: `${VARIANT_NAMES[c.variant]} k=${c.snapshots}`, order: VARIANTS.indexOf(c.variant) * 100 + c.snapshots, purpose: p, wa: c.bytesWrittenBy[p] / c.userBytes, value: valueSize(c.valueBytes) })),
  )
  const chart = await charts.chart('wa-by-purpose', 'Write amplification by purpose, uniform overwrites', {
    title: { text: 'Where the bytes go (uniform overwrites)', subtitle: 'bytes written by purpose ÷ user bytes' },
    data: { values },
    facet: { row: { field: 'value', title: 'value size' } },
    spec: {
      width: 460,
      height: 200,
      mark: 'bar',
      encoding: {
        y: { field: 'bar', type: 'nominal', title: null, sort: { field: 'order' }, axis: { labelLimit: 240 } },
        x: { field: 'wa', type: 'quantitative', title: 'bytes written ÷ user bytes', stack: 'zero' },
        color: { field: 'purpose', type: 'nominal', scale: { domain: [...PURPOSES], scheme: 'tableau10' }, title: 'purpose' },
        order: { field: 'stack' },
      },
    },
    resolve: { scale: { x: 'independent' }, axis: { y: 'independent' } },
  })
  const rows = chosen
    .sort((a, b) => a.valueBytes - b.valueBytes || VARIANTS.indexOf(a.variant) - VARIANTS.indexOf(b.variant) || a.snapshots - b.snapshots)
    .map((c) => [`${valueSize(c.valueBytes)}, ${VARIANT_NAMES[c.variant]}, k = ${c.snapshots}`, ...PURPOSES.map((p) => times(c.bytesWrittenBy[p] / c.userBytes)), times(c.writeAmplification), times(c.bytesReadBy.preimage / c.userBytes)])
  return `## Where the bytes go

${chart}

Bytes written by purpose ÷ user bytes, uniform overwrites, batches of ${thousands(SNAPSHOT_SWEEP_BATCH)} (the last column is bytes *read*
to make the copies):

${markdownTable(['value, variant, snapshots', ...PURPOSES, 'total', 'pre-image reads'], rows)}

- **log**: the batch records (keys, values up to the inline limit, a header per record). About 1×.
- **page**: tree pages. ROW writes a dirty page once, at a checkpoint, somewhere new; COW writes it
  twice, as a full-page image in its WAL (so a torn in-place write can be repaired) and then in
  place, which is why COW at k = 0 already writes about twice ROW's page bytes.
- **value**: values too large to sit in a leaf (4 KiB here). ROW writes each once, in the log (and
  again if reclamation moves it); COW writes its WAL VALUE record, then, for the version a
  checkpoint finds, an overflow chain as WAL images and in place (two whole 4 KiB pages for a
  4,096-byte value).
- **reclaim**: ROW copying what the head still uses out of mostly-empty segments so they can go.
- **preimage**: COW's copies of old page contents for the snapshots.
`
}

/** Write amplification against batch size. */
async function batchSection(cells: readonly CellResult[], charts: ChartWriter): Promise<string> {
  const sweep = cells.filter((c) => c.workload === 'uniform' && (c.snapshots === 0 || c.snapshots === 4))
  const batches = [...new Set(sweep.map((c) => c.batch))].sort((a, b) => a - b)
  const chart = await charts.chart('wa-by-batch', 'Write amplification against batch size, uniform overwrites', {
    title: { text: 'Write amplification against batch size', subtitle: 'uniform overwrites; solid k = 0, dashed k = 4 live snapshots' },
    data: { values: sweep.map((c) => ({ batch: c.batch, wa: c.writeAmplification, variant: c.variant, k: `k = ${c.snapshots}`, value: valueSize(c.valueBytes) })) },
    facet: { column: { field: 'value', title: 'value size' } },
    spec: {
      width: 300,
      height: 200,
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'batch', type: 'quantitative', scale: { type: 'log' }, title: 'operations per commit', axis: { values: batches, labelOverlap: false, labelFlush: true } },
        y: { field: 'wa', type: 'quantitative', title: 'write amplification (×)' },
        color: { field: 'variant', type: 'nominal', scale: colourScale(VARIANTS), title: null },
        strokeDash: { field: 'k', type: 'nominal', title: null },
      },
    },
    resolve: { scale: { y: 'independent' }, axis: { x: 'independent' } },
  })
  const rows: string[][] = []
  for (const valueBytes of [...new Set(sweep.map((c) => c.valueBytes))]) {
    for (const k of [0, 4]) {
      for (const variant of VARIANTS) rows.push([`${valueSize(valueBytes)}, ${VARIANT_NAMES[variant]}, k = ${k}`, ...batches.map((b) => times(find(cells, variant, 'uniform', valueBytes, b, k)?.writeAmplification))])
    }
  }
  const ratioAt = (batch: number, variant = 'row') => {
    const small = find(cells, variant, 'uniform', 100, batch, 0)
    const base = find(cells, variant, 'uniform', 100, 1000, 0)
    return small && base ? times(small.writeAmplification / base.writeAmplification) : '—'
  }
  return `## Batch size

${chart}

${markdownTable(['uniform overwrites', ...batches.map((b) => `${thousands(b)} per commit`)], rows)}

Small batches cost more per user byte: every commit adds a record header to the log, and the
checkpoint policy counts log bytes, so the more overhead a user byte carries, the sooner
checkpoints come and the more pages they write per user byte. One operation per commit costs ROW
${ratioAt(1)} and COW ${ratioAt(1, 'cow-shared')} what batches of 1,000 cost (100-byte values, no snapshots). At
10,000 per commit a workload is only a handful of commits (the 4 KiB workload a single one); a
checkpoint comes due only between commits, so fewer fall inside the run and the figure drops: it
tells more about the run's length than about the batch size. Every commit is durable
(\`sync: true\`); the byte counts do not depend on the sync, which the in-memory files make free.
`
}

/** Workloads and value sizes side by side. */
async function workloadSection(cells: readonly CellResult[]): Promise<string> {
  const share = (c: CellResult | undefined, purpose: Purpose) => (c ? c.bytesWrittenBy[purpose] / c.userBytes : Number.NaN)
  const purposeOf = (variant: string, workload: string, valueBytes: number, purpose: Purpose) => times(share(find(cells, variant, workload, valueBytes, SNAPSHOT_SWEEP_BATCH, 0), purpose))
  const span = (variant: string, purpose: Purpose, valueBytes: number) => {
    const values = WORKLOADS.map((w) => share(find(cells, variant, w, valueBytes, SNAPSHOT_SWEEP_BATCH, 0), purpose)).filter(Number.isFinite)
    return values.length === 0 ? '—' : `${times(Math.min(...values))} to ${times(Math.max(...values))}`
  }
  const sizes = [...new Set(cells.map((c) => c.valueBytes))]
  const header = ['workload', ...sizes.flatMap((v) => VARIANTS.flatMap((variant) => [0, 4].map((k) => `${valueSize(v)} ${VARIANT_NAMES[variant]} k=${k}`)))]
  const rows = WORKLOADS.map((w) => [w, ...sizes.flatMap((v) => VARIANTS.flatMap((variant) => [0, 4].map((k) => times(find(cells, variant, w, v, SNAPSHOT_SWEEP_BATCH, k)?.writeAmplification))))])
  return `## Workloads and value sizes

Write amplification at batches of ${thousands(SNAPSHOT_SWEEP_BATCH)}, without snapshots and with four:

${markdownTable(header, rows)}

${WORKLOADS.map((w) => `- **${w}**: ${WORKLOAD_DESCRIPTIONS[w]}.`).join('\n')}

Both engines checkpoint once the log since the last checkpoint is as large as the pages it
dirtied (and at least the minimum interval), so a workload that dirties fewer pages checkpoints
sooner and writes fewer pages each time, and the page writes stay near one log's worth whatever
the workload (ROW's \`page\` bytes: ${span('row', 'page', 100)} of the user's across the four workloads at 100 B; COW
writes each page twice: ${span('cow-shared', 'page', 100)}). What the workloads change is the rest:

- **Reclamation (ROW).** A hot set or an append-only table leaves segments mostly garbage sooner,
  and cleaning them copies what is still live: ROW's \`reclaim\` bytes are ${purposeOf('row', 'uniform', 100, 'reclaim')} for uniform,
  ${purposeOf('row', 'zipfian', 100, 'reclaim')} for zipfian and ${purposeOf('row', 'sequential', 100, 'reclaim')} for sequential at 100 B.
- **Hot sets.** With 100-byte values about twenty entries share a page, and the zipfian hot set's
  long tail still touches most pages between two checkpoints, so it costs about what uniform costs.
  With 4 KiB values each entry has an out-of-line value, and COW writes a value's overflow chain
  only for the version a checkpoint finds: COW's \`value\` bytes fall from ${purposeOf('cow-shared', 'uniform', 4096, 'value')} (uniform) to
  ${purposeOf('cow-shared', 'zipfian', 4096, 'value')} (zipfian).
- **Sequential inserts** touch only the right edge of the tree and no page a snapshot holds, so
  snapshots cost them nothing; ROW writes 4 KiB values once (${purposeOf('row', 'sequential', 4096, 'value')}), COW about four times
  (${purposeOf('cow-shared', 'sequential', 4096, 'value')}): its WAL VALUE record, then at the checkpoint the overflow chain's WAL images
  and the chain in place, where a 4,096-byte value needs two 4 KiB pages (each page keeps 16 bytes
  for its header) written whole. Overwrites whose value is replaced before the next checkpoint
  skip the chain, which is why uniform overwrites cost COW less.
- **Mixed** inserts and deletes split and merge pages, which dirties more pages per operation
  (ROW's \`page\` bytes ${purposeOf('row', 'mixed', 100, 'page')} against ${purposeOf('row', 'uniform', 100, 'page')} for uniform).
`
}

/** Space amplification against k. */
async function spaceSection(cells: readonly CellResult[], charts: ChartWriter): Promise<string> {
  const sweep = cells.filter((c) => c.workload === 'uniform' && c.batch === SNAPSHOT_SWEEP_BATCH)
  const ks = [...new Set(sweep.map((c) => c.snapshots))].sort((a, b) => a - b)
  const chart = await charts.chart('space-by-snapshots', 'Space amplification against live snapshots, uniform overwrites', {
    title: { text: 'Space amplification against live snapshots', subtitle: 'file bytes ÷ live bytes after uniform overwrites, snapshots still live' },
    data: { values: sweep.map((c) => ({ k: c.snapshots, sa: c.spaceAmplification, variant: c.variant, value: valueSize(c.valueBytes) })) },
    facet: { column: { field: 'value', title: 'value size' } },
    spec: {
      width: 260,
      height: 200,
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'k', type: 'quantitative', title: 'live snapshots k', axis: { values: ks.filter((k) => k === 0 || k >= 4) } },
        y: { field: 'sa', type: 'quantitative', title: 'file ÷ live bytes (×)' },
        color: { field: 'variant', type: 'nominal', scale: colourScale(VARIANTS), title: null },
      },
    },
    resolve: { scale: { y: 'independent' }, axis: { x: 'independent' } },
  })
  const rows = [...new Set(sweep.map((c) => c.valueBytes))].flatMap((v) => VARIANTS.map((variant) => [`${valueSize(v)}, ${VARIANT_NAMES[variant]}`, ...ks.map((k) => times(find(cells, variant, 'uniform', v, SNAPSHOT_SWEEP_BATCH, k)?.spaceAmplification))]))
  return `## Space

${chart}

${markdownTable(['uniform overwrites', ...ks.map((k) => `k = ${k}`)], rows)}

File bytes ÷ live key and value bytes at the end of the run, with the snapshots still live (no
forced compaction). ROW keeps the old versions a snapshot pins in its log, once, however many
snapshots pin them, so its space grows from k = 0 to k = 1 and then stays; reclamation frees them
when the snapshots go. COW per-snapshot keeps a copy per snapshot, so its space grows with k;
COW shared keeps one.
`
}

/** What a read at a snapshot costs. */
function snapshotReadSection(cells: readonly CellResult[], gets: number): string {
  const rows: string[][] = []
  for (const valueBytes of [...new Set(cells.map((c) => c.valueBytes))]) {
    for (const variant of VARIANTS) {
      for (const k of [1, 16]) {
        const c = find(cells, variant, 'uniform', valueBytes, SNAPSHOT_SWEEP_BATCH, k)
        if (!c || c.snapshotReads.gets === 0) continue
        const r = c.snapshotReads
        rows.push([`${valueSize(valueBytes)}, ${VARIANT_NAMES[variant]}, k = ${k}`, (r.reads / r.gets).toFixed(2), bytes(r.bytesRead / r.gets), percent(r.reads === 0 ? 0 : r.preimageReads / r.reads)])
      }
    }
  }
  return `## Reads per snapshot read

${gets} point reads of random keys at the oldest snapshot, on a cold cache, after the uniform
overwrites (and, for COW, after the checkpoint that overwrote the pages in place):

${markdownTable(['value, variant, snapshots', 'storage reads per snapshot read', 'bytes read per snapshot read', 'reads served by pre-image stores'], rows)}

A COW snapshot read whose page was overwritten takes the copy from its pre-image store (the lookup
is in memory) instead of the page file: one read either way, so neither technique adds reads to a
snapshot read, and k does not change the figure. A ROW snapshot read reads the old page where it
was written, in one read call of as many bytes as a page can hold (its pages have variable
lengths, and the header says how many of those bytes are the page's), as COW reads a whole 4 KiB
page. Fewer reads than gets means some gets found their leaf already loaded by an earlier one.
`
}

/** Snapshot creation against database size. */
async function creationSection(study: StudyResults, charts: ChartWriter): Promise<string> {
  const sizes = [...new Set(study.creation.map((c) => c.keys))].sort((a, b) => a - b)
  const chart = await charts.chart('snapshot-creation', 'Snapshot creation time against database size', {
    title: { text: 'Snapshot creation time against database size', subtitle: 'median ns per snapshot, cold engines, 100-byte values' },
    data: { values: study.creation.map((c) => ({ keys: c.keys, ns: c.ns, variant: c.variant })) },
    width: 420,
    height: 220,
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'keys', type: 'quantitative', scale: { type: 'log' }, title: 'keys in the database', axis: { values: sizes } },
      y: { field: 'ns', type: 'quantitative', title: 'ns per snapshot', scale: { zero: true } },
      color: { field: 'variant', type: 'nominal', scale: colourScale(VARIANTS), title: null },
    },
  })
  const rows = VARIANTS.map((v) => {
    const of = (n: number) => study.creation.find((c) => c.variant === v && c.keys === n)?.ns
    const first = of(sizes[0] as number)
    const last = of(sizes.at(-1) as number)
    return [VARIANT_NAMES[v] as string, ...sizes.map((n) => `${(of(n) ?? 0).toFixed(0)} ns`), first && last ? times(last / first) : '—']
  })
  const cellRows = VARIANTS.map((v) => [VARIANT_NAMES[v] as string, ...[0, 1, 4, 16].map((k) => `${(find(study.cells, v, 'uniform', 100, SNAPSHOT_SWEEP_BATCH, k)?.snapshotCreateNs ?? Number.NaN).toFixed(0)} ns`)])
  return `## Snapshot creation

${chart}

${markdownTable(['variant', ...sizes.map((n) => `${thousands(n)} keys`), 'largest ÷ smallest'], rows)}

Taking a snapshot pins the committed root (and, for COW, records the checkpoint epoch): no page is
read or copied, so the time does not grow with the database. With k snapshots already live
(study cells, 20,000-key databases after the uniform overwrites), per snapshot:

${markdownTable(['variant', 'k = 0', 'k = 1', 'k = 4', 'k = 16'], cellRows)}

These are medians of rounds of 200 snapshots; single figures of a few hundred nanoseconds move
with the machine's noise, so compare the shape, not the digits. COW's copy cost is paid later, at
the first overwrite of each page.
`
}

/** The study's sections of docs/benchmarks.md. */
export async function studySections(study: StudyResults, cow: CowBenchResults | undefined, charts: ChartWriter): Promise<string> {
  const sizes = study.sizes
    .map((s) => `- **${valueSize(s.valueBytes)} values**: ${thousands(s.keys)} keys of 16 bytes (${bytes(s.keys * (16 + s.valueBytes))} of keys and values), ${thousands(s.operations)} operations per workload; checkpoints after ${bytes(s.settings.minLogBytes)} to ${bytes(s.settings.maxLogBytes)} of log; ROW segments of ${bytes(s.settings.segmentBytes)}.`)
    .join('\n')
  return [
    `# The write-amplification study

ROW, COW with per-snapshot stores and COW with a shared store, on the same B+tree and 4 KiB pages,
measured by the storage layer's own I/O accounting: every byte written, by purpose, divided by the
key and value bytes the user wrote. Each cell loads a database, closes it, copies its files, opens
the copy cold, takes *k* snapshots of that state, zeroes the counters, runs the workload in durable
batches, and pays the checkpoint the workload still owes (so no deferred write is left out). The
files are in memory, so the counts are exact and the same on every machine and every run; only the
times (snapshot creation) are noisy. ${thousands(study.cells.length)} cells:

- snapshot sweep: k = 0, 1, 2, 4, 8, 16 live snapshots at batches of ${thousands(SNAPSHOT_SWEEP_BATCH)};
- batch sweep: batches of 1, 10, 100, 1,000 and 10,000 at k = 0 and k = 4;
- each for the four workloads, both value sizes and the three variants.

Database sizes (chosen so the full study runs in a few minutes on this 2-core machine):

${sizes}

The engines' size-dependent settings (minimum and maximum checkpoint interval, ROW segment size)
are scaled down from their defaults by the database's size against the engine benchmark's
1,000,000 × 116 bytes, so these small databases checkpoint and reclaim as often, relative to their
size, as the large one does with the defaults. The checkpoint ratio (1) and page size (4 KiB) are
the defaults.
`,
    await claimsSection(study, cow, charts),
    await purposeSection(study.cells, charts),
    await batchSection(study.cells, charts),
    await workloadSection(study.cells),
    await spaceSection(study.cells, charts),
    snapshotReadSection(study.cells, study.snapshotGets),
    await creationSection(study, charts),
  ].join('\n')
}

