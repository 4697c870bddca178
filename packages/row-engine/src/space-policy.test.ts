import { type BlockFile, MemoryFileSystem } from '@strata/storage'
import { readAll, SPACE_POLICY_MIN_LOG, spacePolicyCases } from '@strata/testkit'
import { describe, expect, it } from 'vitest'
import { RowEngine } from './row-engine.js'

/**
 * The space policy (docs/architecture.md §Reclamation): without any explicit compaction, the files
 * stay within max(1.5 × live bytes, live bytes + minLogBytes) plus what named snapshots alone keep.
 */

const key = (i: number) => Buffer.from(`key-${String(i).padStart(6, '0')}`)
const value = (i: number, round: number) => Buffer.alloc(40, (i * 31 + round) % 251)

/** 1 KiB pages, 64 KiB segments, checkpoints after 16 KiB of log or more: the default shape scaled down. */
function open(fs: MemoryFileSystem): Promise<RowEngine> {
  return RowEngine.open({ fs, pageSize: 1024, segmentBytes: 64 * 1024, checkpoint: { minLogBytes: SPACE_POLICY_MIN_LOG } })
}

async function load(engine: RowEngine, keys: number[]): Promise<void> {
  for (let at = 0; at < keys.length; at += 50) {
    await engine.write(keys.slice(at, at + 50).map((i) => ({ type: 'put' as const, key: key(i), value: value(i, 0) })))
  }
}

const COLD = Array.from({ length: 3000 }, (_, i) => i)
const HOT = Array.from({ length: 200 }, (_, i) => 3000 + i)

describe('RowEngine space policy', () => {
  spacePolicyCases(open)

  it('two names for one state keep nothing alone: deleting either frees nothing', async () => {
    const fs = new MemoryFileSystem()
    const engine = await open(fs)
    await load(engine, COLD)
    await engine.createSnapshot('a')
    await engine.createSnapshot('b')
    await load(engine, COLD.map((i) => i + 10_000))
    for (let at = 0; at < COLD.length; at += 50) {
      await engine.write(COLD.slice(at, at + 50).map((i) => ({ type: 'del' as const, key: key(i) })))
    }
    await engine.compact()
    expect(engine.listSnapshots().map((s) => s.exclusiveBytes)).toEqual([0, 0])
    const before = engine.stats().fileBytes
    await engine.deleteSnapshot('a')
    await engine.compact()
    expect(engine.stats().fileBytes).toBeGreaterThanOrEqual(before - 64 * 1024)
    // The last name for the state now keeps what it kept: deleting it frees that.
    const [b] = engine.listSnapshots()
    expect(b?.exclusiveBytes).toBeGreaterThan(64 * 1024)
    await engine.close()
  })

  it('starts segments early only once they hold a sixteenth of their size, so segment numbers last', async () => {
    // A small database checkpoints every few KiB of log; each checkpoint would start two segments.
    const fs = new MemoryFileSystem()
    const segmentBytes = 1024 * 1024
    const engine = await RowEngine.open({ fs, pageSize: 1024, segmentBytes, checkpoint: { minLogBytes: SPACE_POLICY_MIN_LOG } })
    const keys = Array.from({ length: 300 }, (_, i) => i)
    await load(engine, keys)
    for (let round = 1; round <= 200; round++) {
      await engine.write(keys.map((i) => ({ type: 'put' as const, key: key(i), value: value(i, round) })))
    }
    const { checkpoints } = engine.stats()
    const written = engine.stats().io.totalWritten
    const highest = Math.max(...fs.list().filter((n) => n.startsWith('seg-')).map((n) => Number(n.slice(4, 12))))
    expect(checkpoints).toBeGreaterThan(100)
    // Each segment number spent stands for at least a sixteenth of a segment of writes.
    expect(highest).toBeLessThanOrEqual(Math.ceil(written / (segmentBytes / 16)) + 1)
    expect(readAll(engine)).toEqual(keys.map((i): [Buffer, Buffer] => [key(i), value(i, 200)]))
    await engine.close()
  })

  it('a checkpoint that cannot start its segment stops writes with STRATA_IO_ERROR, not checkpoints alone', async () => {
    // A file system whose file creation fails on demand (EMFILE, a full directory).
    class NoNewFiles extends MemoryFileSystem {
      refuse = false
      override open(name: string, options: { create?: boolean } = {}): BlockFile {
        if (this.refuse && options.create && !this.exists(name)) throw Object.assign(new Error(`EMFILE: too many open files, open '${name}'`), { code: 'EMFILE' })
        return super.open(name, options)
      }
    }
    const fs = new NoNewFiles()
    const engine = await open(fs)
    await load(engine, COLD)
    const checkpoints = engine.stats().checkpoints
    fs.refuse = true
    let failure: unknown
    for (let round = 1; round <= 100 && failure === undefined; round++) {
      try {
        await engine.write(HOT.map((i) => ({ type: 'put' as const, key: key(i), value: value(i, round) })))
      } catch (error) {
        failure = error
      }
    }
    expect(failure).toMatchObject({ code: 'STRATA_IO_ERROR' })
    expect(engine.stats().checkpoints).toBe(checkpoints)
    await engine.close().catch(() => undefined)
    // What was acknowledged is there after a reopen.
    fs.refuse = false
    const reopened = await open(fs)
    expect(reopened.check()).toEqual([])
    await reopened.close()
  })
})
