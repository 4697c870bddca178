import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { BAD_DATABASES, filesOf, removeTemporaryFolders, sampleDatabase, snapshotThenChange, strata, strataProcess, temporaryFolder } from '../test-support.js'

afterEach(removeTemporaryFolders)

describe('strata snapshot', () => {
  it('creates, lists and deletes named snapshots that survive between runs', async () => {
    const dir = await sampleDatabase()
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

  it('diffs a snapshot against the head, and lists nothing for a snapshot against itself, without writing', async () => {
    const dir = await sampleDatabase()
    await snapshotThenChange(dir)
    const before = filesOf(dir)
    const diff = await strata('snapshot', 'diff', dir, 'end-of-day')
    expect(diff.status).toBe(0)
    expect(diff.stdout.split('\n').filter(Boolean)).toEqual(['~ order:0001 {"total":-1}', '- order:0002 {"total":2}', '+ order:9999 {"total":9999}'])
    const json = (await strata('snapshot', 'diff', dir, 'end-of-day', 'head', '--json')).stdout.trim().split('\n').map((line) => JSON.parse(line))
    expect(json[1]).toEqual({ key: { encoding: 'utf8', text: 'order:0002' }, before: { encoding: 'utf8', text: '{"total":2}' }, after: null })
    expect((await strata('snapshot', 'diff', dir, 'end-of-day', 'end-of-day')).stdout).toBe('no changes\n')
    expect(filesOf(dir)).toEqual(before)
  })

  it('exports a snapshot to a new database, and restores one', async () => {
    const dir = await sampleDatabase()
    await snapshotThenChange(dir)
    const copy = join(temporaryFolder(), 'copy')
    expect((await strata('snapshot', 'export', dir, 'end-of-day', copy)).status).toBe(0)
    expect((await strata('get', copy, 'order:0001')).stdout).toBe('{"total":1}\n')
    expect(await strata('snapshot', 'export', dir, 'end-of-day', copy)).toMatchObject({ status: 12, stderr: expect.stringContaining('STRATA_DATABASE_EXISTS') })
    expect((await strata('get', dir, 'order:0001')).stdout).toBe('{"total":-1}\n')
    expect(await strata('snapshot', 'restore', dir, 'end-of-day')).toMatchObject({ status: 0, stdout: 'restored snapshot end-of-day\n' })
    expect((await strata('get', dir, 'order:0001')).stdout).toBe('{"total":1}\n')
    expect((await strata('check', dir)).status).toBe(0)
  })

  it('refuses what is not a database, with the status the built command exits with', async () => {
    for (const bad of BAD_DATABASES) {
      const run = strataProcess('snapshot', 'list', bad.make())
      expect({ what: bad.what, status: run.status, code: run.stderr.includes(bad.code) }).toEqual({ what: bad.what, status: bad.status, code: true })
    }
  })
})
