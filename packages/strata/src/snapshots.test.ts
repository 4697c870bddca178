import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CowEngine } from '@strata/cow-engine'
import { MemoryFileSystem } from '@strata/storage'
import fc from 'fast-check'
import { EntryStream } from 'level-read-stream'
import { afterEach, describe, expect, it } from 'vitest'
import type { EngineName } from './engines.js'
import { StrataLevel } from './strata-level.js'

const folders: string[] = []
afterEach(() => {
  for (const dir of folders.splice(0)) rmSync(dir, { recursive: true, force: true })
})
function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'strata-snapshots-'))
  folders.push(dir)
  return dir
}

const order = (i: number) => `order:${String(i).padStart(6, '0')}`
/** Engines with named snapshots. */
const engines: EngineName[] = ['row', ...('createSnapshot' in CowEngine.prototype ? (['cow'] as const) : [])]

describe.each(engines)('db.snapshots on the %s engine', (engine) => {
  it('a named snapshot survives close and reopen, and its view reads exactly its state', async () => {
    const location = folder()
    let db = new StrataLevel<string, { total: number }>(location, { engine, valueEncoding: 'json' })
    await db.batch(Array.from({ length: 500 }, (_, i) => ({ type: 'put' as const, key: order(i), value: { total: i } })))
    const info = await db.snapshots.create('end-of-day', { meta: { by: 'nightly job' } })
    expect(info).toMatchObject({ name: 'end-of-day', meta: { by: 'nightly job' } })
    expect(info.createdAt).toBeInstanceOf(Date)
    await db.batch(Array.from({ length: 500 }, (_, i) => ({ type: 'put' as const, key: order(i), value: { total: -1 } })))
    await db.del(order(7))
    await db.close()
    db = new StrataLevel(location, { engine, valueEncoding: 'json' })
    await db.open()
    expect(db.snapshots.list().map((s) => s.name)).toEqual(['end-of-day'])
    const view = db.snapshots.view('end-of-day')
    expect(await view.get(order(7))).toEqual({ total: 7 })
    expect(await view.getMany([order(1), order(499)])).toEqual([{ total: 1 }, { total: 499 }])
    expect(await view.has(order(42))).toBe(true)
    let sum = 0
    for await (const [, value] of view.iterator({ gte: 'order:', lt: 'order;' })) sum += value.total
    expect(sum).toBe((499 * 500) / 2)
    // Sublevels and streams work on a view; writes do not.
    const streamed: string[] = []
    for await (const { key } of new EntryStream(view, { limit: 3 })) streamed.push(key as string)
    expect(streamed).toEqual([order(0), order(1), order(2)])
    await expect(view.put(order(1), { total: 0 })).rejects.toMatchObject({ code: 'LEVEL_READONLY' })
    await expect(view.batch([{ type: 'del', key: order(1) }])).rejects.toMatchObject({ code: 'LEVEL_READONLY' })
    expect(await db.get(order(7))).toBeUndefined()
    await view.close()
    await db.close()
  })

  it('a report over a view while 10,000 writes land equals the state at the snapshot', async () => {
    const db = new StrataLevel<string, number>('memory', { engine, fs: new MemoryFileSystem(), valueEncoding: 'json' })
    for (let at = 0; at < 100_000; at += 10_000) {
      await db.batch(Array.from({ length: 10_000 }, (_, i) => ({ type: 'put' as const, key: order(at + i), value: (at + i) % 97 })), { sync: false } as object)
    }
    await db.snapshots.create('report')
    const expected = Array.from({ length: 100_000 }, (_, i) => i % 97).reduce((a, b) => a + b, 0)
    const view = db.snapshots.view('report')
    let writes = 0
    const writer = (async () => {
      for (let w = 0; w < 10_000; w += 100) {
        await db.batch(Array.from({ length: 100 }, (_, j) => (j % 3 ? { type: 'put' as const, key: order((w + j) * 7), value: 1000 } : { type: 'del' as const, key: order(w + j) })))
        writes += 100
      }
    })()
    let sum = 0
    let count = 0
    let landedDuringReport = 0
    for await (const [, value] of view.iterator()) {
      sum += value
      if (++count % 5000 === 0) {
        landedDuringReport = writes
        await new Promise((resolve) => setImmediate(resolve))
      }
    }
    await writer
    expect(landedDuringReport).toBeGreaterThan(0)
    expect(count).toBe(100_000)
    expect(sum).toBe(expected)
    await view.close()
    await db.close()
  })

  it('diff, restore, export, delete and retention do what they say', async () => {
    const location = folder()
    const db = new StrataLevel<string, string>(location, { engine, snapshots: { keepLast: 2 } })
    await db.batch([
      { type: 'put', key: 'a', value: '1' },
      { type: 'put', key: 'b', value: '2' },
    ])
    await db.snapshots.create('one')
    await db.put('b', '20')
    await db.put('c', '30')
    await db.del('a')
    const changes = []
    for await (const change of db.snapshots.diff('one')) changes.push(change)
    expect(changes).toEqual([
      { key: 'a', before: '1', after: undefined },
      { key: 'b', before: '2', after: '20' },
      { key: 'c', before: undefined, after: '30' },
    ])
    const exported = await db.snapshots.export('one', join(location, '..', `${location.split('/').pop()}-export`))
    folders.push(join(location, '..', `${location.split('/').pop()}-export`))
    expect(exported).toMatchObject({ entries: 2 })
    const copy = new StrataLevel<string, string>(join(location, '..', `${location.split('/').pop()}-export`), { engine })
    expect(await copy.getMany(['a', 'b', 'c'])).toEqual(['1', '2', undefined])
    await copy.close()
    await db.snapshots.restore('one')
    expect(await db.getMany(['a', 'b', 'c'])).toEqual(['1', '2', undefined])
    await db.snapshots.create('two')
    await db.put('d', '40')
    await db.snapshots.create('three')
    expect(db.snapshots.list().map((s) => s.name)).toEqual(['two', 'three'])
    await expect(db.snapshots.create('two')).rejects.toMatchObject({ code: 'STRATA_SNAPSHOT_EXISTS' })
    expect(() => db.snapshots.view('one')).toThrow(expect.objectContaining({ code: 'STRATA_SNAPSHOT_NOT_FOUND' }))
    await db.snapshots.delete('two')
    expect(db.snapshots.list().map((s) => s.name)).toEqual(['three'])
    await db.close()
  })

  it('a view whose snapshot is deleted keeps reading its state, takes snapshots of it, and closes, unpinning it', async () => {
    const db = new StrataLevel<string, string>('memory', { engine, fs: new MemoryFileSystem() })
    await db.put('a', '1')
    const unpinned = db.stats().pinnedSnapshots
    await db.snapshots.create('gone')
    await db.put('a', '2')
    const view = db.snapshots.view('gone')
    await view.open()
    await db.snapshots.delete('gone')
    expect(await view.get('a')).toBe('1')
    const snapshot = view.snapshot()
    expect(await view.get('a', { snapshot })).toBe('1')
    expect(await view.iterator().all()).toEqual([['a', '1']])
    await snapshot.close()
    await view.close()
    expect(view.status).toBe('closed')
    expect(db.stats().pinnedSnapshots).toBe(unpinned)
    expect(await db.get('a')).toBe('2')
    await db.close()
  })

  it('exports from a read-only open and from a database on a memory file system', async () => {
    const location = folder()
    const writer = new StrataLevel<string, string>(location, { engine })
    await writer.batch([
      { type: 'put', key: 'a', value: '1' },
      { type: 'put', key: 'b', value: '2' },
    ])
    await writer.snapshots.create('nightly')
    await writer.close()
    const reader = new StrataLevel<string, string>(location, { engine, engineOptions: { readOnly: true } })
    const fromReadOnly = join(folder(), 'copy')
    expect(await reader.snapshots.export('nightly', fromReadOnly)).toMatchObject({ entries: 2 })
    await reader.close()
    const inMemory = new StrataLevel<string, string>('memory', { engine, fs: new MemoryFileSystem() })
    await inMemory.put('c', '3')
    await inMemory.snapshots.create('nightly')
    const fromMemory = join(folder(), 'copy')
    expect(await inMemory.snapshots.export('nightly', fromMemory)).toMatchObject({ entries: 1 })
    await inMemory.close()
    for (const [copy, entries] of [
      [fromReadOnly, [['a', '1'], ['b', '2']]],
      [fromMemory, [['c', '3']]],
    ] as const) {
      const db = new StrataLevel<string, string>(copy)
      expect(await db.iterator().all()).toEqual(entries)
      expect(db.stats().engine).toBe(engine)
      await db.close()
    }
  })

  it('an export that fails leaves nothing at its target, and never touches a database already there', async () => {
    const db = new StrataLevel<string, string>('memory', { engine, fs: new MemoryFileSystem() })
    await db.batch(Array.from({ length: 30_000 }, (_, i) => ({ type: 'put' as const, key: order(i), value: 'x'.repeat(50) })))
    await db.snapshots.create('nightly')
    const parent = folder()
    // Into a database already there: refused, and that database is as it was.
    const occupied = join(parent, 'occupied')
    const other = new StrataLevel<string, string>(occupied, { engine })
    await other.put('mine', 'kept')
    await other.close()
    const files = readdirSync(occupied).sort()
    await expect(db.snapshots.export('nightly', occupied)).rejects.toMatchObject({ code: 'STRATA_DATABASE_EXISTS' })
    expect(readdirSync(occupied).sort()).toEqual(files)
    // An unknown snapshot: nothing is made.
    await expect(db.snapshots.export('weekly', join(parent, 'weekly'))).rejects.toMatchObject({ code: 'STRATA_SNAPSHOT_NOT_FOUND' })
    // The database closes while the export copies: the half-made copy is removed with its folder.
    const target = join(parent, 'copy')
    const exporting = db.snapshots.export('nightly', target)
    while (!existsSync(target)) await new Promise((resolve) => setImmediate(resolve))
    await db.close()
    await expect(exporting).rejects.toMatchObject({ code: 'LEVEL_DATABASE_NOT_OPEN' })
    expect(readdirSync(parent)).toEqual(['occupied'])
    // Into an empty folder that was there before: the folder stays, empty.
    const db2 = new StrataLevel<string, string>('memory', { engine, fs: new MemoryFileSystem() })
    await db2.batch(Array.from({ length: 30_000 }, (_, i) => ({ type: 'put' as const, key: order(i), value: 'x'.repeat(50) })))
    await db2.snapshots.create('nightly')
    const empty = join(parent, 'empty')
    mkdirSync(empty)
    const exportingAgain = db2.snapshots.export('nightly', empty)
    while (readdirSync(empty).length === 0) await new Promise((resolve) => setImmediate(resolve))
    await db2.close()
    await expect(exportingAgain).rejects.toMatchObject({ code: 'LEVEL_DATABASE_NOT_OPEN' })
    expect(readdirSync(empty)).toEqual([])
  })

  it('diff agrees with a model over random histories', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(30), fc.option(fc.nat(5), { nil: undefined })), { maxLength: 60 }),
        fc.array(fc.tuple(fc.nat(30), fc.option(fc.nat(5), { nil: undefined })), { maxLength: 60 }),
        async (before, after) => {
          const db = new StrataLevel<string, string>('memory', { engine, fs: new MemoryFileSystem(), engineOptions: { pageSize: 512 } })
          const model = new Map<string, string>()
          const apply = async (ops: [number, number | undefined][]) => {
            for (const [k, v] of ops) {
              const key = `k${String(k).padStart(2, '0')}`
              if (v === undefined) {
                await db.del(key)
                model.delete(key)
              } else {
                await db.put(key, `v${v}`)
                model.set(key, `v${v}`)
              }
            }
          }
          await apply(before)
          await db.snapshots.create('a')
          const was = new Map(model)
          await apply(after)
          const got = []
          for await (const c of db.snapshots.diff('a')) got.push(c)
          const expected = [...new Set([...was.keys(), ...model.keys()])]
            .sort()
            .filter((k) => was.get(k) !== model.get(k))
            .map((k) => ({ key: k, before: was.get(k), after: model.get(k) }))
          expect(got).toEqual(expected)
          await db.close()
        },
      ),
      { numRuns: 100 },
    )
  })
})

describe('the snapshots option', () => {
  it('is checked when the database is constructed, before anything opens', async () => {
    const make = (snapshots: unknown) => () => new StrataLevel('memory', { fs: new MemoryFileSystem(), snapshots } as never)
    expect(make({ keepLast: -1 })).toThrow(RangeError)
    expect(make({ keepLast: 1.5 })).toThrow(RangeError)
    expect(make({ maxAge: Number.NaN })).toThrow(RangeError)
    expect(make({ maxAge: '1 day' })).toThrow(TypeError)
    expect(make({ keeplast: 2 })).toThrow(TypeError)
    expect(make(7)).toThrow(TypeError)
    for (const good of [{ keepLast: 3, maxAge: 86_400_000 }, {}, undefined]) await make(good)().close()
  })
})
