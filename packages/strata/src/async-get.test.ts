import { SlowReadFileSystem } from '@strata/testkit'
import { describe, expect, it } from 'vitest'
import { StrataLevel } from './strata-level.js'

const key = (i: number) => `key:${String(i).padStart(7, '0')}`
const KEYS = 20_000

/** The longest a 1 ms timer waited past its time while `work` ran, in milliseconds. */
async function timerDelay(work: () => Promise<void>): Promise<number> {
  let last = performance.now()
  let worst = 0
  const timer = setInterval(() => {
    const now = performance.now()
    worst = Math.max(worst, now - last - 1)
    last = now
  }, 1)
  try {
    // The timer's first tick, so the measure starts from a running loop.
    await new Promise((resolve) => setTimeout(resolve, 5))
    last = performance.now()
    await work()
    await new Promise((resolve) => setTimeout(resolve, 5))
  } finally {
    clearInterval(timer)
  }
  return worst
}

/** A database of KEYS keys on a folder whose reads take 1 ms, reopened so no page is in memory, with a cache of a few pages. */
async function coldDatabase(engine: 'row' | 'cow', syncMs = 0): Promise<{ db: StrataLevel<string, string>; fs: SlowReadFileSystem }> {
  const fs = new SlowReadFileSystem(1, syncMs)
  const loading = new StrataLevel<string, string>('slow-reads', { fs, engine })
  for (let b = 0; b < KEYS / 1000; b++) await loading.batch(Array.from({ length: 1000 }, (_, i) => ({ type: 'put' as const, key: key(b * 1000 + i), value: `value ${b * 1000 + i}` })))
  await loading.close()
  const db = new StrataLevel<string, string>('slow-reads', { fs, engine, cacheSize: 64 * 1024 })
  await db.open()
  return { db, fs }
}

describe.each(['row', 'cow'] as const)('reads of pages not in memory and the event loop (%s engine)', (engine) => {
  it('64 concurrent `await db.get` calls on uncached keys keep a 1 ms timer on time, where getSync holds it up', async () => {
    const { db, fs } = await coldDatabase(engine)
    // A first round on other keys warms the code up (and reads the pages above the leaves), as a server's first requests do.
    await Promise.all(Array.from({ length: 64 }, (_, i) => db.get(key((i * 7919 + 1) % KEYS))))
    // Three rounds, each on keys of leaves not read yet; the median round is the figure (the machine is shared).
    const asyncDelays: number[] = []
    const before = { ...fs.reads }
    for (const round of [0, 1, 2]) {
      const picks = Array.from({ length: 64 }, (_, i) => (i * 7919 + 5000 + round * 211) % KEYS)
      let got: (string | undefined)[] = []
      asyncDelays.push(
        await timerDelay(async () => {
          got = await Promise.all(picks.map((i) => db.get(key(i))))
        }),
      )
      expect(got).toEqual(picks.map((i) => `value ${i}`))
    }
    const nonBlocking = fs.reads.nonBlocking - before.nonBlocking
    const blocking = fs.reads.blocking - before.blocking
    await db.close()

    // The same gets, synchronous, on a database as cold.
    const cold = await coldDatabase(engine)
    for (let i = 0; i < 64; i++) cold.db.getSync(key((i * 7919 + 1) % KEYS))
    const picks = Array.from({ length: 64 }, (_, i) => (i * 7919 + 5000) % KEYS)
    let got: (string | undefined)[] = []
    const syncDelay = await timerDelay(async () => {
      got = picks.map((i) => cold.db.getSync(key(i)))
    })
    expect(got).toEqual(picks.map((i) => `value ${i}`))
    await cold.db.close()
    const median = asyncDelays.slice().sort((a, b) => a - b)[1] as number
    console.log(`${engine}: 64 gets of uncached keys, reads taking 1 ms: await db.get held a 1 ms timer up by at most ${asyncDelays.map((d) => d.toFixed(1)).join(', ')} ms in three rounds (${nonBlocking} reads off the thread, ${blocking} on it); getSync by ${syncDelay.toFixed(1)} ms`)
    // Each get read its leaf (a few share one): none of it on the thread.
    expect(nonBlocking).toBeGreaterThan(150)
    expect(blocking).toBe(0)
    expect(syncDelay).toBeGreaterThan(48)
    expect(median).toBeLessThan(10)
  })

  it('gets read off the thread while durable writes stream (syncs of 5 ms)', async () => {
    const { db, fs } = await coldDatabase(engine, 5)
    // The writer's keys share a leaf: a write reads it once, at once, as writes do.
    await db.put(key(0), 'rewritten')
    let writing = true
    const writer = (async () => {
      for (let n = 0; writing; n++) await db.put(key(n % 50), `rewritten ${n}`)
    })()
    const before = { ...fs.reads }
    const picks = Array.from({ length: 200 }, (_, i) => 1000 + ((i * 7919) % (KEYS - 1000)))
    for (const i of picks) expect(await db.get(key(i))).toBe(`value ${i}`)
    const blocking = fs.reads.blocking - before.blocking
    const nonBlocking = fs.reads.nonBlocking - before.nonBlocking
    writing = false
    await writer
    await db.close()
    expect(nonBlocking).toBeGreaterThan(100)
    expect(blocking).toBe(0)
  })

  it('a get answers as of its call, though a write lands while it reads', async () => {
    const { db } = await coldDatabase(engine)
    const reading = db.get(key(12_345))
    const writing = db.put(key(12_345), 'written after the get began')
    expect(await reading).toBe('value 12345')
    await writing
    expect(await db.get(key(12_345))).toBe('written after the get began')
    await db.close()
  })
})
