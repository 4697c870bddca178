import { appendFileSync, cpSync, existsSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { CrashFileSystem, type MemoryFileSystem, NodeFileSystem } from '@strata/storage'
import { filesOf, openHandlesUnder, readAll, tempFolders } from '@strata/testkit'
import { describe, expect, it } from 'vitest'
import { CowEngine } from './cow-engine.js'
import type { StoreMode } from './preimage-store.js'

const folder = tempFolders('strata-cow-read-only-')
const key = (i: number) => Buffer.from(`key${String(i).padStart(6, '0')}`)
const puts = (from: number, count: number, value: (i: number) => string) =>
  Array.from({ length: count }, (_, i) => ({ type: 'put' as const, key: key(from + i), value: Buffer.from(value(from + i)) }))
/** Never checkpoint on its own: commits stay in the WAL until close, or an explicit checkpoint. */
const NO_POLICY_CHECKPOINTS = { minLogBytes: 1 << 30, maxLogBytes: 1 << 30 }

/** Every file of a memory file system and its bytes. */
function memoryFilesOf(fs: MemoryFileSystem): Map<string, Buffer> {
  return new Map(fs.list().map((name) => [name, (fs.files.get(name) as { snapshot(): Buffer }).snapshot()]))
}

const isStoreFile = (name: string) => /^(snap-\d+\.pre|preimages\.db)$/.test(name)

/** What an engine shows: the head's entries and each named snapshot's, as text. */
function stateOf(engine: CowEngine): string {
  const parts = [`head@${engine.seq}: ${readAll(engine).map(([k, v]) => `${k}=${v}`)}`]
  for (const info of engine.listSnapshots()) {
    const at = engine.openSnapshot(info.name)
    parts.push(`${info.name}@${info.seq}: ${readAll(engine, at).map(([k, v]) => `${k}=${v}`)}`)
    at.release()
  }
  return parts.join('\n')
}

for (const store of ['shared', 'per-snapshot'] as const satisfies readonly StoreMode[]) {
  /**
   * A database as a crash leaves it: 1,000 entries, the named snapshot `first` of them, the first
   * 500 overwritten and checkpointed (so `first` holds copies), then 100 commits in the WAL only,
   * and a torn record at its end.
   */
  async function crashedDatabase(): Promise<string> {
    const dir = folder()
    const engine = await CowEngine.open({ fs: new NodeFileSystem(dir, { create: true }), store, checkpoint: NO_POLICY_CHECKPOINTS })
    await engine.write(puts(0, 1000, (i) => `v${i}`))
    await engine.createSnapshot('first', Buffer.from('{"by":"test"}'))
    await engine.write(puts(0, 500, (i) => `w${i}`))
    await engine.checkpoint()
    for (let i = 0; i < 100; i++) await engine.write(puts(1000 + i, 1, (j) => `x${j}`))
    const image = folder()
    for (const name of readdirSync(dir)) if (name !== 'LOCK') cpSync(join(dir, name), join(image, name))
    await engine.close()
    appendFileSync(join(image, 'wal.log'), Buffer.from([0x10, 0x00, 0x00, 0x00, 0x55, 0x66, 0x77]))
    return image
  }

  const readOnly = (dir: string) => CowEngine.open({ fs: new NodeFileSystem(dir), store, readOnly: true })

  describe(`CowEngine opened read-only (${store} store)`, () => {
    it('refuses a folder without a database and creates nothing in it', async () => {
      const dir = folder()
      await expect(readOnly(dir)).rejects.toMatchObject({ code: 'STRATA_DATABASE_NOT_FOUND' })
      expect(readdirSync(dir)).toEqual([])
      // A creation cut short before its meta was written is no database either.
      writeFileSync(join(dir, 'pages.db'), Buffer.alloc(8192))
      await expect(readOnly(dir)).rejects.toMatchObject({ code: 'STRATA_DATABASE_NOT_FOUND' })
      expect(filesOf(dir)).toEqual(new Map([['pages.db', Buffer.alloc(8192)]]))
    })

    it('recovers the commits in the WAL in memory and leaves every file byte for byte as it was', async () => {
      const dir = await crashedDatabase()
      const before = filesOf(dir)
      const engine = await readOnly(dir)
      expect(engine.seq).toBe(102)
      expect(engine.get(key(0))?.toString()).toBe('w0')
      expect(engine.get(key(1099))?.toString()).toBe('x1099')
      expect(readAll(engine)).toHaveLength(1100)
      const snapshot = engine.snapshot()
      expect(readAll(engine, snapshot)).toHaveLength(1100)
      snapshot.release()
      expect(engine.check()).toEqual([])
      expect(engine.stats()).toMatchObject({ engine: 'cow', storeMode: store, seq: 102, io: { totalWritten: 0, syncs: 0 } })
      await engine.close()
      expect(filesOf(dir)).toEqual(before)
      expect(openHandlesUnder(dir)).toEqual([])

      // A writable open, by contrast, cuts the torn tail and checkpoints on close.
      const writable = await CowEngine.open({ fs: new NodeFileSystem(dir), store })
      await writable.close()
      expect(filesOf(dir)).not.toEqual(before)
    })

    it('reads, lists and diffs named snapshots', async () => {
      const dir = await crashedDatabase()
      const before = filesOf(dir)
      const engine = await readOnly(dir)
      expect(engine.listSnapshots()).toEqual([{ name: 'first', seq: 1, createdAt: expect.any(Number), meta: Buffer.from('{"by":"test"}'), exclusiveBytes: expect.any(Number) }])
      expect(engine.listSnapshots()[0]?.exclusiveBytes).toBeGreaterThan(0)
      const first = engine.openSnapshot('first')
      expect(engine.get(key(0), first)?.toString()).toBe('v0')
      expect(readAll(engine, first).map(([k, v]) => `${k}=${v}`)).toEqual(Array.from({ length: 1000 }, (_, i) => `${key(i)}=v${i}`))
      const changes = [...engine.diff(first, undefined)]
      expect(changes).toHaveLength(600)
      expect(changes[0]).toEqual({ key: key(0), before: Buffer.from('v0'), after: Buffer.from('w0') })
      expect(changes[599]).toEqual({ key: key(1099), before: undefined, after: Buffer.from('x1099') })
      first.release()
      await engine.close()
      expect(filesOf(dir)).toEqual(before)
    })

    it('rejects writes, checkpoints, compaction and named snapshot changes with LEVEL_READONLY', async () => {
      const dir = await crashedDatabase()
      const before = filesOf(dir)
      const engine = await readOnly(dir)
      await expect(engine.write(puts(0, 1, () => 'y'))).rejects.toMatchObject({ code: 'LEVEL_READONLY' })
      await expect(engine.write([])).rejects.toMatchObject({ code: 'LEVEL_READONLY' })
      await expect(engine.checkpoint()).rejects.toMatchObject({ code: 'LEVEL_READONLY' })
      await expect(engine.compact()).rejects.toMatchObject({ code: 'LEVEL_READONLY' })
      await expect(engine.createSnapshot('second')).rejects.toMatchObject({ code: 'LEVEL_READONLY' })
      await expect(engine.deleteSnapshot('first')).rejects.toMatchObject({ code: 'LEVEL_READONLY' })
      await expect(engine.restoreSnapshot('first')).rejects.toMatchObject({ code: 'LEVEL_READONLY' })
      expect(engine.get(key(1))?.toString()).toBe('w1')
      expect(engine.listSnapshots().map((s) => s.name)).toEqual(['first'])
      await engine.close()
      expect(filesOf(dir)).toEqual(before)
    })

    it('still takes the lock', async () => {
      const dir = await crashedDatabase()
      const engine = await readOnly(dir)
      await expect(readOnly(dir)).rejects.toMatchObject({ code: 'LEVEL_LOCKED' })
      await expect(CowEngine.open({ fs: new NodeFileSystem(dir), store })).rejects.toMatchObject({ code: 'LEVEL_LOCKED' })
      await engine.close()
      expect(existsSync(join(dir, 'LOCK'))).toBe(false)
    })

    it('leaves a store file no named snapshot uses, which a writable open removes', async () => {
      const dir = await crashedDatabase()
      writeFileSync(join(dir, 'snap-99.pre'), Buffer.alloc(4096, 7))
      const before = filesOf(dir)
      const reader = await readOnly(dir)
      expect(reader.check()).toEqual([])
      await reader.close()
      expect(filesOf(dir)).toEqual(before)

      const writer = await CowEngine.open({ fs: new NodeFileSystem(dir), store })
      await writer.close()
      expect(existsSync(join(dir, 'snap-99.pre'))).toBe(false)
    })

    it('redoes a checkpoint a crash cut short, and remakes its lost copies, in memory only', async () => {
      // A checkpoint that copies pages for a named snapshot, then commits after it.
      const fs = new CrashFileSystem()
      const engine = await CowEngine.open({ fs, store, pageSize: 512, checkpoint: NO_POLICY_CHECKPOINTS })
      await engine.write(puts(0, 300, (i) => `v${i}`))
      await engine.createSnapshot('first')
      await engine.write(puts(0, 150, (i) => `w${i}`))
      const from = fs.point
      await engine.checkpoint()
      await engine.write(puts(300, 10, (i) => `x${i}`))
      const to = fs.point
      await engine.close()

      // Every crash state from the checkpoint's first write to the last commit: a read-only open
      // shows what a writable open recovers, and changes no file.
      let states = 0
      let redone = 0
      let storesRepaired = 0
      for (const state of fs.crashStates(from)) {
        if (state.point > to) break
        states++
        const before = memoryFilesOf(state.fs)
        const reader = await CowEngine.open({ fs: state.fs, store, readOnly: true })
        const seen = stateOf(reader)
        expect(reader.check()).toEqual([])
        await reader.close()
        expect(memoryFilesOf(state.fs)).toEqual(before)

        const copy = state.fs.clone()
        const writer = await CowEngine.open({ fs: copy, store })
        const recovered = memoryFilesOf(copy)
        // A file the crash lost (its creation never reached the directory) and recovery made again counts as changed.
        const changed = (name: string) => {
          const was = before.get(name)
          return was === undefined || !recovered.get(name)?.equals(was)
        }
        if (changed('pages.db')) redone++
        if ([...recovered.keys()].some((name) => isStoreFile(name) && changed(name))) storesRepaired++
        expect(seen).toBe(stateOf(writer))
        await writer.close()
      }
      expect(states).toBeGreaterThan(10)
      expect(redone).toBeGreaterThan(0)
      expect(storesRepaired).toBeGreaterThan(0)
    })
  })
}
