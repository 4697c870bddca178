import { readdirSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { bytes } from '../human-format.js'
import {
  BAD_DATABASES,
  COW_DATABASES,
  DATABASE_KINDS,
  expectRefusal,
  filesOf,
  openEngine,
  removeTemporaryFolders,
  SAMPLE,
  sampleDatabase,
  snapshotThenChange,
  stateOf,
  strata,
  temporaryFolder,
} from '../test-support.js'

afterEach(removeTemporaryFolders)

const folderBytes = (dir: string) => readdirSync(dir).reduce((sum, name) => sum + statSync(join(dir, name)).size, 0)
/** Key and value bytes of {@link SAMPLE}. */
const SAMPLE_BYTES = Array.from({ length: SAMPLE.orders }, (_, i) => 10 + JSON.stringify({ total: i }).length).reduce((a, b) => a + b, 0) + 3 + 3 + 5 + 5000 + 4 + 14

describe('strata info', () => {
  it('reports the engine, page size, sizes, segments and sequence number as JSON', async () => {
    const dir = await sampleDatabase()
    const run = await strata('info', dir, '--json')
    expect(run).toMatchObject({ status: 0, stderr: '' })
    const info = JSON.parse(run.stdout)
    const liveBytes = SAMPLE_BYTES
    expect(info).toEqual({
      path: dir,
      engine: 'row',
      storeMode: null,
      pageSize: 4096,
      seq: 4,
      fileBytes: folderBytes(dir),
      sharedBytes: 0,
      ownedBytes: folderBytes(dir),
      liveBytes,
      usedBytes: expect.any(Number),
      spaceAmplification: folderBytes(dir) / liveBytes,
      segments: 1,
      freePages: null,
      preimageBytes: null,
      writeAmplification: null,
      cache: { budget: 64 * 1024 * 1024, cleanBytes: expect.any(Number), dirtyBytes: 0, hits: expect.any(Number), misses: expect.any(Number), evictions: 0 },
      snapshots: [],
    })
    expect(info.usedBytes).toBeLessThanOrEqual(info.fileBytes)
  })

  it('prints the same for a person', async () => {
    const dir = await sampleDatabase()
    const run = await strata('info', dir)
    expect(run.status).toBe(0)
    expect(run.stdout).toContain('engine      row (redirect-on-write)\n')
    expect(run.stdout).toContain('page size   4,096 bytes (4.0 KiB)\n')
    expect(run.stdout).toContain('sequence    4 (last committed batch)\n')
    expect(run.stdout).toMatch(/file bytes {2}[\d,]+ bytes \([\d.]+ KiB\) in 1 segment and META\n/)
    expect(run.stdout).toContain('shared      none: no file is hard-linked with another database\n')
    expect(run.stdout).toMatch(/owned {7}[\d,]+ bytes \([\d.]+ KiB\) in files this database alone names\n/)
    expect(run.stdout).toContain('write amp.  not measured')
    expect(run.stdout).toMatch(/page cache {2}[\d,]+ bytes( \([\d.]+ [KM]iB\))? clean of a 67,108,864 bytes \(64\.0 MiB\) budget, 0 bytes dirty; [\d,]+ hits?, [\d,]+ miss(es)?, 0 evictions in this open\n/)
    expect(run.stdout).toContain('snapshots   none named\n')
    expect(run.stdout).not.toContain('store mode')
  })

  it('reports the bytes a clone shares with its source by hard link, and those it owns, until the source is deleted', async () => {
    const dir = await sampleDatabase(undefined, { segmentBytes: 8192 })
    const clone = join(temporaryFolder(), 'clone')
    expect((await strata('snapshot', 'clone', dir, 'head', clone)).status).toBe(0)
    const linkedBytes = readdirSync(clone)
      .map((name) => statSync(join(clone, name)))
      .reduce((sum, file) => sum + (file.nlink > 1 ? file.size : 0), 0)
    expect(linkedBytes).toBeGreaterThan(0)
    for (const path of [clone, dir]) {
      const info = JSON.parse((await strata('info', path, '--json')).stdout)
      expect(info).toMatchObject({ fileBytes: folderBytes(path), sharedBytes: linkedBytes, ownedBytes: folderBytes(path) - linkedBytes })
    }
    const human = (await strata('info', clone)).stdout
    expect(human).toContain(`shared      ${bytes(linkedBytes)} in files hard-linked with other databases (a clone, its source)\n`)
    expect(human).toContain(`owned       ${bytes(folderBytes(clone) - linkedBytes)} in files this database alone names\n`)
    rmSync(dir, { recursive: true })
    expect(JSON.parse((await strata('info', clone, '--json')).stdout)).toMatchObject({ sharedBytes: 0, ownedBytes: folderBytes(clone) })
  })

  it('lists the named snapshots', async () => {
    const dir = await sampleDatabase()
    await snapshotThenChange(dir)
    const info = JSON.parse((await strata('info', dir, '--json')).stdout)
    expect(info.seq).toBe(5)
    expect(info.snapshots).toEqual([{ name: 'end-of-day', seq: 4, createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), exclusiveBytes: expect.any(Number) }])
    expect(info.snapshots[0].exclusiveBytes).toBeGreaterThan(0)
    expect((await strata('info', dir)).stdout).toMatch(/snapshots {3}1 named\n {12}"end-of-day" at sequence 4, created \S+, holds [\d,]+ bytes/)
  })

  it('says an empty database has no space amplification', async () => {
    const dir = temporaryFolder()
    await (await openEngine(dir)).close()
    const info = JSON.parse((await strata('info', dir, '--json')).stdout)
    expect(info).toMatchObject({ seq: 0, liveBytes: 0, spaceAmplification: null })
    expect((await strata('info', dir)).stdout).toContain('space amp.  none (the database is empty)')
  })

  it.each(DATABASE_KINDS)('is refused by a $name database another open holds, with LEVEL_LOCKED and status 5', async (kind) => {
    const dir = await sampleDatabase(kind)
    const engine = await openEngine(dir, kind)
    try {
      expect(await strata('info', dir)).toEqual({ status: 5, stdout: '', stderr: `strata: ${dir} is locked by another open (LEVEL_LOCKED)\n` })
    } finally {
      await engine.close()
    }
  })

  it.each(BAD_DATABASES)('refuses $what with $code and status $status, and writes nothing', async ({ make, code, status }) => {
    const path = make()
    const before = stateOf(path)
    expectRefusal(await strata('info', path), path, code, status)
    expect(stateOf(path)).toBe(before)
  })

  it('reports errors as JSON with --json', async () => {
    const path = join(temporaryFolder(), 'missing')
    const run = await strata('info', path, '--json')
    expect(run.status).toBe(3)
    expect(JSON.parse(run.stderr)).toEqual({ error: { code: 'STRATA_DATABASE_NOT_FOUND', message: `${path} does not exist`, exitCode: 3 } })
  })

  it('rejects bad options and a missing argument with STRATA_USAGE and status 2', async () => {
    const dir = await sampleDatabase()
    const unknown = await strata('info', dir, '--verbose')
    expect(unknown).toMatchObject({ status: 2, stdout: '' })
    expect(unknown.stderr).toBe("strata: unknown option '--verbose' (STRATA_USAGE)\nrun 'strata info --help' for usage\n")
    const missing = await strata('info')
    expect(missing.status).toBe(2)
    expect(missing.stderr).toContain("missing required argument 'db' (STRATA_USAGE)")
  })

  it('explains itself with --help', async () => {
    const run = await strata('info', '--help')
    expect(run.status).toBe(0)
    expect(run.stdout).toContain('Usage: strata info [options] <db>')
    expect(run.stdout).toContain('--json')
  })
})

describe.each(COW_DATABASES)('strata info on a $name database', (kind) => {
  it('reports the engine, its free pages and pre-images as JSON, and writes nothing', async () => {
    const dir = await sampleDatabase(kind)
    const before = filesOf(dir)
    const run = await strata('info', dir, '--json')
    expect(run).toMatchObject({ status: 0, stderr: '' })
    expect(JSON.parse(run.stdout)).toEqual({
      path: dir,
      engine: 'cow',
      storeMode: null,
      pageSize: 4096,
      seq: 4,
      fileBytes: folderBytes(dir),
      sharedBytes: 0,
      ownedBytes: folderBytes(dir),
      liveBytes: SAMPLE_BYTES,
      usedBytes: null,
      spaceAmplification: folderBytes(dir) / SAMPLE_BYTES,
      segments: null,
      freePages: expect.any(Number),
      preimageBytes: 0,
      writeAmplification: null,
      cache: { budget: 64 * 1024 * 1024, cleanBytes: expect.any(Number), dirtyBytes: 0, hits: expect.any(Number), misses: expect.any(Number), evictions: 0 },
      snapshots: [],
    })
    expect(filesOf(dir)).toEqual(before)
  })

  it('shows the store mode its named snapshots fixed, and what they keep', async () => {
    const dir = await sampleDatabase(kind)
    await snapshotThenChange(dir, kind)
    const before = filesOf(dir)
    const info = JSON.parse((await strata('info', dir, '--json')).stdout)
    expect(info).toMatchObject({ engine: 'cow', storeMode: kind.store, seq: 5, fileBytes: folderBytes(dir) })
    expect(info.snapshots).toEqual([{ name: 'end-of-day', seq: 4, createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), exclusiveBytes: expect.any(Number) }])
    const human = (await strata('info', dir)).stdout
    expect(human).toContain('engine      cow (copy-before-write)\n')
    expect(human).toContain(`store mode  ${info.storeMode} (fixed by its named snapshots)\n`)
    expect(human).toMatch(/file bytes {2}[\d,]+ bytes \([\d.]+ KiB\) in pages\.db, wal\.log/)
    expect(human).toMatch(/free pages {2}[\d,]+ pages?, [\d,]+ bytes/)
    expect(human).toMatch(/snapshots {3}1 named\n {12}"end-of-day" at sequence 4/)
    expect(filesOf(dir)).toEqual(before)
  })

  it('says no store mode is fixed before a named snapshot, and shows an empty database', async () => {
    const dir = temporaryFolder()
    await (await openEngine(dir, kind)).close()
    const info = JSON.parse((await strata('info', dir, '--json')).stdout)
    expect(info).toMatchObject({ engine: 'cow', storeMode: null, seq: 0, liveBytes: 0, spaceAmplification: null, freePages: 0, preimageBytes: 0 })
    const human = (await strata('info', dir)).stdout
    expect(human).toContain('store mode  none yet: each open chooses (shared by default) until a named snapshot fixes it\n')
    expect(human).toContain('file bytes  8,224 bytes (8.0 KiB) in pages.db and wal.log\n')
  })
})
