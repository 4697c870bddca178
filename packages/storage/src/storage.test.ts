import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { CrashFileSystem, SECTOR_SIZE } from './crash-file-system.js'
import { FaultyFileSystem } from './faulty-file-system.js'
import { MemoryFileSystem } from './memory-file-system.js'
import { NodeFileSystem } from './node-file-system.js'
import { OverlayFileSystem } from './overlay-file-system.js'

const folders: string[] = []
function tempFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'strata-storage-'))
  folders.push(dir)
  return dir
}
afterEach(() => {
  for (const dir of folders.splice(0)) rmSync(dir, { recursive: true, force: true })
})

describe('crash-simulating file system', () => {
  it('keeps synced writes and drops unsynced ones', async () => {
    const fs = new CrashFileSystem()
    const file = fs.open('a', { create: true })
    await fs.syncDirectory()
    file.write(0, Buffer.from('durable'), 'log')
    await file.sync()
    file.write(7, Buffer.from('-lost'), 'log')
    const states = [...fs.crashStates()]
    const last = states.filter((s) => s.point === fs.point)
    const dropped = last.find((s) => s.mode === 'drop')
    expect(dropped?.fs.files.get('a')?.snapshot().toString()).toBe('durable')
    // A one-sector write cannot tear: every state keeps all of it or none.
    expect(new Set(last.map((s) => s.fs.files.get('a')?.snapshot().toString()))).toEqual(new Set(['durable', 'durable-lost']))
  })

  it('tears the last unsynced write at a sector boundary, keeping earlier ones', async () => {
    const fs = new CrashFileSystem()
    const file = fs.open('a', { create: true })
    await fs.syncDirectory()
    file.write(0, Buffer.alloc(100, 1), 'log')
    file.write(100, Buffer.alloc(4 * SECTOR_SIZE, 2), 'log')
    const torn = [...fs.crashStates()].find((s) => s.point === fs.point && s.mode === 'torn')
    const bytes = torn?.fs.files.get('a')?.snapshot() as Buffer
    expect(bytes.length % SECTOR_SIZE).toBe(0)
    expect(bytes.length).toBeGreaterThan(100)
    expect(bytes.length).toBeLessThan(100 + 4 * SECTOR_SIZE)
    expect(bytes.subarray(0, 100).every((b) => b === 1)).toBe(true)
  })

  it('keeps a hard link\'s bytes, and loses its name until a directory sync', async () => {
    const source = new MemoryFileSystem()
    const sealed = source.open('seg', { create: true })
    sealed.write(0, Buffer.from('sealed bytes'), 'log')
    sealed.close()
    const fs = new CrashFileSystem()
    source.share?.('seg', fs, { link: true })
    const beforeSync = fs.point
    await fs.syncDirectory()
    const states = [...fs.crashStates()]
    // Before the directory sync: the name may be lost, never the bytes of a name that is kept.
    const early = states.filter((s) => s.point === beforeSync)
    expect(early.some((s) => !s.fs.exists('seg'))).toBe(true)
    for (const s of early) if (s.fs.exists('seg')) expect(s.fs.files.get('seg')?.snapshot().toString()).toBe('sealed bytes')
    // After it, every state has the file whole: the link wrote nothing that could be lost.
    for (const s of states.filter((x) => x.point === fs.point)) expect(s.fs.files.get('seg')?.snapshot().toString()).toBe('sealed bytes')
  })

  it('gives one state per event boundary, from any starting point', async () => {
    const fs = new CrashFileSystem()
    const file = fs.open('a', { create: true })
    await fs.syncDirectory()
    for (let i = 0; i < 5; i++) {
      file.write(i * 10, Buffer.alloc(10, i), 'log')
      await file.sync()
    }
    const drops = [...fs.crashStates()].filter((s) => s.mode === 'drop')
    expect(drops.map((s) => s.point)).toEqual(Array.from({ length: fs.point + 1 }, (_, i) => i))
    expect(drops.at(-1)?.fs.files.get('a')?.length).toBe(50)
  })

  it('makes a write durable only once its sync completes, not when it starts', async () => {
    const fs = new CrashFileSystem()
    const file = fs.open('a', { create: true })
    await fs.syncDirectory()
    file.write(0, Buffer.from('data'), 'log')
    const started = fs.point
    const sync = file.sync()
    // The sync has begun; other work goes on before it completes.
    const whileInFlight = fs.point
    await sync
    const states = [...fs.crashStates()]
    const at = (point: number) => states.find((s) => s.point === point && s.mode === 'drop')
    expect(whileInFlight).toBe(started + 1)
    expect(at(whileInFlight)?.features.syncsInFlight).toBe(1)
    expect(at(whileInFlight)?.fs.files.get('a')?.length).toBe(0)
    expect(at(fs.point)?.fs.files.get('a')?.snapshot().toString()).toBe('data')
  })

  it('lets a short sync begun later complete before a long one begun earlier', async () => {
    const fs = new CrashFileSystem()
    const big = fs.open('big', { create: true })
    const small = fs.open('small', { create: true })
    await fs.syncDirectory()
    big.write(0, Buffer.alloc(256 * 1024, 1), 'log')
    small.write(0, Buffer.from('x'), 'log')
    const order: string[] = []
    await Promise.all([big.sync().then(() => order.push('big')), small.sync().then(() => order.push('small'))])
    expect(order).toEqual(['small', 'big'])
  })

  it('loses a creation or a removal that no directory sync covered', async () => {
    const fs = new CrashFileSystem()
    const kept = fs.open('kept', { create: true })
    kept.write(0, Buffer.from('old'), 'log')
    await kept.sync()
    await fs.syncDirectory()
    const fresh = fs.open('fresh', { create: true })
    fresh.write(0, Buffer.from('new'), 'log')
    await fresh.sync()
    fs.remove('kept')
    const last = [...fs.crashStates()].filter((s) => s.point === fs.point)
    const drop = last.find((s) => s.mode === 'drop')
    // The file's own sync does not make its name durable, and the removal is not durable either.
    expect(drop?.fs.list()).toEqual(['kept'])
    expect(drop?.fs.files.get('kept')?.snapshot().toString()).toBe('old')
    expect(drop?.features.lostEntries).toBe(2)
    await fs.syncDirectory()
    const synced = [...fs.crashStates(fs.point)].find((s) => s.mode === 'drop')
    expect(synced?.fs.list()).toEqual(['fresh'])
    expect(synced?.fs.files.get('fresh')?.snapshot().toString()).toBe('new')
  })

  it('lets later unsynced writes reach the disk while an earlier one is lost', async () => {
    const fs = new CrashFileSystem()
    const a = fs.open('a', { create: true })
    const b = fs.open('b', { create: true })
    await fs.syncDirectory()
    a.write(0, Buffer.from('first'), 'log')
    b.write(0, Buffer.from('second'), 'log')
    const hole = [...fs.crashStates(fs.point)].find((s) => s.mode === 'hole')
    expect(hole?.fs.files.get('a')?.length).toBe(0)
    expect(hole?.fs.files.get('b')?.snapshot().toString()).toBe('second')
    expect(hole?.features.reordered).toBe(true)
  })
})

describe('I/O accounting', () => {
  it('counts bytes by purpose and write amplification against user bytes', async () => {
    const fs = new MemoryFileSystem()
    const file = fs.open('a', { create: true })
    file.write(0, Buffer.alloc(300), 'log')
    file.write(300, Buffer.alloc(100), 'page')
    await file.sync()
    file.read(0, 50, 'page')
    fs.io.countUser(200)
    const report = fs.io.report()
    expect(report.bytesWritten.log).toBe(300)
    expect(report.bytesWritten.page).toBe(100)
    expect(report.totalRead).toBe(50)
    expect(report.syncs).toBe(1)
    expect(report.writeAmplification).toBe(2)
  })
})

describe('file system on disk', () => {
  it('writes, reads back, truncates and lists files', async () => {
    const fs = new NodeFileSystem(tempFolder())
    const file = fs.open('seg', { create: true })
    file.write(0, Buffer.from('hello world'), 'log')
    await file.sync()
    expect(file.read(6, 100, 'log').toString()).toBe('world')
    file.truncate(5)
    expect(file.size()).toBe(5)
    file.close()
    expect(fs.list()).toEqual(['seg'])
    fs.remove('seg')
    expect(fs.exists('seg')).toBe(false)
    expect(() => fs.open('missing')).toThrow(expect.objectContaining({ code: 'ENOENT' }))
  })

  it('lets one open hold the lock at a time, and takes over a lock left by a dead process', () => {
    const dir = tempFolder()
    const first = new NodeFileSystem(dir)
    first.lock()
    expect(() => new NodeFileSystem(dir).lock()).toThrow(expect.objectContaining({ code: 'LEVEL_LOCKED' }))
    // The same folder through a symlink is the same database.
    const link = join(tempFolder(), 'link')
    symlinkSync(dir, link)
    expect(() => new NodeFileSystem(link).lock()).toThrow(expect.objectContaining({ code: 'LEVEL_LOCKED' }))
    first.unlock()
    // A pid that cannot be running: the lock is stale.
    writeFileSync(join(dir, 'LOCK'), '2147483646\n')
    const second = new NodeFileSystem(dir)
    second.lock()
    second.unlock()
  })

  it('opened read-only, opens files for reading only and creates or removes nothing', () => {
    const dir = tempFolder()
    const writer = new NodeFileSystem(dir)
    const seg = writer.open('seg', { create: true })
    seg.write(0, Buffer.from('hello'), 'log')
    seg.close()
    const fs = new NodeFileSystem(dir, { readOnly: true })
    fs.lock()
    const file = fs.open('seg', { create: true })
    expect(file.read(0, 5, 'log').toString()).toBe('hello')
    // The kernel's record of the open file: its access mode is O_RDONLY (0).
    const fd = readdirSync('/proc/self/fd').find((n) => {
      try {
        return readlinkSync(`/proc/self/fd/${n}`) === join(dir, 'seg')
      } catch {
        return false
      }
    })
    expect(fd).toBeDefined()
    const flags = Number.parseInt(/flags:\s*(\d+)/.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1] ?? '', 8)
    expect(flags & 3).toBe(0)
    expect(() => file.write(5, Buffer.from('!'), 'log')).toThrow()
    file.close()
    expect(() => fs.open('new', { create: true })).toThrow(expect.objectContaining({ code: 'LEVEL_READONLY' }))
    expect(() => fs.remove('seg')).toThrow(expect.objectContaining({ code: 'LEVEL_READONLY' }))
    expect(fs.list()).toEqual(['LOCK', 'seg'])
    // On a writable file system a read-only open still takes the LOCK file, so writers wait.
    expect(() => new NodeFileSystem(dir).lock()).toThrow(expect.objectContaining({ code: 'LEVEL_LOCKED' }))
    fs.unlock()
    expect(existsSync(join(dir, 'LOCK'))).toBe(false)
  })
})

/** A folder of one kind, and how to delete it whole as `rm -r` would: every name in it goes. */
interface Folder {
  fs: MemoryFileSystem | NodeFileSystem
  /** The same folder opened read-only. */
  readOnly(): MemoryFileSystem | NodeFileSystem
  deleteWhole(): void
}

const FOLDER_KINDS: { kind: string; folder: () => Folder }[] = [
  {
    kind: 'in memory',
    folder: () => {
      const fs = new MemoryFileSystem()
      return { fs, readOnly: () => fs, deleteWhole: () => fs.files.clear() }
    },
  },
  {
    kind: 'on disk',
    folder: () => {
      const dir = tempFolder()
      return { fs: new NodeFileSystem(dir), readOnly: () => new NodeFileSystem(dir, { readOnly: true }), deleteWhole: () => rmSync(dir, { recursive: true }) }
    },
  },
]

describe.each(FOLDER_KINDS)('link counts $kind', ({ folder }) => {
  it('counts a name for each folder a file is linked into, and one fewer for each removed', () => {
    const [a, b, c] = [folder(), folder(), folder()]
    const file = a.fs.open('seg', { create: true })
    file.write(0, Buffer.alloc(100, 1), 'log')
    expect(file.links()).toBe(1)
    expect(a.fs.share('seg', b.fs, { link: true }).how).toBe('linked')
    a.fs.share('seg', c.fs, { link: true })
    const inB = b.fs.open('seg')
    const inC = c.fs.open('seg')
    expect([file.links(), inB.links(), inC.links()]).toEqual([3, 3, 3])
    file.close()
    a.fs.remove('seg')
    expect([inB.links(), inC.links()]).toEqual([2, 2])
    inB.close()
    b.deleteWhole()
    expect(inC.links()).toBe(1)
    expect(inC.read(0, 100, 'log')).toEqual(Buffer.alloc(100, 1))
    inC.close()
  })

  it('gives a copy one name of its own, and leaves the original’s alone', () => {
    const [a, b, c] = [folder(), folder(), folder()]
    a.fs.open('seg', { create: true }).write(0, Buffer.alloc(100, 2), 'log')
    a.fs.share('seg', b.fs, { link: true })
    expect(a.fs.share('seg', c.fs, { link: false }).how).toBe('copied')
    expect([a.fs.open('seg').links(), b.fs.open('seg').links(), c.fs.open('seg').links()]).toEqual([2, 2, 1])
  })

  it('answers the same read-only, through an overlay and through a faulty file system, and an overlay’s removal hides one name from its handles', () => {
    const [a, b] = [folder(), folder()]
    a.fs.open('seg', { create: true }).write(0, Buffer.alloc(10, 3), 'log')
    a.fs.share('seg', b.fs, { link: true })
    const readOnly = b.readOnly()
    expect(readOnly.open('seg').links()).toBe(2)
    expect(new FaultyFileSystem(readOnly).open('seg').links()).toBe(2)
    const overlay = new OverlayFileSystem(readOnly)
    const seen = overlay.open('seg')
    expect(seen.links()).toBe(2)
    overlay.open('new', { create: true }).write(0, Buffer.from('x'), 'log')
    expect(overlay.open('new').links()).toBe(1)
    overlay.remove('seg')
    expect(seen.links()).toBe(1)
    expect(a.fs.open('seg').links()).toBe(2)
    seen.close()
  })
})

describe('link counts of memory folders made whole', () => {
  it('gives every file of a copied folder, and of a crash image, one name', async () => {
    const [a, b] = [new MemoryFileSystem(), new MemoryFileSystem()]
    a.open('seg', { create: true }).write(0, Buffer.alloc(10, 4), 'log')
    a.share('seg', b, { link: true })
    expect(a.clone().open('seg').links()).toBe(1)
    expect(a.open('seg').links()).toBe(2)
    const crash = new CrashFileSystem()
    crash.open('seg', { create: true }).write(0, Buffer.alloc(10, 5), 'log')
    await crash.syncDirectory()
    crash.share('seg', new MemoryFileSystem(), { link: true })
    expect(crash.open('seg').links()).toBe(2)
    for (const state of crash.crashStates()) if (state.fs.exists('seg')) expect(state.fs.open('seg').links()).toBe(1)
  })
})
