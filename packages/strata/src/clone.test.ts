import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
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

  it('the COW engine refuses with LEVEL_NOT_SUPPORTED', async () => {
    const base = folder()
    const db = new StrataLevel<string, string>(join(base, 'db'), { engine: 'cow' })
    await db.put('a', '1')
    await expect(db.snapshots.clone('head', join(base, 'clone'))).rejects.toMatchObject({ code: 'LEVEL_NOT_SUPPORTED' })
    expect(existsSync(join(base, 'clone'))).toBe(false)
    await db.close()
  })
})
