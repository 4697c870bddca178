import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { StrataLevel } from './strata-level.js'

/**
 * A database on read-only media (a mounted backup, a read-only volume): every change to the file
 * system fails with EROFS, as the kernel answers there. The switch is this file's `node:fs`:
 * whatever would create, write, rename or remove a file throws while `readOnlyMedia.on` is set.
 */
const readOnlyMedia = vi.hoisted(() => ({ on: false, refused: [] as string[] }))

vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>()
  const erofs = (what: string, path: unknown) => {
    readOnlyMedia.refused.push(`${what} ${String(path)}`)
    return Object.assign(new Error(`EROFS: read-only file system, ${what} '${String(path)}'`), { code: 'EROFS', errno: -30, syscall: what })
  }
  const writes = real.constants.O_WRONLY | real.constants.O_RDWR | real.constants.O_CREAT | real.constants.O_TRUNC | real.constants.O_APPEND
  const opensForWriting = (flags: unknown) => (typeof flags === 'number' ? (flags & writes) !== 0 : typeof flags === 'string' && /[wa+]/.test(flags))
  const guarded = <F extends (...args: never[]) => unknown>(what: string, fn: F, refuse: (...args: Parameters<F>) => boolean = () => true) =>
    ((...args: Parameters<F>) => {
      if (readOnlyMedia.on && refuse(...args)) throw erofs(what, args[0])
      return fn(...args)
    }) as F
  const mocked = {
    ...real,
    openSync: guarded('open', real.openSync, (_path, flags) => opensForWriting(flags)),
    writeFileSync: guarded('open', real.writeFileSync),
    rmSync: guarded('unlink', real.rmSync),
    unlinkSync: guarded('unlink', real.unlinkSync),
    renameSync: guarded('rename', real.renameSync),
    linkSync: guarded('link', real.linkSync),
    mkdirSync: guarded('mkdir', real.mkdirSync),
    truncateSync: guarded('truncate', real.truncateSync),
    ftruncateSync: guarded('ftruncate', real.ftruncateSync),
  }
  return { ...mocked, default: mocked }
})

for (const engine of ['row', 'cow'] as const) {
  describe(`StrataLevel (${engine}) on read-only media`, () => {
    let root: string
    beforeEach(() => {
      root = mkdtempSync(join(tmpdir(), 'strata-ro-media-'))
      readOnlyMedia.on = false
      readOnlyMedia.refused.length = 0
    })
    afterEach(() => {
      readOnlyMedia.on = false
      rmSync(root, { recursive: true, force: true })
    })

    async function written(location: string): Promise<void> {
      const db = new StrataLevel(location, { engine })
      await db.batch(Array.from({ length: 300 }, (_, i) => ({ type: 'put' as const, key: `k${i}`, value: `v${i}` })))
      await db.close()
    }

    it('opens read-only and reads everything, with no LOCK file and nothing changed', async () => {
      const location = join(root, 'db')
      await written(location)
      const files = () => Object.fromEntries(readdirSync(location).map((f) => [f, readFileSync(join(location, f)).toString('base64')]))
      const before = files()
      readOnlyMedia.on = true
      const reader = new StrataLevel(location, { engine, engineOptions: { readOnly: true } })
      expect(await reader.get('k299')).toBe('v299')
      expect(await reader.keys().all()).toHaveLength(300)
      await expect(reader.put('k1', 'changed')).rejects.toMatchObject({ code: 'LEVEL_READONLY' })
      // A second read-only open in this process is refused, as on any folder.
      const second = new StrataLevel(location, { engine, engineOptions: { readOnly: true } })
      await expect(second.open()).rejects.toMatchObject({ code: 'LEVEL_DATABASE_NOT_OPEN', cause: { code: 'LEVEL_LOCKED' } })
      await reader.close()
      expect(files()).toEqual(before)
      // Only the lock's files (LOCK, written first as LOCK.new.*) were tried, and refused: nothing else was written to.
      expect(readOnlyMedia.refused.filter((r) => !r.startsWith(`open ${join(location, 'LOCK')}`))).toEqual([])
      // A writable open there fails, and says why.
      const writer = new StrataLevel(location, { engine })
      await expect(writer.open()).rejects.toMatchObject({ code: 'LEVEL_DATABASE_NOT_OPEN', cause: { code: 'STRATA_IO_ERROR' } })
    })

    it('opens read-only past a LOCK file its writer left before the media became read-only', async () => {
      const location = join(root, 'db')
      await written(location)
      // A pid that cannot be running: the writer is gone, and its LOCK file cannot be removed.
      writeFileSync(join(location, 'LOCK'), '2147483646\n')
      readOnlyMedia.on = true
      const reader = new StrataLevel(location, { engine, engineOptions: { readOnly: true } })
      expect(await reader.get('k0')).toBe('v0')
      await reader.close()
      expect(readFileSync(join(location, 'LOCK'), 'utf8')).toBe('2147483646\n')
    })
  })
}
