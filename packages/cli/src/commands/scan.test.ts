import { afterEach, describe, expect, it } from 'vitest'
import { BAD_DATABASES, DATABASE_KINDS, expectRefusal, filesOf, orderKey, removeTemporaryFolders, SAMPLE, sampleDatabase, snapshotThenChange, stateOf, strata } from '../test-support.js'

afterEach(removeTemporaryFolders)

const order = (i: number) => `${orderKey(i)}\t{"total":${i}}`
const lines = (stdout: string) => stdout.split('\n').slice(0, -1)

describe.each(DATABASE_KINDS)('strata scan on a $name database', (kind) => {
  it('prints every entry in key order, key and value on a line, and writes nothing', async () => {
    const dir = await sampleDatabase(kind)
    const before = filesOf(dir)
    const run = await strata('scan', dir)
    expect(run).toMatchObject({ status: 0, stderr: '' })
    expect(lines(run.stdout)).toEqual([
      '0x0001ff\t0x0900fe', // not UTF-8: hex
      '0x30783431\tlooks like hex', // text that begins with 0x: hex, so it cannot be mistaken for hex
      `large\t${SAMPLE.largeValue.toString()}`,
      ...Array.from({ length: SAMPLE.orders }, (_, i) => order(i)),
    ])
    expect(filesOf(dir)).toEqual(before)
  })

  it('takes a prefix, a limit and the reverse order', async () => {
    const dir = await sampleDatabase(kind)
    expect(lines((await strata('scan', dir, '--prefix', 'order:01', '--limit', '3')).stdout)).toEqual([order(100), order(101), order(102)])
    expect(lines((await strata('scan', dir, '--prefix', 'order:', '--reverse', '--limit', '2')).stdout)).toEqual([order(299), order(298)])
    expect(lines((await strata('scan', dir, '--prefix', '00', '--hex')).stdout)).toEqual(['0001ff\t0900fe'])
    expect((await strata('scan', dir, '--limit', '0')).stdout).toBe('')
  })

  it('takes bounds, inclusive and exclusive', async () => {
    const dir = await sampleDatabase(kind)
    expect(lines((await strata('scan', dir, '--gte', 'order:0010', '--lt', 'order:0013')).stdout)).toEqual([order(10), order(11), order(12)])
    expect(lines((await strata('scan', dir, '--gt', 'order:0010', '--lte', 'order:0013')).stdout)).toEqual([order(11), order(12), order(13)])
    expect(lines((await strata('scan', dir, '--lt', '31', '--hex')).stdout)).toEqual(['0001ff\t0900fe', '30783431\t6c6f6f6b73206c696b6520686578'])
  })

  it('prints a JSON array that says how each side is encoded', async () => {
    const dir = await sampleDatabase(kind)
    const run = await strata('scan', dir, '--lt', 'm', '--json')
    expect(JSON.parse(run.stdout)).toEqual([
      { key: '0001ff', keyEncoding: 'hex', value: '0900fe', valueEncoding: 'hex' },
      { key: '0x41', keyEncoding: 'utf8', value: 'looks like hex', valueEncoding: 'utf8' },
      { key: 'large', keyEncoding: 'utf8', value: SAMPLE.largeValue.toString(), valueEncoding: 'utf8' },
    ])
    expect(JSON.parse((await strata('scan', dir, '--prefix', 'none', '--json')).stdout)).toEqual([])
  })

  it('reads at a named snapshot with --snapshot', async () => {
    const dir = await sampleDatabase(kind)
    await snapshotThenChange(dir, kind)
    const before = filesOf(dir)
    expect(lines((await strata('scan', dir, '--gte', 'order:0000', '--lt', 'order:0004')).stdout)).toEqual([order(0), `${orderKey(1)}\t{"total":-1}`, order(3)])
    expect(lines((await strata('scan', dir, '--gte', 'order:0000', '--lt', 'order:0004', '--snapshot', 'end-of-day')).stdout)).toEqual([order(0), order(1), order(2), order(3)])
    expect(lines((await strata('scan', dir, '--prefix', 'order:9', '--snapshot', 'end-of-day')).stdout)).toEqual([])
    expect(filesOf(dir)).toEqual(before)
  })

  it('fails on an unknown snapshot with STRATA_SNAPSHOT_NOT_FOUND and status 10', async () => {
    const dir = await sampleDatabase(kind)
    const run = await strata('scan', dir, '--snapshot', 'end-of-day', '--json')
    expect(run).toMatchObject({ status: 10, stdout: '' })
    expect(JSON.parse(run.stderr)).toEqual({ error: { code: 'STRATA_SNAPSHOT_NOT_FOUND', message: 'no snapshot named "end-of-day"', exitCode: 10 } })
  })

})

describe('strata scan', () => {
  it.each(BAD_DATABASES)('refuses $what with $code and status $status, and writes nothing', async ({ make, code, status }) => {
    const path = make()
    const before = stateOf(path)
    expectRefusal(await strata('scan', path), path, code, status)
    expect(stateOf(path)).toBe(before)
  })

  it.each([
    [['--limit', '-1'], "option '--limit <n>' argument '-1' is invalid. must be a non-negative integer"],
    [['--limit', 'ten'], "option '--limit <n>' argument 'ten' is invalid. must be a non-negative integer"],
    [['--prefix', 'a', '--gte', 'b'], "option '--gte <key>' cannot be used with option '--prefix <p>'"],
    [['--gt', 'a', '--gte', 'b'], "option '--gt <key>' cannot be used with option '--gte <key>'"],
    [['--prefix', 'g', '--hex'], "--prefix 'g' is not hex (an even number of the digits 0-9 and a-f)"],
    [['--from', 'a'], "unknown option '--from'"],
  ])('rejects %j with STRATA_USAGE and status 2', async (options, message) => {
    const dir = await sampleDatabase()
    expect(await strata('scan', dir, ...options)).toEqual({ status: 2, stdout: '', stderr: `strata: ${message} (STRATA_USAGE)\nrun 'strata scan --help' for usage\n` })
  })
})
