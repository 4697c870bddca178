import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MemoryFileSystem } from '@strata/storage'
import type { RecoveryProgress } from '@strata/btree'
import { unpack } from 'msgpackr'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { msgpack } from './msgpack-encoding.js'
import { StrataLevel, type StrataLevelOptions } from './strata-level.js'

const inMemory = <K = string, V = string>(options: StrataLevelOptions<K, V> = {}) => new StrataLevel<K, V>('memory', { fs: new MemoryFileSystem(), ...options })

describe('StrataLevel options', () => {
  it('rejects an unknown engine and an empty location as the caller’s mistakes', () => {
    expect(() => new StrataLevel('x', { engine: 'lsm' as 'row' })).toThrow(TypeError)
    expect(() => new StrataLevel('x', { engine: 'lsm' as 'row' })).toThrow(/'row'/)
    expect(() => new StrataLevel('')).toThrow(TypeError)
  })

  it('declares what it supports, and in memory does not claim permanence', async () => {
    const db = inMemory()
    expect(db.supports).toMatchObject({
      implicitSnapshots: true,
      explicitSnapshots: true,
      has: true,
      getSync: true,
      seek: true,
      createIfMissing: true,
      errorIfExists: true,
      permanence: false,
      additionalMethods: { stats: true },
      encodings: { buffer: true, view: true, utf8: true, json: true, msgpack: true },
    })
    await db.close()
  })

  it('passes engine options through to the engine', async () => {
    const db = inMemory({ engineOptions: { pageSize: 1024 } })
    await db.open()
    expect(db.stats().pageSize).toBe(1024)
    await db.close()
  })

  it('keeps a given file system across close and reopen', async () => {
    const db = inMemory()
    await db.put('a', '1')
    await db.close()
    await db.open()
    expect(await db.get('a')).toBe('1')
    await db.close()
  })
})

describe('StrataLevel on disk', () => {
  let root: string
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'strata-level-'))
  })
  afterEach(() => {
    rmSync(root, { recursive: true, force: true })
  })

  it('keeps its data across close and reopen by a new instance', async () => {
    const location = join(root, 'db')
    const db = new StrataLevel<string, unknown>(location, { valueEncoding: 'json' })
    await db.batch(Array.from({ length: 300 }, (_, i) => ({ type: 'put' as const, key: `order:${i}`, value: { total: i } })))
    await db.close()
    const again = new StrataLevel(location, { valueEncoding: 'json' })
    expect(await again.get('order:299')).toEqual({ total: 299 })
    expect(await again.keys({ gte: 'order:1', lt: 'order:2' }).all()).toHaveLength(111)
    expect(again.location).toBe(location)
    expect(again.supports.permanence).toBe(true)
    await again.close()
  })

  it('fails to open with codes that say why: a missing database, or one that exists', async () => {
    const location = join(root, 'db')
    const missing = new StrataLevel(location, { createIfMissing: false })
    await expect(missing.open()).rejects.toMatchObject({ code: 'LEVEL_DATABASE_NOT_OPEN', cause: { code: 'STRATA_DATABASE_NOT_FOUND' } })
    const db = new StrataLevel(location)
    await db.open()
    await db.close()
    await expect(db.open({ errorIfExists: true })).rejects.toMatchObject({ code: 'LEVEL_DATABASE_NOT_OPEN', cause: { code: 'STRATA_DATABASE_EXISTS' } })
  })
})

describe.each(['row', 'cow'] as const)('StrataLevel read-only open (%s engine)', (engine) => {
  let root: string
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'strata-level-'))
  })
  afterEach(() => {
    rmSync(root, { recursive: true, force: true })
  })

  it('reads what was written, rejects writes with LEVEL_READONLY and leaves the files as they were', async () => {
    const location = join(root, 'db')
    const db = new StrataLevel(location, { engine })
    await db.batch(Array.from({ length: 200 }, (_, i) => ({ type: 'put' as const, key: `k${i}`, value: `v${i}` })))
    await db.close()
    const files = () => Object.fromEntries(readdirSync(location).filter((f) => f !== 'LOCK').map((f) => [f, readFileSync(join(location, f)).toString('base64')]))
    const before = files()
    const reader = new StrataLevel(location, { engine, engineOptions: { readOnly: true } })
    expect(await reader.get('k199')).toBe('v199')
    expect(await reader.keys().all()).toHaveLength(200)
    await expect(reader.put('k1', 'changed')).rejects.toMatchObject({ code: 'LEVEL_READONLY' })
    await expect(reader.batch([{ type: 'del', key: 'k2' }])).rejects.toMatchObject({ code: 'LEVEL_READONLY' })
    expect(await reader.get('k1')).toBe('v1')
    await reader.close()
    expect(files()).toEqual(before)
    const missing = new StrataLevel(join(root, 'none'), { engine, engineOptions: { readOnly: true } })
    await expect(missing.open()).rejects.toMatchObject({ code: 'LEVEL_DATABASE_NOT_OPEN', cause: { code: 'STRATA_DATABASE_NOT_FOUND' } })
    expect(existsSync(join(root, 'none'))).toBe(false)
  })
})

describe('StrataLevel durability', () => {
  it('syncs every write by default, and not those with sync: false', async () => {
    const db = inMemory()
    await db.open()
    const syncs = () => db.stats().io.syncs
    let before = syncs()
    await db.put('a', '1')
    await db.del('a')
    await db.batch([{ type: 'put', key: 'b', value: '2' }])
    await db.batch().put('c', '3').write()
    expect(syncs() - before).toBe(4)
    before = syncs()
    await db.put('a', '1', { sync: false } as object)
    await db.del('a', { sync: false } as object)
    await db.batch([{ type: 'put', key: 'b', value: '2' }], { sync: false } as object)
    await db.batch().put('c', '3').write({ sync: false } as object)
    expect(syncs() - before).toBe(0)
    expect(await db.getMany(['b', 'c'])).toEqual(['2', '3'])
    await db.close()
  })
})

describe('StrataLevel buffers', () => {
  it('hands readers copies they own: changing one changes nothing stored', async () => {
    const db = inMemory<Buffer, Buffer>({ keyEncoding: 'buffer', valueEncoding: 'buffer' })
    await db.put(Buffer.from('k'), Buffer.from('value'))
    const got = (await db.get(Buffer.from('k'))) as Buffer
    got.fill(0)
    const [entry] = await db.iterator().all()
    entry?.[0].fill(0)
    entry?.[1].fill(0)
    const view = db.getSync(Buffer.from('k'), { valueEncoding: 'view' }) as Uint8Array
    expect(Buffer.isBuffer(view)).toBe(false)
    view.fill(0)
    expect((await db.get(Buffer.from('k')))?.toString()).toBe('value')
    expect((await db.keys().all())[0]?.toString()).toBe('k')
    await db.close()
  })

  it('stores what a write was given, even if the caller reuses its buffer before the write resolves', async () => {
    const db = inMemory<Buffer, Buffer>({ keyEncoding: 'buffer', valueEncoding: 'buffer' })
    await db.open()
    const key = Buffer.from('k')
    const value = Buffer.from('first')
    const write = db.put(key, value)
    key.write('x')
    value.write('later')
    await write
    expect((await db.get(Buffer.from('k')))?.toString()).toBe('first')
    expect(await db.get(Buffer.from('x'))).toBeUndefined()
    await db.close()
  })
})

describe('StrataLevel msgpack encoding', () => {
  it('stores standard MessagePack, named on the database or per operation', async () => {
    const db = inMemory<string, unknown>({ valueEncoding: 'msgpack' })
    const order = { id: 7, lines: [{ sku: 'pen', qty: 2 }], at: new Date(1000), raw: Buffer.from([1, 2]), note: null }
    await db.put('order', order)
    expect(await db.get('order')).toEqual(order)
    // MessagePack has one map type: a Map is read back as a plain object.
    await db.put('tags', new Map([['rush', true]]))
    expect(await db.get('tags')).toEqual({ rush: true })
    const raw = (await db.get('order', { valueEncoding: 'buffer' })) as Buffer
    expect(unpack(raw)).toMatchObject({ id: 7, lines: [{ sku: 'pen', qty: 2 }] })
    await db.put('n', 42, { valueEncoding: 'msgpack' })
    expect(await db.get('n', { valueEncoding: 'msgpack' })).toBe(42)
    expect(db.valueEncoding(msgpack).name).toBe('msgpack')
    await db.close()
  })
})

describe('StrataLevel snapshots and stats', () => {
  it('reports the engine’s accounting, with explicit snapshots pinned until closed', async () => {
    const db = inMemory()
    await db.put('order:1', 'x'.repeat(100))
    const snapshot = db.snapshot()
    const stats = db.stats()
    expect(stats).toMatchObject({ engine: 'row', seq: 1, pinnedSnapshots: 1 })
    expect(stats.io.userBytes).toBe('order:1'.length + 100)
    expect(stats.io.writeAmplification).toBeGreaterThan(1)
    expect(stats.liveBytes).toBe('order:1'.length + 100)
    await snapshot.close()
    expect(db.stats().pinnedSnapshots).toBe(0)
    await db.close()
    expect(() => db.stats()).toThrow(expect.objectContaining({ code: 'LEVEL_DATABASE_NOT_OPEN' }))
  })

  it('an iterator holds its snapshot’s state until the iterator closes, even after the snapshot closes', async () => {
    const db = inMemory()
    await db.batch([
      { type: 'put', key: 'a', value: '1' },
      { type: 'put', key: 'b', value: '2' },
    ])
    const snapshot = db.snapshot()
    const iterator = db.iterator({ snapshot })
    await snapshot.close()
    expect(db.stats().pinnedSnapshots).toBeGreaterThan(0)
    iterator.seek('b')
    await expect(iterator.next()).rejects.toMatchObject({ code: 'LEVEL_SNAPSHOT_NOT_OPEN' })
    await iterator.close()
    expect(db.stats().pinnedSnapshots).toBe(0)
    await db.close()
  })

  it('refuses a snapshot of another database as the caller’s mistake', async () => {
    const one = inMemory()
    const two = inMemory()
    await Promise.all([one.open(), two.open()])
    const snapshot = one.snapshot()
    await expect(two.get('a', { snapshot })).rejects.toThrow(TypeError)
    expect(() => two.iterator({ snapshot })).toThrow(TypeError)
    await snapshot.close()
    await Promise.all([one.close(), two.close()])
  })

  it('rejects a key longer than the format allows with a RangeError that carries a code', async () => {
    const db = inMemory()
    await expect(db.put('k'.repeat(1025), 'v')).rejects.toThrow(RangeError)
    await expect(db.put('k'.repeat(1025), 'v')).rejects.toMatchObject({ code: 'STRATA_KEY_TOO_LARGE' })
    await db.close()
  })

  it('a plain batch and one abstract-level must handle itself give the same results and errors', async () => {
    const db = inMemory<string, unknown>({ valueEncoding: 'json' })
    await db.open()
    await db.batch([
      { type: 'put', key: 'a', value: { n: 1 } },
      { type: 'put', key: 'b', value: [2] },
      { type: 'del', key: 'a' },
    ])
    expect(await db.getMany(['a', 'b'])).toEqual([undefined, [2]])
    await expect(db.batch([{ type: 'put', key: null as unknown as string, value: 1 }])).rejects.toMatchObject({ code: 'LEVEL_INVALID_KEY' })
    await expect(db.batch([{ type: 'put', key: 'k', value: undefined }])).rejects.toMatchObject({ code: 'LEVEL_INVALID_VALUE' })
    await expect(db.batch([{ type: 'nope' as 'put', key: 'k', value: 1 }])).rejects.toThrow(TypeError)
    // With a write listener and a prewrite hook, abstract-level's own path runs both.
    const written: unknown[] = []
    db.on('write', (ops: unknown[]) => written.push(...ops))
    db.hooks.prewrite.add((op) => {
      if (op.type === 'put') op.value = { wrapped: op.value }
    })
    await db.batch([{ type: 'put', key: 'c', value: 3 }])
    expect(await db.get('c')).toEqual({ wrapped: 3 })
    expect(written).toHaveLength(1)
    await db.close()
  })
})

describe.each(['row', 'cow'] as const)('StrataLevel cacheSize (%s engine)', (engine) => {
  it('is the budget of the page cache stats() reports, and every read is right within it', async () => {
    const db = new StrataLevel<string, string>('cache', { fs: new MemoryFileSystem(), engine, cacheSize: 64 * 1024, engineOptions: { pageSize: 512 } })
    await db.open()
    await db.batch(Array.from({ length: 2000 }, (_, i) => ({ type: 'put' as const, key: `k${i}`, value: `v${i}` })))
    await db.compactRange('k', 'l')
    for (let i = 0; i < 2000; i++) expect(await db.get(`k${i}`)).toBe(`v${i}`)
    const { cache } = db.stats()
    expect(cache).toMatchObject({ budget: 64 * 1024 })
    expect(cache.cleanBytes).toBeLessThanOrEqual(64 * 1024)
    expect(cache.evictions).toBeGreaterThan(0)
    await db.close()
  })

  it('refuses a cacheSize that is not a non-negative integer with a RangeError coded STRATA_INVALID_OPTION', () => {
    for (const cacheSize of [-1, 0.5, Number.NaN]) {
      expect(() => new StrataLevel('cache', { fs: new MemoryFileSystem(), engine, cacheSize })).toThrow(expect.objectContaining({ name: 'RangeError', code: 'STRATA_INVALID_OPTION' }))
    }
  })
})

describe.each(['row', 'cow'] as const)("StrataLevel 'recovery' events (%s engine)", (engine) => {
  it('an open after a crash emits its replay progress, ending with done; a clean open emits none', async () => {
    const fs = new MemoryFileSystem()
    const db = new StrataLevel<string, string>('recovery', { fs, engine })
    await db.open()
    for (let b = 0; b < 50; b++) await db.batch(Array.from({ length: 20 }, (_, i) => ({ type: 'put' as const, key: `k${b}-${i}`, value: `v${b}` })))
    // A crash: the folder as it is while the database is open.
    const crashed = fs.clone()
    await db.close()
    const events: RecoveryProgress[] = []
    const after = new StrataLevel<string, string>('recovery', { fs: crashed, engine })
    after.on('recovery', (progress: RecoveryProgress) => events.push(progress))
    await after.open()
    expect(events[0]).toMatchObject({ replayedBytes: 0, done: false })
    expect(events.at(-1)).toMatchObject({ batches: 50, done: true })
    expect(await after.get('k49-19')).toBe('v49')
    await after.close()
    const clean: RecoveryProgress[] = []
    const again = new StrataLevel<string, string>('recovery', { fs: crashed, engine })
    again.on('recovery', (progress: RecoveryProgress) => clean.push(progress))
    await again.open()
    expect(clean).toEqual([])
    await again.close()
  })
})
