import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { partialCloneFolder } from '@strata/snapshots'
import { StrataLevel } from './strata-level.js'

const folders: string[] = []
afterEach(() => {
  for (const dir of folders.splice(0)) rmSync(dir, { recursive: true, force: true })
})
function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'strata-clone-'))
  folders.push(dir)
  return dir
}

const order = (i: number) => `order:${String(i).padStart(6, '0')}`

/** A new folder on another file system than the temporary folder (a tmpfs such as /dev/shm), or undefined if the machine has none. */
function folderOnAnotherMount(): string | undefined {
  const here = statSync(tmpdir()).dev
  for (const candidate of ['/dev/shm', `/run/user/${process.getuid?.() ?? 0}`, process.cwd()]) {
    try {
      if (statSync(candidate).dev === here) continue
      const dir = mkdtempSync(join(candidate, 'strata-clone-'))
      folders.push(dir)
      return dir
    } catch {
      // Not there, or not writable: try the next.
    }
  }
  return undefined
}

async function entries(db: StrataLevel<string, string>): Promise<[string, string][]> {
  const out: [string, string][] = []
  for await (const entry of db.iterator()) out.push(entry)
  return out
}

describe('db.snapshots.clone', () => {
  it('a clone of a snapshot is a writable database at its state, independent of the source', async () => {
    const base = folder()
    const db = new StrataLevel<string, string>(join(base, 'prod'))
    await db.batch(Array.from({ length: 2000 }, (_, i) => ({ type: 'put' as const, key: order(i), value: `v${i}` })))
    await db.snapshots.create('nightly')
    await db.put(order(1), 'changed after the snapshot')
    const result = await db.snapshots.clone('nightly', join(base, 'staging'))
    expect(result.linkedFiles + result.copiedFiles).toBeGreaterThan(0)
    const staging = new StrataLevel<string, string>(join(base, 'staging'))
    await staging.open()
    expect(await staging.get(order(1))).toBe('v1')
    expect(staging.snapshots.list()).toEqual([])
    await staging.put(order(2), 'written on the clone')
    await db.del(order(3))
    expect(await db.get(order(2))).toBe('v2')
    expect(await staging.get(order(3))).toBe('v3')
    await db.close()
    // The source's folder goes; the clone reads on, and reopens whole.
    rmSync(join(base, 'prod'), { recursive: true })
    await staging.close()
    await staging.open()
    expect((await entries(staging)).length).toBe(2000)
    expect(await staging.get(order(2))).toBe('written on the clone')
    await staging.close()
  })

  it('stats() tells the bytes a clone shares with its source by hard link, and those it owns', async () => {
    const base = folder()
    const db = new StrataLevel<string, string>(join(base, 'prod'), { engineOptions: { segmentBytes: 16 * 1024 } })
    for (let from = 0; from < 20000; from += 100) await db.batch(Array.from({ length: 100 }, (_, i) => ({ type: 'put' as const, key: order(from + i), value: `v${from + i}`.padEnd(50, '.') })))
    const result = await db.snapshots.clone('head', join(base, 'staging'))
    expect(result.linkedFiles).toBeGreaterThan(0)
    const staging = new StrataLevel<string, string>(join(base, 'staging'))
    await staging.open()
    const shared = db.stats().sharedBytes
    expect(shared).toBeGreaterThan(0)
    expect(staging.stats()).toMatchObject({ sharedBytes: shared, ownedBytes: staging.stats().fileBytes - shared })
    await db.close()
    rmSync(join(base, 'prod'), { recursive: true })
    expect(staging.stats()).toMatchObject({ sharedBytes: 0, ownedBytes: staging.stats().fileBytes })
    await staging.close()
  })

  it("'head' clones the current state, and snapshots: true keeps the named snapshots", async () => {
    const base = folder()
    const db = new StrataLevel<string, string>(join(base, 'db'))
    await db.put('a', '1')
    await db.snapshots.create('first')
    await db.put('a', '2')
    await db.snapshots.clone('head', join(base, 'copy'), { snapshots: true, link: false })
    await db.close()
    const copy = new StrataLevel<string, string>(join(base, 'copy'))
    await copy.open()
    expect(await copy.get('a')).toBe('2')
    expect(copy.snapshots.list().map((s) => s.name)).toEqual(['first'])
    expect(await copy.snapshots.view('first').get('a')).toBe('1')
    await copy.close()
  })

  it('refuses a folder that is not empty, and replaces what an interrupted clone left', async () => {
    const base = folder()
    const db = new StrataLevel<string, string>(join(base, 'db'))
    await db.put('a', '1')
    mkdirSync(join(base, 'taken'))
    writeFileSync(join(base, 'taken', 'notes.txt'), 'mine')
    await expect(db.snapshots.clone('head', join(base, 'taken'))).rejects.toMatchObject({ code: 'STRATA_DATABASE_EXISTS' })
    expect(existsSync(join(base, 'taken', 'notes.txt'))).toBe(true)
    await expect(db.snapshots.clone('nope', join(base, 'clone'))).rejects.toMatchObject({ code: 'STRATA_SNAPSHOT_NOT_FOUND' })
    expect(existsSync(join(base, 'clone'))).toBe(false)
    expect(existsSync(partialCloneFolder(join(base, 'clone')))).toBe(false)
    // A crash mid-clone leaves only the partial folder beside the target; the next clone replaces it.
    mkdirSync(partialCloneFolder(join(base, 'clone')))
    writeFileSync(join(partialCloneFolder(join(base, 'clone')), 'seg-00000001.log'), 'half a clone')
    mkdirSync(join(base, 'clone'))
    await db.snapshots.clone('head', join(base, 'clone'))
    expect(existsSync(partialCloneFolder(join(base, 'clone')))).toBe(false)
    await db.close()
    const clone = new StrataLevel<string, string>(join(base, 'clone'))
    expect(await clone.get('a')).toBe('1')
    await clone.close()
  })

  it('an open refuses a folder holding a clone cut short, on either engine, and a new clone replaces it', async () => {
    for (const engine of ['row', 'cow'] as const) {
      const base = folder()
      const db = new StrataLevel<string, string>(join(base, 'db'), { engine })
      await db.put('a', '1')
      await db.snapshots.clone('head', join(base, 'clone'))
      // What a crash part way leaves: the clone's files with the marker still there.
      writeFileSync(join(base, 'clone', 'CLONING'), '')
      const cut = new StrataLevel<string, string>(join(base, 'clone'))
      await expect(cut.open()).rejects.toMatchObject({ code: 'LEVEL_DATABASE_NOT_OPEN', cause: { code: 'STRATA_CLONE_INCOMPLETE' } })
      expect(readdirSync(join(base, 'clone')).sort()).not.toContain('LOCK')
      rmSync(join(base, 'clone'), { recursive: true })
      await db.snapshots.clone('head', join(base, 'clone'))
      await db.close()
      const clone = new StrataLevel<string, string>(join(base, 'clone'))
      expect(await clone.get('a')).toBe('1')
      await clone.close()
    }
  })

  it('a clone on another file system copies what it would link, and outlives its source', async () => {
    const base = folder()
    const other = folderOnAnotherMount()
    // Where the machine has no second file system, the forced copy takes the same path (EXDEV is what forces it there).
    const target = join(other ?? base, 'clone')
    const db = new StrataLevel<string, string>(join(base, 'db'), { engineOptions: { segmentBytes: 64 * 1024, checkpoint: { minLogBytes: 16 * 1024, maxLogBytes: 64 * 1024 } } })
    // Loaded in key order over several checkpoints, so sealed segments hold pages the head still uses.
    for (let b = 0; b < 60; b++) await db.batch(Array.from({ length: 50 }, (_, i) => ({ type: 'put' as const, key: order(b * 50 + i), value: `v${b * 50 + i}`.repeat(20) })))
    await db.snapshots.create('nightly')
    await db.put(order(1), 'after')
    const made = await db.snapshots.clone('nightly', target, other ? {} : { link: false })
    console.log(`clone across file systems: ${other ? `${tmpdir()} to ${other}` : 'no second file system here, forced copy'}: ${JSON.stringify(made)}`)
    expect(made.linkedFiles).toBe(0)
    expect(made.copiedFiles).toBeGreaterThan(1)
    if (other) {
      expect(statSync(target).dev).not.toBe(statSync(join(base, 'db')).dev)
      // On the source's own file system the same clone links: the other mount is what made it copy.
      expect((await db.snapshots.clone('nightly', join(base, 'beside'))).linkedFiles).toBeGreaterThan(0)
    }
    await db.close()
    rmSync(join(base, 'db'), { recursive: true })
    const clone = new StrataLevel<string, string>(target)
    expect(await clone.get(order(1))).toBe('v1'.repeat(20))
    expect((await entries(clone)).length).toBe(3000)
    await clone.close()
  })

  it('the COW engine clones by copying its files, and the clone outlives its source', async () => {
    const base = folder()
    const db = new StrataLevel<string, string>(join(base, 'db'), { engine: 'cow' })
    await db.put('a', '1')
    await db.snapshots.create('first')
    await db.put('a', '2')
    const made = await db.snapshots.clone('first', join(base, 'clone'))
    expect(made).toMatchObject({ linkedFiles: 0, copiedFiles: expect.any(Number) })
    expect(made.bytesWritten).toBeGreaterThan(0)
    await db.put('a', '3')
    await db.close()
    rmSync(join(base, 'db'), { recursive: true })
    // The engine is a property of the folder: the clone opens as COW with no option given.
    const clone = new StrataLevel<string, string>(join(base, 'clone'))
    expect(await clone.get('a')).toBe('1')
    expect(clone.snapshots.list()).toEqual([])
    await clone.put('b', '2')
    expect(clone.stats().engine).toBe('cow')
    await clone.close()
  })
})
