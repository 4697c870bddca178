import { pipeline } from 'node:stream/promises'
import { MemoryFileSystem } from '@strata/storage'
import type { AbstractBatchOperation } from 'abstract-level'
import { EntryStream, KeyStream, ValueStream } from 'level-read-stream'
import { ManyLevelGuest, ManyLevelHost } from 'many-level'
import { describe, expect, it, vi } from 'vitest'
import { StrataLevel } from './strata-level.js'

const open = async <K = string, V = string>(options: ConstructorParameters<typeof StrataLevel<K, V>>[1] = {}) => {
  const db = new StrataLevel<K, V>('ecosystem', { fs: new MemoryFileSystem(), ...options })
  await db.open()
  return db
}

async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of stream) out.push(item)
  return out
}

describe('sublevels', () => {
  it('keep their keys apart, nest, and take their own encodings, msgpack by name included', async () => {
    const db = await open()
    const orders = db.sublevel<string, { total: number }>('orders', { valueEncoding: 'json' })
    const lines = orders.sublevel<string, { sku: string; at: Date }>('lines', { valueEncoding: 'msgpack' })
    await db.put('top', 'level')
    await orders.put('1', { total: 12 })
    await lines.put('1:a', { sku: 'pen', at: new Date(5) })

    expect(await orders.get('1')).toEqual({ total: 12 })
    expect(await lines.get('1:a')).toEqual({ sku: 'pen', at: new Date(5) })
    // As in every abstract-level database, a sublevel's range holds its nested sublevels' keys.
    expect(await lines.keys().all()).toEqual(['1:a'])
    expect(await orders.keys().all()).toEqual(['!lines!1:a', '1'])
    expect(await db.keys().all()).toEqual(['!orders!!lines!1:a', '!orders!1', 'top'])
    await db.close()
  })

  it('commit to several sublevels in one atomic batch, and read them at a snapshot', async () => {
    const db = await open<string, unknown>()
    const orders = db.sublevel<string, { total: number }>('orders', { valueEncoding: 'json' })
    const totals = db.sublevel<string, number>('totals', { valueEncoding: 'msgpack' })
    await db.batch([
      { type: 'put', sublevel: orders, key: '1', value: { total: 12 } },
      { type: 'put', sublevel: totals, key: 'day', value: 12 },
    ])
    const snapshot = db.snapshot()
    await db.batch([
      { type: 'put', sublevel: orders, key: '2', value: { total: 30 } },
      { type: 'put', sublevel: totals, key: 'day', value: 42 },
    ])

    expect(await totals.get('day')).toBe(42)
    expect(await totals.get('day', { snapshot })).toBe(12)
    expect(await orders.keys({ snapshot }).all()).toEqual(['1'])
    expect(await orders.keys().all()).toEqual(['1', '2'])
    await snapshot.close()
    await db.close()
  })
})

describe('level-read-stream', () => {
  it('streams entries, keys and values of a range, and of a snapshot', async () => {
    const db = await open()
    await db.batch(Array.from({ length: 50 }, (_, i) => ({ type: 'put' as const, key: `k${String(i).padStart(2, '0')}`, value: `v${i}` })))
    const snapshot = db.snapshot()
    await db.del('k10')

    const entries = await collect(new EntryStream(db, { gte: 'k10', lt: 'k13' }))
    expect(entries).toEqual([
      { key: 'k11', value: 'v11' },
      { key: 'k12', value: 'v12' },
    ])
    expect(await collect(new KeyStream(db, { gte: 'k10', lt: 'k13', snapshot }))).toEqual(['k10', 'k11', 'k12'])
    expect(await collect(new ValueStream(db, { reverse: true, limit: 2 }))).toEqual(['v49', 'v48'])
    // A stream reads on, and ends cleanly, past its high water mark.
    expect(await collect(new KeyStream(db, { highWaterMark: 4 }))).toHaveLength(49)
    await snapshot.close()
    await db.close()
  })
})

/** A Node-style callback, as abstract-level 1 took them. */
type Callback = (error: Error | null, value?: unknown) => void

/** Settles `promise` into a Node-style callback. */
function settle(promise: Promise<unknown>, callback: Callback): void {
  promise.then(
    (value) => callback(null, value),
    (error: Error) => callback(error),
  )
}

/**
 * The callback API that many-level 2.0.0 (the newest release, written for abstract-level 1)
 * calls on the database it serves, over an abstract-level 3 database, whose methods return
 * promises and take no callbacks.
 */
function callbackFacade(db: StrataLevel<Buffer, Buffer>): ConstructorParameters<typeof ManyLevelHost>[0] {
  type Iterator = { nextv(size: number): Promise<unknown[]>; seek(target: unknown, options?: object): void; close(): Promise<void> }
  const iterator = (it: Iterator) => ({
    nextv: (size: number, callback: Callback) => settle(it.nextv(size), callback),
    seek: (target: unknown, options?: object) => it.seek(target, options),
    close: (callback: Callback) => settle(it.close(), callback),
  })
  const facade = {
    supports: db.supports,
    open: (options: object, callback: Callback) => settle(db.open(options), callback),
    // abstract-level 1 reported a missing key as an error, where 3 yields undefined.
    get: (key: Buffer, options: object, callback: Callback) =>
      settle(
        db.get(key, options).then((value) => value ?? Promise.reject(Object.assign(new Error('Entry not found'), { code: 'LEVEL_NOT_FOUND' }))),
        callback,
      ),
    getMany: (keys: Buffer[], options: object, callback: Callback) => settle(db.getMany(keys, options), callback),
    put: (key: Buffer, value: Buffer, options: object, callback: Callback) => settle(db.put(key, value, options), callback),
    del: (key: Buffer, options: object, callback: Callback) => settle(db.del(key, options), callback),
    batch: (ops: AbstractBatchOperation<typeof db, Buffer, Buffer>[], options: object, callback: Callback) => settle(db.batch(ops, options), callback),
    clear: (options: object, callback: Callback) => settle(db.clear(options), callback),
    iterator: (options: object) => iterator(db.iterator(options)),
    keys: (options: object) => iterator(db.keys(options)),
    values: (options: object) => iterator(db.values(options)),
  }
  return facade as unknown as ConstructorParameters<typeof ManyLevelHost>[0]
}

describe('many-level', () => {
  it('serves a StrataLevel to a guest over a stream: writes, reads, iterators with seek, and clear', async () => {
    const db = await open<Buffer, Buffer>({ keyEncoding: 'buffer', valueEncoding: 'buffer' })
    const host = new ManyLevelHost(callbackFacade(db))
    const guest = new ManyLevelGuest<string, unknown>({ valueEncoding: 'json' })
    const hostStream = host.createRpcStream()
    const guestStream = guest.createRpcStream()
    const wire = pipeline(guestStream, hostStream, guestStream).catch(() => undefined)

    await guest.put('order:1', { total: 12 })
    await guest.batch([
      { type: 'put', key: 'order:2', value: { total: 30 } },
      { type: 'put', key: 'order:3', value: { total: 7 } },
      { type: 'del', key: 'order:1' },
    ])
    expect(await guest.get('order:2')).toEqual({ total: 30 })
    // abstract-level 1, which the guest is, reports a missing key as an error.
    await expect(guest.get('order:1')).rejects.toMatchObject({ code: 'LEVEL_NOT_FOUND' })
    expect(await guest.getMany(['order:3', 'order:2'])).toEqual([{ total: 7 }, { total: 30 }])
    expect(await guest.keys({ gte: 'order:', lt: 'order;' }).all()).toEqual(['order:2', 'order:3'])

    const iterator = guest.iterator({ reverse: true })
    iterator.seek('order:2')
    expect(await iterator.next()).toEqual(['order:2', { total: 30 }])
    await iterator.close()

    // The guest's writes are in the Strata database itself, durable.
    expect(JSON.parse(String(await db.get(Buffer.from('order:3'))))).toEqual({ total: 7 })
    expect(db.stats().io.syncs).toBeGreaterThan(0)

    await guest.clear({ lt: 'order:3' })
    expect(await db.keys({ keyEncoding: 'utf8' }).all()).toEqual(['order:3'])

    await guest.close()
    guestStream.destroy()
    await wire
    await db.close()
  })
})

describe('code written for callbacks (abstract-level 2 and levelup)', () => {
  it('gets a promise and no error: the callback is never called, and only a removed event warns LEVEL_LEGACY', async () => {
    const db = await open()
    const warnings: unknown[] = []
    const warn = vi.spyOn(console, 'warn').mockImplementation((warning: unknown) => void warnings.push(warning))
    try {
      const callback = vi.fn()
      const put = (db.put as unknown as (key: string, value: string, callback: () => void) => Promise<void>)('a', '1', callback)
      expect(put).toBeInstanceOf(Promise)
      await put
      expect(await (db.get as unknown as (key: string, options: object, callback: () => void) => Promise<string>)('a', {}, callback)).toBe('1')
      await new Promise((resolve) => setTimeout(resolve, 10))
      expect(callback).not.toHaveBeenCalled()
      expect(warnings).toEqual([])
      // abstract-level warns once per message in a process; no other test in this file adds the listener.
      db.on('put' as never, () => undefined)
      expect(warnings).toEqual([expect.objectContaining({ code: 'LEVEL_LEGACY', message: "The 'put' event has been removed in favor of 'write'" })])
    } finally {
      warn.mockRestore()
      await db.close()
    }
  })
})
