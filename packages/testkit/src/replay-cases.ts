import { type LogCheckpointPolicy, type Operation, type RecoveryProgress, replayEstimateMs, type SnapshotEngine } from '@strata/btree'
import { MemoryFileSystem } from '@strata/storage'
import { expect, it } from 'vitest'
import { readAll } from './engine-factory.js'
import { seededRandom } from './random.js'

/** What {@link replayCases} opens an engine with. */
export interface ReplayOpenOptions {
  onRecovery?: (progress: RecoveryProgress) => void
  checkpoint?: Partial<LogCheckpointPolicy>
}

/** A policy under which no checkpoint comes before the replay target does. */
const ONLY_BY_TIME = { minLogBytes: 2 ** 40, maxLogBytes: 2 ** 41, ratio: 2 ** 20 }

const key = (i: number) => Buffer.from(`key-${String(i).padStart(5, '0')}`)

/** `batches` random batches of puts and deletes over 3,000 keys, applied to `engine` and to `model`. */
async function writeBatches(engine: SnapshotEngine, model: Map<string, Buffer>, batches: number, seed: number): Promise<void> {
  const next = seededRandom(seed)
  for (let b = 0; b < batches; b++) {
    const ops: Operation[] = []
    for (let j = 0; j < 40; j++) {
      const k = key(Math.floor(next() * 3000))
      if (next() < 0.2) ops.push({ type: 'del', key: k })
      else ops.push({ type: 'put', key: k, value: Buffer.alloc(20 + Math.floor(next() * 80), b % 251) })
    }
    await engine.write(ops, { sync: b % 3 === 0 })
    for (const op of ops) {
      if (op.type === 'del') model.delete(op.key.toString('latin1'))
      else model.set(op.key.toString('latin1'), op.value as Buffer)
    }
  }
}

function expectModel(engine: SnapshotEngine, model: Map<string, Buffer>): void {
  const expected = [...model].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => [Buffer.from(k, 'latin1'), v])
  expect(readAll(engine)).toEqual(expected)
}

/**
 * Replay after a crash and the policy's bound on it (docs/architecture.md §Replay), for an engine
 * opened by `open` on a memory folder: a crash is the folder's files copied while the engine is
 * open, every batch written (the memory folder loses nothing unsynced).
 */
export function replayCases(open: (fs: MemoryFileSystem, options: ReplayOpenOptions) => Promise<SnapshotEngine>): void {
  it('replays every batch after a crash, reporting progress from the start to the end, and nothing after a clean close', async () => {
    const fs = new MemoryFileSystem()
    const engine = await open(fs, { checkpoint: ONLY_BY_TIME })
    const model = new Map<string, Buffer>()
    await writeBatches(engine, model, 300, 7)
    const crashed = fs.clone()
    await engine.close()
    const reports: RecoveryProgress[] = []
    const reopened = await open(crashed, { checkpoint: ONLY_BY_TIME, onRecovery: (p) => reports.push({ ...p }) })
    expectModel(reopened, model)
    expect(reopened.check()).toEqual([])
    expect(reports.length).toBeGreaterThanOrEqual(2)
    const first = reports[0] as RecoveryProgress
    const last = reports.at(-1) as RecoveryProgress
    expect(first).toMatchObject({ replayedBytes: 0, batches: 0, done: false })
    expect(last).toMatchObject({ batches: 300, done: true })
    expect(reports.filter((r) => r.done)).toHaveLength(1)
    for (let i = 1; i < reports.length; i++) {
      const [before, after] = [reports[i - 1] as RecoveryProgress, reports[i] as RecoveryProgress]
      expect(after.batches).toBeGreaterThanOrEqual(before.batches)
      expect(after.replayedBytes).toBeGreaterThanOrEqual(before.replayedBytes)
      expect(after.elapsedMs).toBeGreaterThanOrEqual(before.elapsedMs)
      expect(after.logBytes).toBe(first.logBytes)
    }
    // The log read holds at least the batches replayed.
    expect(last.replayedBytes).toBeGreaterThan(300 * 40 * 20)
    expect(last.replayedBytes).toBeLessThanOrEqual(last.logBytes)
    await reopened.close()
    const quiet: RecoveryProgress[] = []
    const clean = await open(crashed, { checkpoint: ONLY_BY_TIME, onRecovery: (p) => quiet.push(p) })
    expect(quiet).toEqual([])
    expectModel(clean, model)
    await clean.close()
  })

  it('checkpoints once the estimated replay of the log reaches maxReplayMs, so the log to replay after a crash stays within it', async () => {
    // The log 200 batches write without a checkpoint, and a target a tenth of it would reach.
    const fs = new MemoryFileSystem()
    const probe = await open(fs, { checkpoint: ONLY_BY_TIME })
    await writeBatches(probe, new Map(), 200, 11)
    expect(probe.stats().checkpoints).toBe(0)
    const logged = probe.stats().io.bytesWritten.log
    await probe.close()
    const target = replayEstimateMs(logged / 10, 0)
    const bounded = new MemoryFileSystem()
    const engine = await open(bounded, { checkpoint: { ...ONLY_BY_TIME, maxReplayMs: target } })
    const model = new Map<string, Buffer>()
    await writeBatches(engine, model, 200, 11)
    // A checkpoint each tenth of the log (the last one may still be under way).
    expect(engine.stats().checkpoints).toBeGreaterThanOrEqual(8)
    expect(engine.stats().checkpoints).toBeLessThanOrEqual(11)
    const crashed = bounded.clone()
    await engine.close()
    const reports: RecoveryProgress[] = []
    const reopened = await open(crashed, { checkpoint: ONLY_BY_TIME, onRecovery: (p) => reports.push({ ...p }) })
    expectModel(reopened, model)
    // What is left to replay is within the target, give or take the batches a checkpoint under way let in.
    const replayed = reports.at(-1)?.replayedBytes ?? 0
    expect(replayEstimateMs(replayed, 0)).toBeLessThanOrEqual(target * 1.5)
    await reopened.close()
    // A target the log never reaches: no checkpoint at all.
    const unbounded = await open(new MemoryFileSystem(), { checkpoint: { ...ONLY_BY_TIME, maxReplayMs: target * 1000 } })
    await writeBatches(unbounded, new Map(), 200, 11)
    expect(unbounded.stats().checkpoints).toBe(0)
    await unbounded.close()
  })
}
