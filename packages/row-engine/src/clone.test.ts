import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Operation } from '@strata/btree'
import { type FileSystem, MemoryFileSystem, NodeFileSystem } from '@strata/storage'
import { rowFactory } from '@strata/engine-factories'
import { between, cloneCases, cloneCrashCampaign, describeTally, expectUnkind, seededRandom } from '@strata/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { RowEngine } from './row-engine.js'

/** Small pages, segments and checkpoint thresholds, so short runs reach every mechanism. */
const small = { pageSize: 512, segmentBytes: 16 * 1024, checkpoint: { minLogBytes: 2048, maxLogBytes: 16 * 1024, slicePages: 4 } }
const open = (fs: FileSystem) => RowEngine.open({ fs, ...small })

cloneCases('RowEngine', open)

function randomBatch(seed: number): Operation[] {
  const rand = seededRandom(seed)
  return Array.from({ length: between(rand, 1, 30) }, () => ({
    type: 'put' as const,
    key: Buffer.from(`k${String(between(rand, 0, 400)).padStart(4, '0')}`),
    value: Buffer.from(`${rand().toString(36)}`.repeat(between(rand, 1, 3))),
  }))
}

describe('RowEngine clones share sealed segments', () => {
  it('a clone links every segment up to the checkpoint, and writes a few kilobytes at most', async () => {
    const fs = new MemoryFileSystem()
    const engine = await open(fs)
    for (let i = 0; i < 40; i++) await engine.write(randomBatch(i + 1))
    await engine.compact()
    const target = new MemoryFileSystem()
    const result = await engine.clone(undefined, target)
    expect(result.linkedFiles).toBeGreaterThan(1)
    // The checkpoint's own segment is sealed and shared too: the clone writes META, an empty
    // segment and a checkpoint record of its own, far less than one segment.
    expect(result.copiedFiles).toBe(0)
    expect(result.bytesWritten).toBeLessThan(small.segmentBytes / 4)
    // A linked segment is the very same file data: shared, not copied. (The clone may since have
    // dropped a link it no longer uses, never added one.)
    const sharedNames = target.list().filter((name) => target.files.get(name) === fs.files.get(name))
    expect(sharedNames.length).toBeGreaterThan(0)
    expect(sharedNames.length).toBeLessThanOrEqual(result.linkedFiles)
    await engine.close()
  })

  it('stats say which bytes a clone shares with its source, until the source lets them go', async () => {
    const fs = new MemoryFileSystem()
    const engine = await open(fs)
    for (let i = 0; i < 40; i++) await engine.write(randomBatch(i + 1))
    expect(engine.stats().sharedBytes).toBe(0)
    const target = new MemoryFileSystem()
    await engine.clone(undefined, target)
    const clone = await open(target)
    const linked = target.list().filter((name) => target.files.get(name) === fs.files.get(name))
    const linkedBytes = linked.reduce((sum, name) => sum + (target.files.get(name)?.length ?? 0), 0)
    expect(linked.length).toBeGreaterThan(0)
    for (const db of [engine, clone]) {
      const stats = db.stats()
      expect(stats.sharedBytes).toBe(linkedBytes)
      expect(stats.ownedBytes).toBe(stats.fileBytes - linkedBytes)
    }
    // Compaction moves the source off its old segments: their one remaining name is the clone's.
    await engine.compact()
    expect(engine.stats().sharedBytes).toBe(0)
    expect(clone.stats()).toMatchObject({ sharedBytes: 0, ownedBytes: clone.stats().fileBytes })
    await clone.close()
    await engine.close()
  })

  it('a clone made by copy shares no bytes', async () => {
    const engine = await open(new MemoryFileSystem())
    for (let i = 0; i < 40; i++) await engine.write(randomBatch(i + 1))
    const target = new MemoryFileSystem()
    const result = await engine.clone(undefined, target, { link: false })
    expect(result.copiedFiles).toBeGreaterThan(1)
    const clone = await open(target)
    for (const db of [engine, clone]) expect(db.stats()).toMatchObject({ sharedBytes: 0, ownedBytes: db.stats().fileBytes })
    await clone.close()
    await engine.close()
  })

  describe('on disk', () => {
    const folders: string[] = []
    afterEach(() => {
      for (const path of folders.splice(0)) rmSync(path, { recursive: true, force: true })
    })

    it('a linked segment is one file with two names', async () => {
      const source = mkdtempSync(join(tmpdir(), 'strata-clone-'))
      folders.push(source)
      const engine = await open(new NodeFileSystem(source))
      for (let i = 0; i < 60; i++) await engine.write(randomBatch(i + 100))
      const target = join(source, 'clone')
      const result = await engine.clone(undefined, new NodeFileSystem(target, { create: true }))
      await engine.close()
      expect(result.linkedFiles).toBeGreaterThan(0)
      // Each linked segment: the same inode under both names, two links.
      const same = readdirSync(target).filter((name) => existsSync(join(source, name)) && statSync(join(source, name)).ino === statSync(join(target, name)).ino)
      expect(same.length).toBe(result.linkedFiles)
      for (const name of same) expect(statSync(join(target, name)).nlink).toBe(2)
    })
  })
})

describe('RowEngine clones under crashes', () => {
  it('a crash at any point of a clone leaves the source whole and the clone refused or whole, on an unkind disk', async () => {
    const report = await cloneCrashCampaign(rowFactory, { clones: 6 })
    console.log(`RowEngine clone crash campaign: ${report.clones} clones (${report.ofNamed} of a named snapshot, ${report.withSnapshots} keeping snapshots, ${report.linked} linking files); clone folders: ${report.targetStates} crash states, ${report.opened} distinct disks opened as the whole clone, ${report.refused} refused; ${report.sourceStates} source states; ${describeTally(report.tally)}`)
    expect(report.failures.slice(0, 10)).toEqual([])
    expect(report.opened).toBeGreaterThan(0)
    expect(report.refused).toBeGreaterThan(0)
    expect(report.linked).toBeGreaterThan(0)
    expectUnkind(report.tally, 500)
  })
})
