/** The docs' section on the peers: write amplification of every store on the block device's ruler. */
import type { ChartWriter } from './chart-writer.js'
import { thousands, times, valueSize } from './docs-format.js'
import { markdownTable, median } from './harness.js'
import type { PeerResults, PeerRun, PeerSize } from './peer-amplification.js'
import { PEERS, type PeerName } from './peer-stores.js'
import { colourScale } from './svg-chart.js'
import { WORKLOADS } from './workloads.js'

/** The median of the known values, or undefined. */
function medianOf(values: (number | undefined)[]): number | undefined {
  const known = values.filter((v): v is number => v !== undefined)
  return known.length === 0 ? undefined : median(known)
}

/** The runs of one store on one case: a workload on a database of `keys` entries, `batch` operations per commit. */
function runsOf(runs: readonly PeerRun[], store: PeerName, workload: string, keys: number, batch: number): PeerRun[] {
  return runs.filter((r) => r.store === store && r.workload === workload && r.keys === keys && r.batch === batch)
}

/** Median device write amplification of one store on one case. */
export function deviceAmplification(runs: readonly PeerRun[], store: PeerName, workload: string, keys: number, batch: number): number | undefined {
  return medianOf(runsOf(runs, store, workload, keys, batch).map((r) => r.deviceWriteAmplification))
}

/** The comparison's main database of `valueBytes` values (the smallest of that value size), and a larger one if it ran. */
export function peerSizes(peers: PeerResults, valueBytes = 100): { main: PeerSize | undefined; large: PeerSize | undefined } {
  const of = peers.sizes.filter((s) => s.valueBytes === valueBytes).sort((a, b) => a.keys - b.keys)
  return { main: of[0], large: of.length > 1 ? of.at(-1) : undefined }
}

/** The docs' section on the peers. */
export async function peerSection(peers: PeerResults, charts: ChartWriter): Promise<string> {
  const runs = peers.runs
  const { main, large } = peerSizes(peers)
  const mainKeys = main?.keys ?? 0
  const batches = [...new Set(runs.filter((r) => r.workload === 'uniform' && r.keys === mainKeys).map((r) => r.batch))].sort((a, b) => a - b)
  const runCount = Math.max(...runs.map((r) => r.run)) + 1
  const cell = (store: PeerName, workload: string, keys: number, batch: number) => {
    const rs = runsOf(runs, store, workload, keys, batch)
    const device = times(medianOf(rs.map((r) => r.deviceWriteAmplification)))
    const own = medianOf(rs.map((r) => r.ownWriteAmplification))
    return own === undefined ? device : `${device} (own ${times(own)})`
  }
  const batchRows = batches.map((b) => [`${thousands(b)} per commit`, ...PEERS.map((s) => cell(s, 'uniform', mainKeys, b))])
  const mainSizes = [100, 4096].map((v) => peerSizes(peers, v).main).filter((s): s is PeerSize => s !== undefined)
  const workloadRows = mainSizes.flatMap((size) => WORKLOADS.map((w) => [`${w}, ${valueSize(size.valueBytes)}`, ...PEERS.map((s) => cell(s, w, size.keys, 1000))]))
  const largeRow = large ? [[`uniform, ${valueSize(large.valueBytes)}, ${thousands(large.keys)} keys`, ...PEERS.map((s) => (runsOf(runs, s, 'uniform', large.keys, 1000).length > 0 ? cell(s, 'uniform', large.keys, 1000) : '—'))]] : []
  const byBatch = await charts.chart('peers-by-batch', 'Write amplification on the block device against batch size, every store', {
    title: { text: 'Write amplification on the block device', subtitle: 'uniform overwrites of 100-byte values, durable commits; medians; dashed: Strata\'s own counters' },
    data: {
      values: runs
        .filter((r) => r.workload === 'uniform' && r.keys === mainKeys && r.store !== 'memory-level')
        .flatMap((r) => [
          ...(r.deviceWriteAmplification === undefined ? [] : [{ store: r.store, batch: r.batch, wa: r.deviceWriteAmplification, ruler: 'block device' }]),
          ...(r.ownWriteAmplification === undefined ? [] : [{ store: r.store, batch: r.batch, wa: r.ownWriteAmplification, ruler: 'own counters' }]),
        ]),
    },
    width: 460,
    height: 260,
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'batch', type: 'quantitative', scale: { type: 'log' }, title: 'operations per commit', axis: { values: batches } },
      y: { field: 'wa', type: 'quantitative', aggregate: 'median', scale: { type: 'log' }, title: 'bytes written ÷ user bytes (log)' },
      color: { field: 'store', type: 'nominal', scale: colourScale(PEERS.filter((p) => p !== 'memory-level')), title: null },
      strokeDash: { field: 'ruler', type: 'nominal', title: null },
    },
  })
  const byWorkload = await charts.chart('peers-by-workload', 'Write amplification on the block device by workload and value size, batches of 1,000', {
    title: { text: 'Write amplification by workload (block device)', subtitle: 'batches of 1,000 durable operations' },
    data: {
      values: runs
        .filter((r) => r.batch === 1000 && r.store !== 'memory-level' && r.deviceWriteAmplification !== undefined && mainSizes.some((m) => m.keys === r.keys && m.valueBytes === r.valueBytes))
        .map((r) => ({ store: r.store, workload: r.workload, value: valueSize(r.valueBytes), wa: r.deviceWriteAmplification })),
    },
    facet: { row: { field: 'value', title: 'value size' } },
    spec: {
      width: 460,
      height: 150,
      mark: 'bar',
      encoding: {
        x: { field: 'workload', type: 'nominal', sort: [...WORKLOADS], title: null, axis: { labelAngle: 0 } },
        xOffset: { field: 'store', sort: [...PEERS] },
        y: { field: 'wa', type: 'quantitative', aggregate: 'median', scale: { type: 'log' }, title: 'WA (×, log)' },
        color: { field: 'store', type: 'nominal', scale: colourScale(PEERS.filter((p) => p !== 'memory-level')), title: null },
      },
    },
    resolve: { scale: { y: 'independent' }, axis: { x: 'independent' } },
  })
  const target = (keys: number) => {
    const strata = deviceAmplification(runs, 'strata-row', 'uniform', keys, 1000)
    const versus = (peer: 'level' | 'lmdb') => {
      const other = deviceAmplification(runs, peer, 'uniform', keys, 1000)
      return strata === undefined || other === undefined ? `${peer} —` : `${peer} ${times(other)}, so ROW writes ${times(strata / other)} of it (${strata / other <= 0.2 ? 'met' : 'not met'})`
    }
    return `on ${thousands(keys)} keys, ROW ${times(strata)}; ${versus('lmdb')}; ${versus('level')}`
  }
  const dedicated = peers.deviceBackingFile !== undefined
  const ownGap = (batch: number) => {
    const rs = runsOf(runs, 'strata-row', 'uniform', mainKeys, batch)
    const device = medianOf(rs.map((r) => r.deviceWriteAmplification))
    const own = medianOf(rs.map((r) => r.ownWriteAmplification))
    return device === undefined || own === undefined ? '—' : times(device / own)
  }
  const sizes = peers.sizes.map((s) => `${thousands(s.keys)} keys of ${valueSize(s.valueBytes)} values with ${thousands(s.operations)} operations per workload${s === large ? ' (uniform overwrites only, once)' : ''}`).join('; ')
  return `# Peers on one ruler

The same workloads on Strata's two engines (on real files), LevelDB (\`classic-level\`, what \`level\`
gives on Node), LMDB (\`lmdb\`) and \`memory-level\`. Peers cannot be instrumented, so every store is
measured the same way: the block device's own count of sectors written
(\`/sys/block/${peers.device ?? '<dev>'}/stat\`) is read before and after the run, with the file system's dirty pages
flushed (\`sync -f\`) on both sides, and divided by the user's key and value bytes. Each store loads
the database, closes and reopens it (so work the load deferred is not counted), then runs the
workload in durable batches and closes (Strata pays its owed checkpoint there). Strata's own
counters are shown beside the device's.

All stores run in one process, and memory-level runs last in each case. classic-level's synced
batches have been seen to run faster once memory-level has run in the same process (the two share
one abstract-level module; the cause is not yet known), with the same number of syncs. So LevelDB's
runs after the first case here may be faster than in a process that uses it alone, and how much
compaction it finishes before the close (its write amplification) may differ with that; the
sustained-writes part runs LevelDB without memory-level.

Sizes: ${sizes}. Batches of fewer than 1,000 operations run at most ${thousands(peers.maxCommits)} commits (a durable commit waits for a
sync). Uniform overwrites of 100-byte values: median of ${runCount} runs, stores taking turns within each run;
the other workloads: ${runs.some((r) => r.workload !== 'uniform' && r.run > 0) ? `${runCount}` : 'one'} run each.

${byBatch}

${markdownTable([`uniform, 100 B, ${thousands(mainKeys)} keys`, ...PEERS], batchRows)}

${byWorkload}

${markdownTable(['batches of 1,000', ...PEERS], [...workloadRows, ...largeRow])}

**Strata ROW against the peers, 1,000-op batches of uniform overwrites** (the target: at most a fifth,
0.20×, of lmdb's and of level's): ${target(mainKeys)}${large ? `; ${target(large.keys)}` : ''}.

How to read these figures:

${dedicated
    ? `- The device, \`${peers.device}\`, is the suite's own: a loop device over \`${peers.deviceBackingFile}\` with an ext4 file
  system made for the run (see Reproduce), so no other process's writes land in its counter, and
  the figures repeat from run to run; \`memory-level\`, which writes nothing to disk, reads 0.`
    : `- The device, \`${peers.device ?? 'unknown'}\`, is shared: every other process's writes land in its counter too.
  \`memory-level\` writes nothing to disk, so its column is the background the other stores' figures
  carry. Use \`--peers-dir\` on a device of the benchmark's own for clean figures (see Reproduce).`}
- The device counts what the file system writes: whole 4 KiB blocks, its journal, and at every
  sync the log's last, partly filled block again. So a durable commit costs every store a few
  kilobytes whatever it carries, which is why one operation per commit reads ${times(deviceAmplification(runs, 'level', 'uniform', mainKeys, 1))} (level) to
  ${times(deviceAmplification(runs, 'lmdb', 'uniform', mainKeys, 1))} (lmdb) of the user's bytes, and why Strata's device figure is above its own counters by
  ${ownGap(1)} at 1 operation per commit, ${ownGap(100)} at 100 and ${ownGap(1000)} at 1,000.
- LMDB writes whole 4 KiB pages, and the path to the root, for every page a commit touches, so
  scattered small writes cost it the most; repeated writes of one key inside a transaction are
  written once, which can take it below 1× on a hot set. LevelDB appends to its log, then flushes
  and compacts: runs a few times the size of a small database pay only the first levels of
  compaction, and the compaction still owed at the end is not counted, so its figure is the low
  end of its steady state (the LSM literature reports 10× and more for leveled compaction of large
  databases). Strata's ROW writes its log and, at checkpoints, each dirty page once; its COW engine
  writes each dirty page twice (a WAL image, then in place).
- Values are incompressible bytes, so LevelDB's Snappy compression saves nothing; the engine
  benchmark below uses the earlier, highly compressible values and so flatters LevelDB's figure.
`
}
