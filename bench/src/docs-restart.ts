/** The docs' section on restarts after a crash: kill-and-reopen by size and store, and the ROW frontier. */
import type { ChartWriter } from './chart-writer.js'
import { mark, thousands, times } from './docs-format.js'
import { median, markdownTable } from './harness.js'
import { type RestartResults, type RestartRun, type RestartStore, worstReopen as worst } from './restart-results.js'
import { colourScale } from './svg-chart.js'

/** The issue's target: Strata's worst reopen at most this many times level's, at these sizes. */
export const RESTART_TARGET = { ratio: 10, sizes: [1_000_000, 10_000_000] } as const
/** The write-amplification bounds the default policy must keep on the sustained part: at most 3× on Strata's own counters, at most a third of level's. */
export const SUSTAINED_BOUNDS = { own: 3, ofLevel: 1 / 3 } as const

function find(results: RestartResults, store: RestartStore, keys: number): RestartRun | undefined {
  return results.runs.find((r) => r.store === store && r.keys === keys)
}

/** Strata ROW's worst reopen ÷ level's at `keys`, if both ran. */
export function restartRatio(results: RestartResults, keys: number, store: RestartStore = 'strata-row'): number | undefined {
  const a = find(results, store, keys)
  const b = find(results, 'level', keys)
  return a && b ? worst(a) / worst(b) : undefined
}

const ms = (value: number | undefined) => (value === undefined ? '—' : value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${value.toFixed(0)} ms`)

/** A frontier run's replay target as the docs name it. */
function targetLabel(run: RestartRun): string {
  return run.maxReplayMs === undefined || run.maxReplayMs >= 2 ** 40 ? 'none' : `${run.maxReplayMs} ms`
}

/**
 * The docs' section. `peerAmplification` gives level's and lmdb's write amplification on the block
 * device (the sustained and peers parts), for their points on the frontier chart.
 */
export async function restartSection(results: RestartResults, peerAmplification: Partial<Record<'level' | 'lmdb', number>>, charts: ChartWriter): Promise<string> {
  const sizes = [...new Set(results.runs.map((r) => r.keys))].sort((a, b) => a - b)
  const rows = results.runs.map((r) => [
    thousands(r.keys),
    r.store,
    ms(worst(r)),
    ms(median(r.kills.map((k) => k.reopenMs))),
    r.kills.map((k) => thousands(k.batches)).join(', '),
    ms(r.cleanOpenMs),
    times(restartRatio(results, r.keys, r.store), 1),
  ])
  const verdicts = RESTART_TARGET.sizes.map((keys) => {
    const ratio = restartRatio(results, keys)
    return [`${thousands(keys)} keys: ROW's worst ÷ level's`, times(ratio, 1), `≤ ${RESTART_TARGET.ratio}×`, ratio === undefined ? 'not run' : mark(ratio <= RESTART_TARGET.ratio)]
  })
  const clean = sizes.at(-1)
  const cleanRow = clean === undefined ? undefined : find(results, 'strata-row', clean)
  const frontierRows = results.frontier.map((r) => [targetLabel(r), ms(worst(r)), ms(median(r.kills.map((k) => k.reopenMs))), r.cycleBatches.toFixed(0), times(r.cycleWriteAmplification)])
  const points = [
    ...results.frontier.map((r) => ({ store: 'strata-row', label: targetLabel(r), seconds: worst(r) / 1000, amplification: r.cycleWriteAmplification, isDefault: r.maxReplayMs === results.defaultMaxReplayMs })),
    ...(['level', 'lmdb'] as const).map((store) => {
      const run = find(results, store, results.frontierKeys)
      return { store, label: store, seconds: run ? worst(run) / 1000 : undefined, amplification: peerAmplification[store], isDefault: false }
    }),
  ].filter((p) => p.seconds !== undefined && p.amplification !== undefined)
  const stores = ['strata-row', 'level', 'lmdb']
  const chart = await charts.chart('restart-frontier', 'Worst restart after a crash against write amplification', {
    title: {
      text: 'Restart after a crash against write amplification',
      subtitle: `${thousands(results.frontierKeys)} keys, durable 1,000-op overwrite batches; ROW under each replay target (the default circled), level and lmdb as measured`,
    },
    data: { values: points },
    width: 600,
    height: 300,
    layer: [
      {
        mark: { type: 'line', point: true },
        transform: [{ filter: "datum.store === 'strata-row'" }],
        encoding: {
          x: { field: 'seconds', type: 'quantitative', scale: { type: 'log' }, title: 'worst reopen after SIGKILL, seconds (log)' },
          y: { field: 'amplification', type: 'quantitative', scale: { type: 'log' }, title: 'write amplification (log)' },
          order: { field: 'seconds' },
          color: { field: 'store', type: 'nominal', scale: colourScale(stores), title: null },
        },
      },
      {
        mark: { type: 'point', size: 120, filled: true },
        transform: [{ filter: "datum.store !== 'strata-row'" }],
        encoding: { x: { field: 'seconds', type: 'quantitative' }, y: { field: 'amplification', type: 'quantitative' }, color: { field: 'store', type: 'nominal', scale: colourScale(stores), title: null } },
      },
      {
        mark: { type: 'point', size: 400, strokeWidth: 2, color: 'black' },
        transform: [{ filter: 'datum.isDefault' }],
        encoding: { x: { field: 'seconds', type: 'quantitative' }, y: { field: 'amplification', type: 'quantitative' } },
      },
      {
        mark: { type: 'text', dx: 8, dy: -8, align: 'left' },
        encoding: { x: { field: 'seconds', type: 'quantitative' }, y: { field: 'amplification', type: 'quantitative' }, text: { field: 'label' } },
      },
    ],
  })
  return `# Restart after a crash

\`pnpm bench:restart\` loads a database (16-byte keys, ${results.valueBytes}-byte values, durable batches), then runs
a writer process of durable ${thousands(results.batch)}-op batches of uniform random overwrites and kills it with
SIGKILL; this process then times the reopen (the open call, resolved, in a warm process) and reads a
key. The first writer of each store and size runs until it has seen three checkpoints (Strata), which
tells the checkpoint cycle, and is killed as the third one completes (the first batch count in each
row); the later ones are killed at shares of that cycle (30 %, 60 %, 90 %, 98 % and on), the last
just before a checkpoint, where the log to replay is longest. LevelDB and LMDB are killed after as
many batches as ROW's cycle. The clean open is the median of three opens after a clean close.
Strata runs its default checkpoint policy (\`maxReplayMs\` ${results.defaultMaxReplayMs}). This is a process kill: the
operating system still holds the files' pages, so the reopen reads them from memory; after a power
loss the replay reads the pages it dirtied from the disk, and takes longer.

${markdownTable(['keys', 'store', 'worst reopen', 'median', 'batches written before each kill', 'clean open', 'worst ÷ level'], rows)}

${markdownTable(['target', 'measured', 'target', 'verdict'], verdicts)}

A clean open reads the META file and the root page and replays nothing${cleanRow ? `: ${ms(cleanRow.cleanOpenMs)} for ROW at ${thousands(cleanRow.keys)} keys` : ''}.

**The frontier.** A B+tree trades the restart against write amplification: the longer the log
between checkpoints, the more changes each page write carries, and the more there is to replay. The
ROW engine at ${thousands(results.frontierKeys)} keys under each replay target, its worst reopen over the kills, and
its write amplification on its own counters over whole checkpoint cycles of the first writer (log,
pages and cleaning; the close left out); level's and lmdb's points are their worst reopen here and
their write amplification on the block device from the sustained and peers parts (another ruler:
the device adds the file system's share).

${markdownTable(['maxReplayMs', 'worst reopen', 'median', 'batches per cycle', 'write amplification'], frontierRows)}

${chart}

Under uniform random overwrites every leaf is dirtied within a few hundred batches, so each
checkpoint rewrites about the whole tree whatever its target, and a shorter cycle spreads that
rewrite over fewer user bytes: write amplification grows about as 1 / cycle, while the replay shrinks
about as the cycle, down to the pages' share, which stays the whole tree. No point of it comes near
LevelDB's restart, which replays at most a 4 MiB log into a memtable; docs/architecture.md §Replay
gives where the replay's time goes.
`
}
