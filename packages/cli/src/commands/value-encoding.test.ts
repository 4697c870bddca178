import { msgpack, StrataLevel } from 'strata'
import { afterEach, describe, expect, it } from 'vitest'
import { removeTemporaryFolders, strata, temporaryFolder } from '../test-support.js'

afterEach(removeTemporaryFolders)

/**
 * A closed database as an application leaves it: values in MessagePack, in JSON, as text and as
 * raw bytes, with a named snapshot `before` taken ahead of a change to each encoded value.
 */
async function appDatabase(engine: 'row' | 'cow'): Promise<string> {
  const dir = temporaryFolder()
  const db = new StrataLevel<string, unknown>(dir, { engine })
  await db.put('m:1', { total: 1, tags: ['new'] }, { valueEncoding: 'msgpack' })
  await db.put('m:2', { at: new Date(0), blob: Buffer.from([1, 2]) }, { valueEncoding: 'msgpack' })
  await db.put('j:1', { total: 1 }, { valueEncoding: 'json' })
  await db.put('t:1', 'plain text', { valueEncoding: 'utf8' })
  await db.put('b:1', Buffer.from([0x00, 0x01, 0xff]), { valueEncoding: 'buffer' })
  await db.snapshots.create('before')
  await db.put('m:1', { total: 2, tags: [] }, { valueEncoding: 'msgpack' })
  await db.put('j:2', { total: 2 }, { valueEncoding: 'json' })
  await db.close()
  return dir
}

const json = async (...args: string[]) => JSON.parse((await strata(...args)).stdout)

describe.each(['row', 'cow'] as const)('--value-encoding on a %s database', (engine) => {
  it('get decodes a value as the application encoded it, for a person and as JSON', async () => {
    const dir = await appDatabase(engine)
    expect(await strata('get', dir, 'm:1', '--value-encoding', 'msgpack')).toEqual({ status: 0, stdout: '{"total":2,"tags":[]}\n', stderr: '' })
    expect(await json('get', dir, 'm:1', '--value-encoding', 'msgpack', '--json')).toEqual({ key: 'm:1', keyEncoding: 'utf8', value: { total: 2, tags: [] }, valueEncoding: 'msgpack' })
    expect(await json('get', dir, 'j:1', '--value-encoding', 'json', '--json')).toEqual({ key: 'j:1', keyEncoding: 'utf8', value: { total: 1 }, valueEncoding: 'json' })
    // What JSON cannot carry as it is: a Date as ISO text, binary data as its hex.
    expect((await json('get', dir, 'm:2', '--value-encoding', 'msgpack', '--json')).value).toEqual({ at: '1970-01-01T00:00:00.000Z', blob: '0102' })
    expect((await strata('get', dir, 't:1', '--value-encoding', 'utf8')).stdout).toBe('plain text\n')
    expect(await json('get', dir, 't:1', '--value-encoding', 'hex', '--json')).toEqual({ key: 't:1', keyEncoding: 'utf8', value: Buffer.from('plain text').toString('hex'), valueEncoding: 'hex' })
  })

  it('shows a value that does not decode in hex, saying so, rather than failing', async () => {
    const dir = await appDatabase(engine)
    expect((await strata('get', dir, 'b:1', '--value-encoding', 'json')).stdout).toBe('0x0001ff\n')
    expect(await json('get', dir, 'b:1', '--value-encoding', 'utf8', '--json')).toEqual({ key: 'b:1', keyEncoding: 'utf8', value: '0001ff', valueEncoding: 'hex' })
    expect(await json('get', dir, 't:1', '--value-encoding', 'json', '--json')).toMatchObject({ valueEncoding: 'hex' })
  })

  it('scan prints each entry in the shape get prints it', async () => {
    const dir = await appDatabase(engine)
    expect((await strata('scan', dir, '--prefix', 'j:', '--value-encoding', 'json')).stdout).toBe('j:1\t{"total":1}\nj:2\t{"total":2}\n')
    const entries = await json('scan', dir, '--prefix', 'j:', '--value-encoding', 'json', '--json')
    expect(entries).toEqual([await json('get', dir, 'j:1', '--value-encoding', 'json', '--json'), await json('get', dir, 'j:2', '--value-encoding', 'json', '--json')])
  })

  it('snapshot diff prints each side as the entry get prints in that state', async () => {
    const dir = await appDatabase(engine)
    const lines = (await strata('snapshot', 'diff', dir, 'before', 'head', '--value-encoding', 'msgpack', '--json')).stdout.trim().split('\n')
    const changes = lines.map((line) => JSON.parse(line))
    const get = (key: string, ...rest: string[]) => json('get', dir, key, '--value-encoding', 'msgpack', '--json', ...rest)
    expect(changes).toEqual([
      { change: 'added', before: null, after: await json('get', dir, 'j:2', '--value-encoding', 'msgpack', '--json') },
      { change: 'changed', before: await get('m:1', '--snapshot', 'before'), after: await get('m:1') },
    ])
    expect(changes[1].before.value).toEqual({ total: 1, tags: ['new'] })
    expect((await strata('snapshot', 'diff', dir, 'before', '--value-encoding', 'json')).stdout).toBe(`+ j:2 {"total":2}\n~ m:1 0x${msgpack.encode({ total: 2, tags: [] }).toString('hex')}\n`)
  })

  it('refuses an encoding it does not know with STRATA_USAGE', async () => {
    const dir = await appDatabase(engine)
    const run = await strata('get', dir, 'm:1', '--value-encoding', 'yaml')
    expect(run.status).toBe(2)
    expect(run.stderr).toContain('STRATA_USAGE')
  })
})
