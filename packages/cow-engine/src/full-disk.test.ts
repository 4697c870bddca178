import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cowFactories, cowSharedFactory } from '@strata/engine-factories'
import { FaultyFileSystem, MemoryFileSystem, NodeFileSystem } from '@strata/storage'
import { buildFactoriesFirst, describeDiskFullReport, describeFaultReport, diskFullCampaign, faultCampaign, readAll } from '@strata/testkit'
import { afterAll, describe, expect, it } from 'vitest'
import { CowEngine } from './cow-engine.js'

const root = mkdtempSync(join(tmpdir(), 'strata-cow-full-'))
let folders = 0
afterAll(() => rmSync(root, { recursive: true, force: true }))

for (const factory of cowFactories) {
  describe(`${factory.name} on a failing disk`, () => {
    it('rejects the failing call with STRATA_IO_ERROR naming the errno, keeps reading, and loses nothing acknowledged, wherever in a workload the disk fails', async () => {
      const report = await faultCampaign(factory, { cases: 100 })
      console.log(`${factory.name} fault campaign (memory): ${describeFaultReport(report)}`)
      expect(report.failures.slice(0, 5), `${report.failures.length} failures, the first 5 shown`).toEqual([])
      expect(report.injected.write).toBeGreaterThan(40)
      expect(report.injected.sync).toBeGreaterThan(5)
      expect(report.rejected).toBeGreaterThan(report.cases)
    })

    it('keeps every durable call when the power fails after the disk did', async () => {
      const report = await faultCampaign(factory, { cases: 60, crash: true })
      console.log(`${factory.name} fault campaign ending in a power loss: ${describeFaultReport(report)}`)
      expect(report.failures.slice(0, 5), `${report.failures.length} failures, the first 5 shown`).toEqual([])
      expect(report.crashStates).toBeGreaterThan(report.cases)
    })

    it('does the same on a real folder whose writes, syncs and truncations fail', async () => {
      const disk = () => new FaultyFileSystem(new NodeFileSystem(join(root, `db-${++folders}`), { create: true }))
      const report = await faultCampaign(factory, { cases: 8, steps: 30, disk })
      console.log(`${factory.name} fault campaign (real folder): ${describeFaultReport(report)}`)
      expect(report.failures.slice(0, 5), `${report.failures.length} failures, the first 5 shown`).toEqual([])
      expect(report.rejected).toBeGreaterThan(0)
    })
  })
}

describe('CowEngine on a real full disk', () => {
  // The child process runs the built packages: bring dist up to date with the source under test.
  buildFactoriesFirst()

  for (const factory of cowFactories) {
    it(`${factory.name}: a write past the file size limit rejects with STRATA_IO_ERROR naming EFBIG, reads go on, and every acknowledged batch is kept`, async () => {
      const report = await diskFullCampaign(factory, { runs: 3 })
      console.log(`${factory.name} disk-full campaign: ${describeDiskFullReport(report)}`)
      expect(report.failures).toEqual([])
      expect(report.runs).toBe(3)
      expect(report.refusedWrites).toBeGreaterThanOrEqual(3)
    })
  }
})

describe('CowEngine on a failing disk: the smallest reproductions', () => {
  const key = (i: number) => Buffer.from(`key${String(i).padStart(4, '0')}`)

  it('releasing a snapshot, or closing a cursor, does not throw when the shared store cannot be cut short', async () => {
    const fs = new MemoryFileSystem()
    const engine = await CowEngine.open({ fs, store: 'shared', pageSize: 512 })
    await engine.write(Array.from({ length: 100 }, (_, i) => ({ type: 'put' as const, key: key(i), value: Buffer.alloc(20, 1) })))
    await engine.checkpoint()
    const snapshot = engine.snapshot()
    const cursor = engine.iterate()
    cursor.next()
    await engine.write(Array.from({ length: 100 }, (_, i) => ({ type: 'put' as const, key: key(i), value: Buffer.alloc(20, 2) })))
    await engine.checkpoint()
    // The pre-images are in preimages.db; releasing their last holder cuts the file, and that fails.
    fs.faults = (operation) => (operation === 'truncate' ? 'EIO' : undefined)
    expect(() => snapshot.release()).not.toThrow()
    expect(() => cursor.close()).not.toThrow()
    fs.faults = undefined
    expect(engine.stats().pinnedSnapshots).toBe(0)
    expect(engine.check()).toEqual([])
    await engine.close()
  })

  it('a snapshot still reads its large values after a checkpoint fails while it starts the new WAL', async () => {
    const fs = new MemoryFileSystem()
    const engine = await CowEngine.open({ fs, store: 'shared', pageSize: 512 })
    const big = Buffer.alloc(3000, 7)
    await engine.write([{ type: 'put', key: Buffer.from('big'), value: big }])
    const snapshot = engine.snapshot()
    // The head copies the leaf; the snapshot's copy still names the value by its place in the WAL.
    await engine.write([{ type: 'put', key: Buffer.from('other'), value: Buffer.from('x') }])
    // The checkpoint moves the value out of the WAL, then cuts the WAL and writes its new header:
    // the disk is full for that header.
    let cut = false
    fs.faults = (operation, name) => {
      if (name !== 'wal.log') return undefined
      if (operation === 'truncate') cut = true
      return operation === 'write' && cut ? 'ENOSPC' : undefined
    }
    await expect(engine.checkpoint()).rejects.toMatchObject({ code: 'STRATA_IO_ERROR' })
    fs.faults = undefined
    expect(engine.get(Buffer.from('big'))).toEqual(big)
    expect(engine.get(Buffer.from('big'), snapshot)).toEqual(big)
    expect(readAll(engine, snapshot)).toEqual([[Buffer.from('big'), big]])
    snapshot.release()
    await engine.close()
  })

  it('a checkpoint whose WAL sync fails, a reopen, more checkpoints, then a power loss: every page the tree names holds a node', async () => {
    // Case 284 of the fault campaign (seed 2, 120 steps, 300 cases), ending in a power loss: the
    // sync of a checkpoint's WAL images fails; the reopen redoes that checkpoint from the WAL; two
    // checkpoints later the durable tree names page 21 as a node, but page 21 holds an overflow page.
    const report = await faultCampaign(cowSharedFactory, { seed: 2, steps: 120, cases: 300, crash: true, only: 284 })
    expect(report.cases).toBe(1)
    expect(report.failures).toEqual([])
  })
})
