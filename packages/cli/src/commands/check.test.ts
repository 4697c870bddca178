import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import {
  BAD_DATABASES,
  COW_DATABASES,
  damageRecord,
  expectRefusal,
  filesOf,
  flipByte,
  RecordType,
  recordsOf,
  removeTemporaryFolders,
  SAMPLE,
  sampleDatabase,
  snapshotThenChange,
  stateOf,
  strata,
  temporaryFolder,
} from '../test-support.js'

afterEach(removeTemporaryFolders)

const ENTRIES = SAMPLE.orders + 3

describe('strata check', () => {
  it('passes a sound database, having read every entry, and writes nothing', async () => {
    const dir = await sampleDatabase()
    const before = filesOf(dir)
    const run = await strata('check', dir, '--json')
    expect(run).toMatchObject({ status: 0, stderr: '' })
    const report = JSON.parse(run.stdout)
    expect(report).toEqual({ path: dir, ok: true, problems: [], entries: ENTRIES, bytesRead: expect.any(Number) })
    expect(report.bytesRead).toBeGreaterThan(SAMPLE.largeValue.length)
    expect(filesOf(dir)).toEqual(before)
    const human = await strata('check', dir)
    expect(human.stdout).toMatch(new RegExp(`^ok: .+: ${ENTRIES} entries, [\\d,]+ bytes \\([\\d.]+ KiB\\) of keys and values; every page, value and checksum verified\\n$`))
  })

  it('lists each problem in a damaged page and fails with LEVEL_CORRUPTION and status 6', async () => {
    const dir = await sampleDatabase()
    damageRecord(dir, RecordType.PAGE)
    const run = await strata('check', dir, '--json')
    expect(run.status).toBe(6)
    const report = JSON.parse(run.stdout)
    expect(report.ok).toBe(false)
    // The engine's check finds the bad page (and the entries and space it can no longer account
    // for); the read pass stops at it.
    expect(report.problems).toEqual([
      expect.stringMatching(/^node root @\d+: child 0: page checksum mismatch in seg-00000001\.log at offset \d+$/),
      expect.stringMatching(/^live data bytes recorded as \d+ but entries hold \d+$/),
      expect.stringMatching(/^segment 1: \d+ bytes counted as used, \d+ found in use$/),
      expect.stringMatching(/^reading every entry stopped before the first key: page checksum mismatch/),
    ])
    expect(JSON.parse(run.stderr)).toEqual({ error: { code: 'LEVEL_CORRUPTION', message: `4 problems found in ${dir}`, exitCode: 6 } })

    const human = await strata('check', dir)
    expect(human.status).toBe(6)
    expect(human.stdout.split('\n').filter(Boolean)).toEqual(report.problems.map((p: string) => `problem: ${p}`))
    expect(human.stderr).toBe(`strata: 4 problems found in ${dir} (LEVEL_CORRUPTION)\n`)
  })

  it('finds a damaged out-of-line value and says after which key reading stopped', async () => {
    const dir = await sampleDatabase()
    damageRecord(dir, RecordType.VALUE)
    const run = await strata('check', dir, '--json')
    expect(run.status).toBe(6)
    // The key before 'large' is '0x41', shown in hex because it begins with 0x.
    expect(JSON.parse(run.stdout).problems).toEqual([
      expect.stringMatching(/^node root\/0 @\d+: value \d+: bad record checksum in .*seg-00000001\.log at offset \d+$/),
      expect.stringMatching(/^reading every entry stopped after key 0x30783431: bad record checksum/),
    ])
  })

  it('finds damage in every page the head or a named snapshot uses', async () => {
    const dir = await sampleDatabase()
    await snapshotThenChange(dir)
    // Every PAGE record but the first, a new database's empty root, which nothing uses any more.
    // Damage to the snapshot's root stops the engine's check; to the head's root, the open.
    const pages = recordsOf(dir).filter((r) => r.type === RecordType.PAGE).slice(1)
    expect(pages.length).toBeGreaterThan(5)
    for (const page of pages) {
      const copy = temporaryFolder()
      cpSync(dir, copy, { recursive: true })
      flipByte(copy, page.at + 30)
      const run = await strata('check', copy, '--json')
      expect({ at: page.at, status: run.status }).toEqual({ at: page.at, status: 6 })
      expect(JSON.parse(run.stdout).problems).toContainEqual(expect.stringMatching(/page checksum mismatch in seg-00000001\.log at offset \d+$/))
    }
  })

  it('reports a database too damaged to open as a problem, with status 6', async () => {
    const dir = await sampleDatabase()
    writeFileSync(join(dir, 'META'), Buffer.alloc(1024, 0x55))
    const run = await strata('check', dir, '--json')
    expect(run.status).toBe(6)
    expect(JSON.parse(run.stdout)).toEqual({
      path: dir,
      ok: false,
      problems: [`the database does not open: no valid meta slot in ${dir}/META at offsets 0 or 512`],
      entries: 0,
      bytesRead: 0,
    })
  })

  it.each(BAD_DATABASES)('refuses $what with $code and status $status, and writes nothing', async ({ make, code, status }) => {
    const path = make()
    const before = stateOf(path)
    expectRefusal(await strata('check', path), path, code, status)
    expect(stateOf(path)).toBe(before)
  })

  it('rejects an unknown option with STRATA_USAGE and status 2', async () => {
    const dir = await sampleDatabase()
    const run = await strata('check', dir, '--repair')
    expect(run.status).toBe(2)
    expect(run.stderr).toContain("unknown option '--repair' (STRATA_USAGE)")
  })
})

/** Flips the bits of byte `at` of the file `name` in `dir`. */
function flipFileByte(dir: string, name: string, at: number): void {
  const path = join(dir, name)
  const bytes = readFileSync(path)
  bytes[at] = (bytes[at] as number) ^ 0xff
  writeFileSync(path, bytes)
}

describe.each(COW_DATABASES)('strata check on a $name database', (kind) => {
  it('passes a sound database with a named snapshot, having read every entry, and writes nothing', async () => {
    const dir = await sampleDatabase(kind)
    await snapshotThenChange(dir, kind)
    const before = filesOf(dir)
    const run = await strata('check', dir, '--json')
    expect(run).toMatchObject({ status: 0, stderr: '' })
    expect(JSON.parse(run.stdout)).toEqual({ path: dir, ok: true, problems: [], entries: ENTRIES, bytesRead: expect.any(Number) })
    expect(filesOf(dir)).toEqual(before)
  })

  it('finds damage in every page of pages.db but the free ones, and in every page copy a named snapshot keeps', async () => {
    const dir = await sampleDatabase(kind)
    await snapshotThenChange(dir, kind)
    const { pageSize, freePages, preimageBytes } = JSON.parse((await strata('info', dir, '--json')).stdout)
    expect(preimageBytes).toBeGreaterThan(0)
    // Page 0 is the meta area; every page copy fills a slot of a store file.
    const store = readdirSync(dir).find((name) => name.endsWith('.pre') || name === 'preimages.db') as string
    const pages = [
      ...Array.from({ length: readFileSync(join(dir, 'pages.db')).length / pageSize - 1 }, (_, i) => ({ file: 'pages.db', at: (i + 1) * pageSize + 30 })),
      ...Array.from({ length: preimageBytes / pageSize }, (_, i) => ({ file: store, at: i * pageSize + 30 })),
    ]
    let missed = 0
    for (const page of pages) {
      const copy = temporaryFolder()
      cpSync(dir, copy, { recursive: true })
      flipFileByte(copy, page.file, page.at)
      const run = await strata('check', copy, '--json')
      if (run.status === 0) {
        missed++
        continue
      }
      expect({ ...page, status: run.status }).toEqual({ ...page, status: 6 })
      expect(JSON.parse(run.stdout).problems.join('\n')).toMatch(/checksum mismatch|nonzero bytes/)
    }
    // Nothing reads a free page.
    expect(missed).toBe(freePages)
  })

  it('reports a database too damaged to open as a problem, with status 6', async () => {
    const dir = await sampleDatabase(kind)
    const pages = readFileSync(join(dir, 'pages.db'))
    pages.fill(0x55, 0, 1024)
    writeFileSync(join(dir, 'pages.db'), pages)
    const run = await strata('check', dir, '--json')
    expect(run.status).toBe(6)
    expect(JSON.parse(run.stdout)).toEqual({
      path: dir,
      ok: false,
      problems: [`the database does not open: no valid meta slot in ${dir}/pages.db at offsets 0 or 512`],
      entries: 0,
      bytesRead: 0,
    })
  })
})
