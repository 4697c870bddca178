import { MemoryFileSystem, parseRecord, RECORD_HEADER_BYTES } from '@strata/storage'
import { readAll } from '@strata/testkit'
import { describe, expect, it } from 'vitest'
import { offsetOf, segmentOf } from './address.js'
import { decodeCheckpoint } from './checkpoint-record.js'
import { MetaFile } from './meta.js'
import { RecordType } from './record.js'
import { RowEngine } from './row-engine.js'
import { segmentName } from './segment-log.js'

/**
 * Policy checkpoints written beside the writes (docs/architecture.md §Checkpoints beside the
 * writes): the state a checkpoint froze is written in turns while commits go on between them, and
 * its record says to replay from where the log ended at the freeze.
 */

const options = { pageSize: 512, segmentBytes: 64 * 1024, checkpoint: { minLogBytes: 8 * 1024, maxLogBytes: 16 * 1024, slicePages: 2 } }
const key = (i: number) => Buffer.from(`key-${String(i).padStart(5, '0')}`)
const value = (i: number, round: number) => Buffer.from(`value ${i} round ${round} `.padEnd(40, '.'))

/** BATCH records from `from` up to `to`, read from the segment files as recovery would. */
function batchesBetween(fs: MemoryFileSystem, from: number, to: number): number {
  let count = 0
  for (let segment = segmentOf(from); segment <= segmentOf(to); segment++) {
    const file = fs.open(segmentName(segment))
    const bytes = file.read(0, file.size(), 'meta')
    file.close()
    for (let at = segment === segmentOf(from) ? offsetOf(from) : 0; ; ) {
      if (segment === segmentOf(to) && at >= offsetOf(to)) break
      const record = parseRecord(bytes.subarray(at))
      if (!record) break
      if (record.type === RecordType.BATCH) count++
      at += RECORD_HEADER_BYTES + record.payload.length
    }
  }
  return count
}

/** The newest durable checkpoint's address and replay start, read from META and the log as recovery would. */
function durableCheckpoint(fs: MemoryFileSystem): { at: number; end: number; replayFrom: number } {
  const meta = MetaFile.open(fs)
  const at = meta.current.checkpoint
  meta.close()
  const file = fs.open(segmentName(segmentOf(at)))
  const bytes = file.read(0, file.size(), 'meta')
  file.close()
  const record = parseRecord(bytes.subarray(offsetOf(at))) as { payload: Buffer }
  const checkpoint = decodeCheckpoint(record.payload, segmentName(segmentOf(at)), offsetOf(at))
  return { at, end: at + RECORD_HEADER_BYTES + record.payload.length, replayFrom: checkpoint.replayFrom as number }
}

describe('RowEngine checkpoints beside the writes', () => {
  it('takes commits between the turns of a checkpoint; after a crash, replays them from before its record', async () => {
    const fs = new MemoryFileSystem()
    const engine = await RowEngine.open({ fs, ...options })
    const model = new Map<number, Buffer>()
    for (let at = 0; at < 3000; at += 100) {
      const ops = Array.from({ length: 100 }, (_, i) => ({ type: 'put' as const, key: key(at + i), value: value(at + i, 0) }))
      for (let i = 0; i < 100; i++) model.set(at + i, value(at + i, 0))
      await engine.write(ops, { sync: false })
    }
    // Many small durable writes at once, round after round, until checkpoints that took turns end
    // with a record whose replay starts before it.
    let beside = 0
    for (let round = 1; beside < 3 && round < 400; round++) {
      const checkpoints = engine.stats().checkpoints
      await Promise.all(
        Array.from({ length: 16 }, (_, w) => {
          const i = (round * 997 + w * 131) % 3000
          model.set(i, value(i, round))
          return engine.write([{ type: 'put', key: key(i), value: value(i, round) }], { sync: true })
        }),
      )
      if (engine.stats().checkpoints === checkpoints) continue
      const newest = durableCheckpoint(fs)
      // Commits lie between where the log ended at the freeze and the record.
      if (batchesBetween(fs, newest.replayFrom, newest.at) === 0) continue
      expect(newest.replayFrom).toBeLessThan(newest.at)
      beside++
      // A crash now: the disk as it is, the engine never closed.
      const crashed = fs.clone()
      let replayed = 0
      const reopened = await RowEngine.open({ fs: crashed, ...options, onRecovery: (p) => (replayed = p.batches) })
      const want = [...model].sort((a, b) => a[0] - b[0]).map(([i, v]) => [key(i), v])
      expect(readAll(reopened)).toEqual(want)
      expect(reopened.check()).toEqual([])
      // The batches between the replay start and the record were among those replayed.
      expect(replayed).toBeGreaterThanOrEqual(batchesBetween(crashed, newest.replayFrom, newest.at))
      await reopened.close()
    }
    expect(beside).toBe(3)
    await engine.close()
    const reopened = await RowEngine.open({ fs, ...options })
    expect(reopened.check()).toEqual([])
    await reopened.close()
  })
})
