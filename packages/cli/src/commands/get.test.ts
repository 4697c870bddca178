import { afterEach, describe, expect, it } from 'vitest'
import { BAD_DATABASES, DATABASE_KINDS, expectRefusal, filesOf, removeTemporaryFolders, SAMPLE, sampleDatabase, snapshotThenChange, stateOf, strata } from '../test-support.js'

afterEach(removeTemporaryFolders)

describe.each(DATABASE_KINDS)('strata get on a $name database', (kind) => {
  it('prints a printable value as text, and writes nothing', async () => {
    const dir = await sampleDatabase(kind)
    const before = filesOf(dir)
    expect(await strata('get', dir, 'order:0042')).toEqual({ status: 0, stdout: '{"total":42}\n', stderr: '' })
    expect(filesOf(dir)).toEqual(before)
  })

  it('prints a binary value as 0x and its hex, and a value stored out of line whole', async () => {
    const dir = await sampleDatabase(kind)
    expect((await strata('get', dir, '0001ff', '--hex')).stdout).toBe('0900fe\n')
    expect((await strata('get', dir, 'large')).stdout).toBe(`${SAMPLE.largeValue.toString()}\n`)
    expect((await strata('get', dir, '0x41')).stdout).toBe('looks like hex\n')
  })

  it('prints JSON that says how each side is encoded', async () => {
    const dir = await sampleDatabase(kind)
    expect(JSON.parse((await strata('get', dir, 'order:0001', '--json')).stdout)).toEqual({ key: 'order:0001', keyEncoding: 'utf8', value: '{"total":1}', valueEncoding: 'utf8' })
    expect(JSON.parse((await strata('get', dir, '0001FF', '--hex', '--json')).stdout)).toEqual({ key: '0001ff', keyEncoding: 'hex', value: '0900fe', valueEncoding: 'hex' })
  })

  it('fails on an unknown key with STRATA_KEY_NOT_FOUND and status 9', async () => {
    const dir = await sampleDatabase(kind)
    expect(await strata('get', dir, 'order:9999')).toEqual({ status: 9, stdout: '', stderr: 'strata: no entry with key order:9999 (STRATA_KEY_NOT_FOUND)\n' })
    const json = await strata('get', dir, '00', '--hex', '--json')
    expect(json.status).toBe(9)
    expect(JSON.parse(json.stderr)).toEqual({ error: { code: 'STRATA_KEY_NOT_FOUND', message: 'no entry with key 00', exitCode: 9 } })
  })

  it('reads at a named snapshot with --snapshot', async () => {
    const dir = await sampleDatabase(kind)
    await snapshotThenChange(dir, kind)
    const before = filesOf(dir)
    expect((await strata('get', dir, 'order:0001')).stdout).toBe('{"total":-1}\n')
    expect((await strata('get', dir, 'order:0001', '--snapshot', 'end-of-day')).stdout).toBe('{"total":1}\n')
    expect((await strata('get', dir, 'order:0002', '--snapshot', 'end-of-day')).stdout).toBe('{"total":2}\n')
    expect((await strata('get', dir, 'order:9999', '--snapshot', 'end-of-day')).status).toBe(9)
    expect(filesOf(dir)).toEqual(before)
  })

  it('fails on an unknown snapshot with STRATA_SNAPSHOT_NOT_FOUND and status 10', async () => {
    const dir = await sampleDatabase(kind)
    expect(await strata('get', dir, 'order:0001', '--snapshot', 'end-of-day')).toEqual({
      status: 10,
      stdout: '',
      stderr: 'strata: no snapshot named "end-of-day" (STRATA_SNAPSHOT_NOT_FOUND)\n',
    })
  })

})

describe('strata get', () => {
  it.each(BAD_DATABASES)('refuses $what with $code and status $status, and writes nothing', async ({ make, code, status }) => {
    const path = make()
    const before = stateOf(path)
    expectRefusal(await strata('get', path, 'order:0001'), path, code, status)
    expect(stateOf(path)).toBe(before)
  })

  it('rejects bad input with STRATA_USAGE and status 2', async () => {
    const dir = await sampleDatabase()
    expect(await strata('get', dir, 'xyz', '--hex')).toEqual({
      status: 2,
      stdout: '',
      stderr: "strata: key 'xyz' is not hex (an even number of the digits 0-9 and a-f) (STRATA_USAGE)\nrun 'strata get --help' for usage\n",
    })
    expect((await strata('get', dir)).stderr).toContain("missing required argument 'key' (STRATA_USAGE)")
    expect((await strata('get', dir, 'k', '--snapshot')).stderr).toContain("option '--snapshot <name>' argument missing (STRATA_USAGE)")
  })
})
