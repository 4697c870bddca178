import { appendFileSync, cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { NodeFileSystem } from '@strata/storage'
import { keepsDataOnDisk, tempFolders } from '@strata/testkit'
import { describe, expect, it } from 'vitest'
import { RowEngine } from './row-engine.js'

const folder = tempFolders('strata-row-')
const key = (i: number) => Buffer.from(`key${String(i).padStart(6, '0')}`)

describe('RowEngine on disk', () => {
  it('keeps data across close and reopen in a real folder', async () => {
    await keepsDataOnDisk(folder(), (fs) => RowEngine.open({ fs }), (names) => {
      // META and the log's segments, nothing else (the policy rolls segments as the data grows).
      expect(names.filter((name) => !/^seg-\d{8}\.log$/.test(name))).toEqual(['META'])
    })
  })

  it('recovers to the last whole commit when the log ends in garbage', async () => {
    const dir = folder()
    let engine = await RowEngine.open({ fs: new NodeFileSystem(dir, { create: true }), checkpoint: { minLogBytes: 1 << 30 } })
    for (let i = 0; i < 100; i++) await engine.write([{ type: 'put', key: key(i), value: Buffer.from(`v${i}`) }])
    // A crash: the files as they are now, without the closing checkpoint, copied elsewhere.
    const image = folder()
    for (const name of readdirSync(dir)) if (name !== 'LOCK') cpSync(join(dir, name), join(image, name))
    await engine.close()
    const segment = readdirSync(image).find((name) => name.startsWith('seg-')) as string
    appendFileSync(join(image, segment), Buffer.from([0x10, 0x00, 0x00, 0x00, 0x55, 0x66, 0x77]))
    engine = await RowEngine.open({ fs: new NodeFileSystem(image) })
    expect(engine.seq).toBe(100)
    expect(engine.get(key(99))?.toString()).toBe('v99')
    await engine.write([{ type: 'put', key: key(100), value: Buffer.from('after') }])
    expect(engine.check()).toEqual([])
    await engine.close()
  })

  it('refuses to drop commits that follow a damaged record, naming the file and offset', async () => {
    const dir = folder()
    const engine = await RowEngine.open({ fs: new NodeFileSystem(dir, { create: true }), checkpoint: { minLogBytes: 1 << 30 } })
    for (let i = 0; i < 100; i++) await engine.write([{ type: 'put', key: key(i), value: Buffer.from(`v${i}`) }])
    const image = folder()
    for (const name of readdirSync(dir)) if (name !== 'LOCK') cpSync(join(dir, name), join(image, name))
    await engine.close()
    const segment = join(image, readdirSync(image).find((name) => name.startsWith('seg-')) as string)
    const bytes = readFileSync(segment)
    const at = Math.floor(bytes.length / 2)
    bytes[at] = (bytes[at] as number) ^ 0xff
    writeFileSync(segment, bytes)
    await expect(RowEngine.open({ fs: new NodeFileSystem(image) })).rejects.toMatchObject({
      code: 'LEVEL_CORRUPTION',
      message: expect.stringMatching(/seg-00000001\.log at offset \d+/),
    })
  })
})
