import { rowFactory } from '@strata/engine-factories'
import { MemoryFileSystem } from '@strata/storage'
import { corruptionCampaign, crashCampaign, describeTally, expectUnkind, readAll } from '@strata/testkit'
import { describe, expect, it } from 'vitest'
import { RowEngine } from './row-engine.js'

const key = (i: number) => Buffer.from(`key${String(i).padStart(4, '0')}`)

describe('RowEngine crash states', () => {
  it('recovers every acknowledged commit at every crash point of batches, snapshots, cursors, compactions, checkpoints and reopens', async () => {
    for (const seed of [7, 11]) {
      const report = await crashCampaign(rowFactory, { commits: 200, seed })
      const w = report.workload
      console.log(
        `RowEngine crash states (seed ${seed}): ${report.commits} commits (${w.unsyncedCommits} with sync: false, ${w.largeValues} large values), ${w.snapshots} snapshots, ${w.cursors} cursors held, ${w.compactions} compactions, ${w.checkpoints} checkpoints, ${w.reopens} reopens; ${report.points} crash points; ${describeTally(report.tally)}; ${report.recoveries} distinct disks opened; ${report.failures.length} failures`,
      )
      expect(report.failures).toEqual([])
      expectUnkind(report.tally, 1000)
      // Each policy checkpoint takes several turns of 4 leaves (row-factory.ts), so crashes also
      // land between them; about 20 complete per run.
      expect(w.checkpoints).toBeGreaterThanOrEqual(15)
      expect(w.compactions + w.reopens).toBeGreaterThan(0)
    }
  })
})

describe('RowEngine with damaged files', () => {
  it('opens a damaged database at a commit it made and reads only that commit, or fails with LEVEL_CORRUPTION naming the file and offset', async () => {
    const report = await corruptionCampaign(rowFactory, { mutations: 1200 })
    const o = report.outcomes
    console.log(
      `RowEngine corruption campaign: ${Object.values(report.damage).reduce((a, b) => a + b, 0)} damaged databases (${Object.entries(report.damage).map(([k, n]) => `${n} ${k}`).join(', ')}; ${Object.entries(report.files).map(([k, n]) => `${n} in ${k}`).join(', ')}); outcomes: ${o.intact} intact, ${o.rolledBack} rolled back to an earlier commit, ${o.readErrors} with reads failing cleanly, ${o.refused} refused to open; ${report.reads} values compared; ${report.failures.length} failures`,
    )
    expect(report.failures.slice(0, 10), `${report.failures.length} failures, the first 10 shown`).toEqual([])
  })

  // The smallest reproductions of what the campaign above finds.

  it('a cursor that meets a damaged page leaves nothing pinned', async () => {
    const fs = new MemoryFileSystem()
    let engine = await rowFactory.open(fs, { small: true })
    await engine.write(Array.from({ length: 400 }, (_, i) => ({ type: 'put' as const, key: key(i), value: Buffer.alloc(40, i) })))
    await engine.close()
    // A checkpoint writes children before parents: zeroing the front of the log destroys leaves
    // and keeps the root and the checkpoint record.
    const segment = fs.files.get(fs.list().find((name) => name.startsWith('seg-')) as string)
    segment?.bytes.fill(0, 0, 2048)
    engine = await rowFactory.open(fs, { small: true })
    expect(() => engine.iterate()).toThrow(expect.objectContaining({ code: 'LEVEL_CORRUPTION' }))
    expect(engine.stats().pinnedSnapshots).toBe(0)
    await engine.close()
  })

  it('one flipped bit in the current META slot never costs acknowledged commits', async () => {
    const fs = new MemoryFileSystem()
    let engine = await RowEngine.open({ fs, pageSize: 512, segmentBytes: 4096, checkpoint: { minLogBytes: 12 * 1024, maxLogBytes: 12 * 1024 } })
    for (let i = 0; i < 400; i++) await engine.write([{ type: 'put', key: key(i % 50), value: Buffer.alloc(60, i) }])
    await engine.close()
    const meta = fs.files.get('META')?.bytes as Buffer
    // The current slot is the one with the higher generation (u64 at 16; low half suffices here).
    const current = meta.readUInt32LE(16) > meta.readUInt32LE(512 + 16) ? 0 : 512
    meta[current + 40] = (meta[current + 40] as number) ^ 0x01
    try {
      engine = await RowEngine.open({ fs })
    } catch (error) {
      expect(error).toMatchObject({ code: 'LEVEL_CORRUPTION', message: expect.stringMatching(/META.*offsets? \d+/) })
      return
    }
    expect(engine.seq).toBe(400)
    expect(readAll(engine)).toHaveLength(50)
    await engine.close()
  })

  it('a META cut to zero bytes is reported, not replaced by an empty database', async () => {
    const fs = new MemoryFileSystem()
    let engine = await rowFactory.open(fs, { small: true })
    for (let i = 0; i < 100; i++) await engine.write([{ type: 'put', key: key(i), value: Buffer.alloc(40, i) }])
    await engine.close()
    const segments = fs.list().filter((name) => name.startsWith('seg-'))
    fs.files.get('META')?.truncate(0)
    try {
      engine = await rowFactory.open(fs, { small: true })
    } catch (error) {
      expect(error).toMatchObject({ code: 'LEVEL_CORRUPTION' })
      expect(fs.list()).toEqual(expect.arrayContaining(segments))
      return
    }
    const seq = engine.seq
    await engine.close()
    expect(seq).toBe(100)
  })
})
