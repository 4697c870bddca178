import { readdirSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import {
  BAD_DATABASES,
  COW_DATABASES,
  type CowDatabaseKind,
  DATABASE_KINDS,
  expectRefusal,
  openEngine,
  orderKey,
  removeTemporaryFolders,
  SAMPLE,
  sampleDatabase,
  stateOf,
  strata,
} from '../test-support.js'

afterEach(removeTemporaryFolders)

/** The sample database after every order was rewritten three times, each time in its own open. */
async function databaseWithGarbage(): Promise<string> {
  const dir = await sampleDatabase()
  for (let round = 1; round <= 3; round++) {
    const engine = await openEngine(dir)
    const ops = Array.from({ length: SAMPLE.orders }, (_, i) => ({ type: 'put' as const, key: Buffer.from(orderKey(i)), value: Buffer.from(JSON.stringify({ total: i, round })) }))
    await engine.write(ops)
    await engine.close()
  }
  return dir
}

describe('strata compact', () => {
  it('reclaims superseded pages and log, keeps every entry, and reports the sizes before and after', async () => {
    const dir = await databaseWithGarbage()
    const run = await strata('compact', dir, '--json')
    expect(run).toMatchObject({ status: 0, stderr: '' })
    const report = JSON.parse(run.stdout)
    expect(report).toEqual({
      path: dir,
      before: { fileBytes: expect.any(Number), segments: 1 },
      after: { fileBytes: expect.any(Number), segments: 1 },
      reclaimedBytes: report.before.fileBytes - report.after.fileBytes,
      bytesWritten: expect.any(Number),
      snapshots: [],
    })
    expect(report.after.fileBytes).toBeLessThan(report.before.fileBytes / 2)
    expect(readdirSync(dir)).toEqual(['META', 'seg-00000002.log'])
    expect((await strata('get', dir, orderKey(7))).stdout).toBe('{"total":7,"round":3}\n')
    expect(JSON.parse((await strata('check', dir, '--json')).stdout)).toMatchObject({ ok: true, entries: SAMPLE.orders + 3 })
  })

  it('says what a named snapshot keeps it from freeing, and deleting the snapshot frees that', async () => {
    const dir = await sampleDatabase()
    const engine = await openEngine(dir)
    await engine.createSnapshot('safety')
    await engine.close()
    // Every order rewritten: the snapshot alone keeps the orders as they were.
    for (let round = 1; round <= 3; round++) {
      const writer = await openEngine(dir)
      await writer.write(Array.from({ length: SAMPLE.orders }, (_, i) => ({ type: 'put' as const, key: Buffer.from(orderKey(i)), value: Buffer.from(JSON.stringify({ total: i, round })) })))
      await writer.close()
    }
    const report = JSON.parse((await strata('compact', dir, '--json')).stdout)
    expect(report.snapshots).toEqual([{ name: 'safety', exclusiveBytes: expect.any(Number) }])
    const kept = report.snapshots[0].exclusiveBytes
    expect(kept).toBeGreaterThan(SAMPLE.orders * 10)
    const printed = await strata('compact', dir)
    expect(printed.stdout).toMatch(/\nkept +[\d,]+ bytes .* by snapshot "safety" \(deleting it frees that\)\n/)
    expect((await strata('snapshot', 'delete', dir, 'safety')).status).toBe(0)
    const after = JSON.parse((await strata('compact', dir, '--json')).stdout)
    expect(after.snapshots).toEqual([])
    const freed = report.after.fileBytes - after.after.fileBytes
    expect(Math.abs(freed - kept)).toBeLessThan(0.1 * kept)
  })

  it('prints the sizes for a person', async () => {
    const dir = await databaseWithGarbage()
    const run = await strata('compact', dir)
    expect(run.status).toBe(0)
    expect(run.stdout).toMatch(/^compacted {2}.+\nbefore {5}[\d,]+ bytes \([\d.]+ KiB\) in 1 segment\nafter {6}[\d,]+ bytes \([\d.]+ KiB\) in 1 segment\nreclaimed {2}[\d,]+ bytes \([\d.]+ KiB\), [\d.]+ % of the files\nwrote {6}[\d,]+ bytes/)
  })

  it.each(DATABASE_KINDS)('is refused by a $name database another open holds, with LEVEL_LOCKED and status 5', async (kind) => {
    const dir = await sampleDatabase(kind)
    const engine = await openEngine(dir, kind)
    try {
      const run = await strata('compact', dir, '--json')
      expect(run).toMatchObject({ status: 5, stdout: '' })
      expect(JSON.parse(run.stderr).error.code).toBe('LEVEL_LOCKED')
    } finally {
      await engine.close()
    }
  })

  it.each(BAD_DATABASES)('refuses $what with $code and status $status, and writes nothing', async ({ make, code, status }) => {
    const path = make()
    const before = stateOf(path)
    expectRefusal(await strata('compact', path), path, code, status)
    expect(stateOf(path)).toBe(before)
  })

  it('rejects an unknown option with STRATA_USAGE and status 2', async () => {
    const dir = await sampleDatabase()
    const before = stateOf(dir)
    const run = await strata('compact', dir, '--force')
    expect(run.status).toBe(2)
    expect(run.stderr).toContain("unknown option '--force' (STRATA_USAGE)")
    expect(stateOf(dir)).toBe(before)
  })
})

/** The sample database after the orders from 100 on were deleted: the pages at the end of pages.db are free. */
async function databaseWithFreeTail(kind: CowDatabaseKind): Promise<string> {
  const dir = await sampleDatabase(kind)
  const engine = await openEngine(dir, kind)
  await engine.write(Array.from({ length: SAMPLE.orders - 100 }, (_, i) => ({ type: 'del' as const, key: Buffer.from(orderKey(100 + i)) })))
  await engine.close()
  return dir
}

describe.each(COW_DATABASES)('strata compact on a $name database', (kind) => {
  it('cuts the free pages off the end of pages.db, keeps every entry, and reports the sizes before and after', async () => {
    const dir = await databaseWithFreeTail(kind)
    expect(JSON.parse((await strata('info', dir, '--json')).stdout).freePages).toBeGreaterThan(0)
    const run = await strata('compact', dir, '--json')
    expect(run).toMatchObject({ status: 0, stderr: '' })
    const report = JSON.parse(run.stdout)
    expect(report).toEqual({
      path: dir,
      before: { fileBytes: expect.any(Number), segments: null },
      after: { fileBytes: expect.any(Number), segments: null },
      reclaimedBytes: report.before.fileBytes - report.after.fileBytes,
      bytesWritten: expect.any(Number),
      snapshots: [],
    })
    expect(report.after.fileBytes).toBeLessThan(report.before.fileBytes / 2)
    expect(readdirSync(dir)).toEqual(['pages.db', 'wal.log'])
    expect(JSON.parse((await strata('info', dir, '--json')).stdout)).toMatchObject({ freePages: 0, fileBytes: report.after.fileBytes })
    expect((await strata('get', dir, orderKey(7))).stdout).toBe('{"total":7}\n')
    expect(JSON.parse((await strata('check', dir, '--json')).stdout)).toMatchObject({ ok: true, entries: 103 })
  })

  it('prints the sizes for a person, without segments', async () => {
    const dir = await databaseWithFreeTail(kind)
    const run = await strata('compact', dir)
    expect(run.status).toBe(0)
    expect(run.stdout).toMatch(/^compacted {2}.+\nbefore {5}[\d,]+ bytes \([\d.]+ KiB\)\nafter {6}[\d,]+ bytes \([\d.]+ KiB\)\nreclaimed {2}[\d,]+ bytes \([\d.]+ KiB\), [\d.]+ % of the files\nwrote {6}[\d,]+ bytes/)
  })
})
