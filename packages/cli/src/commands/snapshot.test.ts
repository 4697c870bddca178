import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import {
  BAD_DATABASES,
  COW_DATABASES,
  DATABASE_KINDS,
  filesOf,
  removeTemporaryFolders,
  sampleDatabase,
  snapshotThenChange,
  strata,
  strataProcess,
  temporaryFolder,
} from '../test-support.js'

afterEach(removeTemporaryFolders)

describe.each(DATABASE_KINDS)('strata snapshot on a $name database', (kind) => {
  it('creates, lists and deletes named snapshots that survive between runs', async () => {
    const dir = await sampleDatabase(kind)
    expect(await strata('snapshot', 'create', dir, 'monday', '--meta', '{"by":"ops"}')).toMatchObject({ status: 0, stdout: expect.stringMatching(/^created snapshot monday at sequence \d+\n$/) })
    const listed = JSON.parse((await strata('snapshot', 'list', dir, '--json')).stdout)
    expect(listed).toEqual([expect.objectContaining({ name: 'monday', meta: { by: 'ops' } })])
    expect((await strata('snapshot', 'list', dir)).stdout).toMatch(/^monday\s+seq \d+, .*meta \{"by":"ops"\}\n$/)
    expect(await strata('snapshot', 'create', dir, 'monday')).toMatchObject({ status: 11, stderr: expect.stringContaining('STRATA_SNAPSHOT_EXISTS') })
    expect(await strata('snapshot', 'delete', dir, 'monday')).toMatchObject({ status: 0 })
    expect((await strata('snapshot', 'list', dir)).stdout).toBe('no snapshots\n')
    expect(await strata('snapshot', 'delete', dir, 'monday')).toMatchObject({ status: 10, stderr: expect.stringContaining('STRATA_SNAPSHOT_NOT_FOUND') })
    expect(await strata('snapshot', 'create', dir, 'x', '--meta', '{oops')).toMatchObject({ status: 2, stderr: expect.stringContaining('STRATA_USAGE') })
  })

  it('lists and diffs snapshots, a snapshot against itself giving no changes, without writing', async () => {
    const dir = await sampleDatabase(kind)
    await snapshotThenChange(dir, kind)
    const before = filesOf(dir)
    const diff = await strata('snapshot', 'diff', dir, 'end-of-day')
    expect(diff.status).toBe(0)
    expect(diff.stdout.split('\n').filter(Boolean)).toEqual(['~ order:0001 {"total":-1}', '- order:0002 {"total":2}', '+ order:9999 {"total":9999}'])
    const json = (await strata('snapshot', 'diff', dir, 'end-of-day', 'head', '--json')).stdout.trim().split('\n').map((line) => JSON.parse(line))
    expect(json[1]).toEqual({ change: 'removed', before: { key: 'order:0002', keyEncoding: 'utf8', value: '{"total":2}', valueEncoding: 'utf8' }, after: null })
    expect((await strata('snapshot', 'diff', dir, 'end-of-day', 'end-of-day')).stdout).toBe('no changes\n')
    expect((await strata('snapshot', 'list', dir)).stdout).toMatch(/^end-of-day\s+seq 4, /)
    expect(filesOf(dir)).toEqual(before)
  })

  it('exports a snapshot to a new database of the same engine, and restores one', async () => {
    const dir = await sampleDatabase(kind)
    await snapshotThenChange(dir, kind)
    const before = filesOf(dir)
    const copy = join(temporaryFolder(), 'copy')
    expect((await strata('snapshot', 'export', dir, 'end-of-day', copy)).status).toBe(0)
    expect(filesOf(dir)).toEqual(before)
    expect(JSON.parse((await strata('info', copy, '--json')).stdout)).toMatchObject({ engine: kind.engine, seq: 1, snapshots: [] })
    expect((await strata('get', copy, 'order:0001')).stdout).toBe('{"total":1}\n')
    expect(await strata('snapshot', 'export', dir, 'end-of-day', copy)).toMatchObject({ status: 12, stderr: expect.stringContaining('STRATA_DATABASE_EXISTS') })
    expect((await strata('get', dir, 'order:0001')).stdout).toBe('{"total":-1}\n')
    expect(await strata('snapshot', 'restore', dir, 'end-of-day')).toMatchObject({ status: 0, stdout: 'restored snapshot end-of-day\n' })
    expect((await strata('get', dir, 'order:0001')).stdout).toBe('{"total":1}\n')
    expect((await strata('check', dir)).status).toBe(0)
  })

  it('clones a snapshot into a writable database of the same engine', async () => {
    const dir = await sampleDatabase(kind)
    await snapshotThenChange(dir, kind)
    const clone = join(temporaryFolder(), 'clone')
    const made = await strata('snapshot', 'clone', dir, 'end-of-day', clone, '--json')
    expect(made.status).toBe(0)
    expect(JSON.parse(made.stdout)).toMatchObject({ name: 'end-of-day', path: clone, copiedFiles: expect.any(Number), bytesWritten: expect.any(Number) })
    expect(JSON.parse((await strata('info', clone, '--json')).stdout)).toMatchObject({ engine: kind.engine, snapshots: [] })
    expect((await strata('get', clone, 'order:0001')).stdout).toBe('{"total":1}\n')
    expect((await strata('get', dir, 'order:0001')).stdout).toBe('{"total":-1}\n')
    expect(await strata('snapshot', 'clone', dir, 'end-of-day', clone)).toMatchObject({ status: 12, stderr: expect.stringContaining('STRATA_DATABASE_EXISTS') })
    expect((await strata('check', clone)).status).toBe(0)
    // A clone cut short (its marker still there) is refused by every command, with status 15.
    writeFileSync(join(clone, 'CLONING'), '')
    expect(await strata('info', clone)).toMatchObject({ status: 15, stderr: expect.stringContaining('STRATA_CLONE_INCOMPLETE') })
  })
})

describe('strata snapshot', () => {
  it('exports into no folder that holds a database of either engine', async () => {
    const row = await sampleDatabase()
    const cow = await sampleDatabase(COW_DATABASES[0])
    await snapshotThenChange(row)
    await snapshotThenChange(cow, COW_DATABASES[0])
    const exports: [string, string][] = [
      [row, cow],
      [cow, row],
    ]
    for (const [from, into] of exports) {
      const before = filesOf(into)
      expect(await strata('snapshot', 'export', from, 'end-of-day', into)).toMatchObject({ status: 12, stderr: `strata: ${into} already holds a database (STRATA_DATABASE_EXISTS)\n` })
      expect(filesOf(into)).toEqual(before)
    }
  })

  it('refuses what is not a database, with the status the built command exits with', async () => {
    for (const bad of BAD_DATABASES) {
      const run = strataProcess('snapshot', 'list', bad.make())
      expect({ what: bad.what, status: run.status, code: run.stderr.includes(bad.code) }).toEqual({ what: bad.what, status: bad.status, code: true })
    }
  })
})

describe.each(COW_DATABASES)('strata snapshot on a $name database', (kind) => {
  it('creates snapshots in the store mode the named snapshots fixed', async () => {
    const dir = await sampleDatabase(kind)
    await snapshotThenChange(dir, kind)
    expect((await strata('snapshot', 'create', dir, 'later')).status).toBe(0)
    expect(JSON.parse((await strata('info', dir, '--json')).stdout)).toMatchObject({ storeMode: kind.store, snapshots: [{ name: 'end-of-day' }, { name: 'later' }] })
    expect((await strata('snapshot', 'diff', dir, 'end-of-day', 'later')).stdout.split('\n').filter(Boolean)).toHaveLength(3)
    expect((await strata('check', dir)).status).toBe(0)
  })
})
