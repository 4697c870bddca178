import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { rowFactory } from '@strata/engine-factories'
import { CrashFileSystem, FaultyFileSystem, NodeFileSystem } from '@strata/storage'
import { buildFactoriesFirst, describeDiskFullReport, describeFaultReport, diskFullCampaign, faultCampaign, openHandlesUnder, readAll } from '@strata/testkit'
import { afterAll, describe, expect, it } from 'vitest'

const root = mkdtempSync(join(tmpdir(), 'strata-row-full-'))
let folders = 0
/** A new, empty real folder whose writes, syncs and truncations a test can fail. */
const realFolder = () => new FaultyFileSystem(new NodeFileSystem(join(root, `db-${++folders}`), { create: true }))

afterAll(() => rmSync(root, { recursive: true, force: true }))

describe('RowEngine on a failing disk', () => {
  it('rejects the failing call with STRATA_IO_ERROR naming the errno, keeps reading, and loses nothing acknowledged, wherever in a workload the disk fails', async () => {
    const report = await faultCampaign(rowFactory, { cases: 120 })
    console.log(`RowEngine fault campaign (memory): ${describeFaultReport(report)}`)
    expect(report.failures.slice(0, 5), `${report.failures.length} failures, the first 5 shown`).toEqual([])
    expect(report.injected.write).toBeGreaterThan(60)
    expect(report.injected.sync).toBeGreaterThan(10)
    expect(report.injected.truncate).toBeGreaterThan(5)
    expect(report.rejected).toBeGreaterThan(report.cases)
  })

  it('keeps every durable call when the power fails after the disk did', async () => {
    const report = await faultCampaign(rowFactory, { cases: 80, crash: true })
    console.log(`RowEngine fault campaign ending in a power loss: ${describeFaultReport(report)}`)
    expect(report.failures.slice(0, 5), `${report.failures.length} failures, the first 5 shown`).toEqual([])
    expect(report.crashStates).toBeGreaterThan(report.cases)
  })

  it('does the same on a real folder whose writes, syncs and truncations fail', async () => {
    const report = await faultCampaign(rowFactory, { cases: 12, steps: 30, disk: realFolder })
    console.log(`RowEngine fault campaign (real folder): ${describeFaultReport(report)}`)
    expect(report.failures.slice(0, 5), `${report.failures.length} failures, the first 5 shown`).toEqual([])
    expect(report.rejected).toBeGreaterThan(0)
  })
})

describe('RowEngine on a real full disk', () => {
  // The child process runs the built packages: bring dist up to date with the source under test.
  buildFactoriesFirst()

  it('a write past the file size limit rejects with STRATA_IO_ERROR naming EFBIG, reads go on, and every acknowledged batch is kept', async () => {
    const report = await diskFullCampaign(rowFactory, { runs: 4 })
    console.log(`RowEngine disk-full campaign: ${describeDiskFullReport(report)}`)
    expect(report.failures).toEqual([])
    expect(report.runs).toBe(4)
    expect(report.refusedWrites).toBeGreaterThanOrEqual(4)
  })
})

describe('RowEngine on a failing disk: the smallest reproductions', () => {
  it('a database whose creation fails leaves no file open', async () => {
    // Creation syncs the first segment, then META: a failure of either left that file open.
    for (const failing of ['seg-00000001.log', 'META']) {
      const fs = realFolder()
      fs.faults = (operation, name) => (operation === 'sync' && name === failing ? 'EIO' : undefined)
      await expect(rowFactory.open(fs, { small: true })).rejects.toMatchObject({ code: 'STRATA_IO_ERROR' })
      expect(openHandlesUnder(fs.location), `after the sync of ${failing} failed`).toEqual([])
    }
  })

  it('a batch written with sync: false, replayed after a process crash, is still there after a later close and a power loss', async () => {
    const fs = new CrashFileSystem()
    const first = await rowFactory.open(fs, { small: true })
    const value = Buffer.alloc(1500, 1)
    await first.write([{ type: 'put', key: Buffer.from('a'), value }], { sync: false })
    // The process dies here: it writes nothing more, and the OS keeps what it wrote.
    fs.unlock()
    const second = await rowFactory.open(fs, { small: true })
    expect(second.get(Buffer.from('a'))).toEqual(value)
    // A durable write that starts a new segment, then a clean close: both resolve.
    await second.write([{ type: 'put', key: Buffer.from('b'), value: Buffer.alloc(20_000, 2) }])
    await second.close()
    // The power fails. The close promised that everything before it is durable.
    for (const state of fs.crashStates(fs.point)) {
      const recovered = await rowFactory.open(state.fs, { small: true })
      try {
        expect(readAll(recovered).map(([k, v]) => [k.toString(), v.length]), `after a power loss (${state.mode})`).toEqual([
          ['a', 1500],
          ['b', 20_000],
        ])
        expect(recovered.check()).toEqual([])
      } finally {
        await recovered.close()
      }
    }
  })

  it('a META write that fails part-way, then a reopen, then a power loss, leaves a database that opens', async () => {
    const fs = new CrashFileSystem()
    let engine = await rowFactory.open(fs, { small: true })
    const key = (i: number) => Buffer.from(`key${i}`)
    for (let i = 0; i < 40; i++) await engine.write([{ type: 'put', key: key(i % 10), value: Buffer.alloc(100, i) }])
    await engine.compact()
    await engine.write(Array.from({ length: 10 }, (_, i) => ({ type: 'put' as const, key: key(i), value: Buffer.alloc(100, 99) })))
    // The next META write lands 21 of its 64 bytes, then fails: the compaction rejects.
    fs.faults = (operation, name) => (operation === 'write' && name === 'META' ? { code: 'EIO', written: 21 } : undefined)
    await expect(engine.compact()).rejects.toMatchObject({ code: 'STRATA_IO_ERROR' })
    fs.faults = undefined
    await engine.close()
    // The reopen finds that META slot damaged and recovers from the newest whole checkpoint.
    engine = await rowFactory.open(fs, { small: true })
    expect(readAll(engine).every(([, v]) => v.equals(Buffer.alloc(100, 99)))).toBe(true)
    // The power fails before anything else is written.
    for (const state of fs.crashStates(fs.point)) {
      const recovered = await rowFactory.open(state.fs, { small: true })
      try {
        expect(readAll(recovered), `after a power loss (${state.mode})`).toHaveLength(10)
        expect(recovered.check()).toEqual([])
      } finally {
        await recovered.close()
      }
    }
    await engine.close()
  })

  it('a creation whose META write fails part-way, then an open, an acknowledged write and a power loss, leaves a database that opens', async () => {
    const fs = new CrashFileSystem()
    fs.faults = (operation, name) => (operation === 'write' && name === 'META' ? { code: 'ENOSPC', written: 341 } : undefined)
    await expect(rowFactory.open(fs, { small: true })).rejects.toMatchObject({ code: 'STRATA_IO_ERROR' })
    fs.faults = undefined
    const engine = await rowFactory.open(fs, { small: true })
    await engine.write([{ type: 'put', key: Buffer.from('a'), value: Buffer.from('acknowledged') }])
    // The power fails; the write above was acknowledged as durable.
    for (const state of fs.crashStates(fs.point)) {
      const recovered = await rowFactory.open(state.fs, { small: true })
      try {
        expect(recovered.get(Buffer.from('a'))?.toString(), `after a power loss (${state.mode})`).toBe('acknowledged')
      } finally {
        await recovered.close()
      }
    }
    await engine.close()
  })
})
