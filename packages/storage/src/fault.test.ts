import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { FaultableFileSystem } from './fault.js'
import { FaultyFileSystem } from './faulty-file-system.js'
import { MemoryFileSystem } from './memory-file-system.js'
import { NodeFileSystem } from './node-file-system.js'

const folders: string[] = []
afterEach(() => {
  for (const dir of folders.splice(0)) rmSync(dir, { recursive: true, force: true })
})

/** The two ways to fail a disk: a memory folder's `faults`, and a real folder wrapped. */
const disks: [string, () => FaultableFileSystem][] = [
  ['MemoryFileSystem', () => new MemoryFileSystem()],
  [
    'FaultyFileSystem over NodeFileSystem',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'strata-faults-'))
      folders.push(dir)
      return new FaultyFileSystem(new NodeFileSystem(dir))
    },
  ],
]

for (const [name, disk] of disks) {
  describe(`injected faults: ${name}`, () => {
    it('fails the chosen write with STRATA_IO_ERROR naming the file and errno, with an errno-coded cause, and lets the others through', () => {
      const fs = disk()
      const file = fs.open('a', { create: true })
      fs.faults = (operation, fileName) => (operation === 'write' && fileName === 'a' ? 'ENOSPC' : undefined)
      expect(() => file.write(0, Buffer.from('lost'), 'log')).toThrow(expect.objectContaining({ code: 'STRATA_IO_ERROR', message: expect.stringMatching(/writing .*a failed \(ENOSPC\)/), cause: expect.objectContaining({ code: 'ENOSPC' }) }))
      expect(file.size()).toBe(0)
      fs.faults = undefined
      file.write(0, Buffer.from('kept'), 'log')
      expect(file.read(0, 4, 'log').toString()).toBe('kept')
      file.close()
    })

    it('lands the first bytes of a short write before it fails, as a disk filling up mid-write does', () => {
      const fs = disk()
      const file = fs.open('a', { create: true })
      fs.faults = () => ({ code: 'ENOSPC', written: 3 })
      expect(() => file.write(0, [Buffer.from('ab'), Buffer.from('cdef')], 'log')).toThrow(expect.objectContaining({ code: 'STRATA_IO_ERROR' }))
      fs.faults = undefined
      expect(file.read(0, 10, 'log').toString()).toBe('abc')
      file.close()
    })

    it('fails syncs, truncations and directory syncs with EIO when told to', async () => {
      const fs = disk()
      const file = fs.open('a', { create: true })
      file.write(0, Buffer.from('data'), 'log')
      const seen: string[] = []
      fs.faults = (operation, fileName) => {
        seen.push(`${operation} ${fileName}`)
        return 'EIO'
      }
      await expect(file.sync()).rejects.toMatchObject({ code: 'STRATA_IO_ERROR', cause: { code: 'EIO' } })
      expect(() => file.truncate(0)).toThrow(expect.objectContaining({ code: 'STRATA_IO_ERROR' }))
      await expect(fs.syncDirectory()).rejects.toMatchObject({ code: 'STRATA_IO_ERROR' })
      expect(seen).toEqual(['sync a', 'truncate a', 'sync .'])
      fs.faults = undefined
      expect(file.size()).toBe(4)
      file.close()
    })
  })
}

describe('FaultyFileSystem', () => {
  it('passes reads, listings and locks through to the real folder', () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-faults-'))
    folders.push(dir)
    const fs = new FaultyFileSystem(new NodeFileSystem(dir))
    const file = fs.open('b', { create: true })
    file.write(0, Buffer.from('on disk'), 'log')
    file.close()
    expect(readFileSync(join(dir, 'b'), 'utf8')).toBe('on disk')
    expect(fs.list()).toEqual(['b'])
    fs.lock()
    expect(() => new NodeFileSystem(dir).lock()).toThrow(expect.objectContaining({ code: 'LEVEL_LOCKED' }))
    fs.unlock()
  })
})
