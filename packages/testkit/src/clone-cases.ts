import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Clones, Operation, SnapshotEngine } from '@strata/btree'
import { type FileSystem, type MemoryFileData, MemoryFileSystem, NodeFileSystem } from '@strata/storage'
import { afterEach, describe, expect, it } from 'vitest'
import { readAll } from './engine-factory.js'
import { between, pick, type Random, seededRandom } from './random.js'

/** An engine with named snapshots that makes clones. */
export type CloneEngine = SnapshotEngine & Clones

/** Opens the engine under test in `fs`, with small pages and checkpoints so short runs reach every mechanism. */
export type OpenClone = (fs: FileSystem) => Promise<CloneEngine>

type State = Map<string, string>

/** A database of the model test: its folder, its engine while open, and what it must read. */
interface Subject {
  id: number
  fs: MemoryFileSystem
  engine: CloneEngine
  head: State
  named: Map<string, State>
}

/** Every entry of `engine` (at snapshot `name` if given), as text. */
function entries(engine: CloneEngine, name?: string): [string, string][] {
  if (name === undefined) return readAll(engine).map(([k, v]) => [k.toString(), v.toString()])
  const at = engine.openSnapshot(name)
  try {
    return readAll(engine, at).map(([k, v]) => [k.toString(), v.toString()])
  } finally {
    at.release()
  }
}

const sorted = (state: State): [string, string][] => [...state].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))

function expectMatches(subject: Subject, step: string): void {
  const where = `database ${subject.id} after ${step}`
  expect(entries(subject.engine), where).toEqual(sorted(subject.head))
  expect(subject.engine.listSnapshots().map((s) => s.name), where).toEqual([...subject.named.keys()].sort())
  for (const [name, state] of subject.named) expect(entries(subject.engine, name), `${where}, snapshot ${name}`).toEqual(sorted(state))
  expect(subject.engine.check(), where).toEqual([])
}

/**
 * Every database's stats say which of its bytes are in files another folder names too, as the
 * folders themselves show it: a linked file is one MemoryFileData in several folders.
 */
function expectSharing(alive: Subject[], step: string): void {
  const names = new Map<MemoryFileData, number>()
  for (const each of alive) for (const data of each.fs.files.values()) names.set(data, (names.get(data) ?? 0) + 1)
  for (const each of alive) {
    let shared = 0
    for (const data of each.fs.files.values()) if ((names.get(data) ?? 0) > 1) shared += data.length
    const stats = each.engine.stats()
    expect(stats.sharedBytes, `the shared bytes of database ${each.id} after ${step}`).toBe(shared)
    expect(stats.ownedBytes + stats.sharedBytes).toBe(stats.fileBytes)
  }
}

function randomBatch(rand: Random): Operation[] {
  return Array.from({ length: between(rand, 1, 30) }, () => {
    const key = Buffer.from(`k${String(between(rand, 0, 400)).padStart(4, '0')}`)
    if (rand() < 0.25) return { type: 'del' as const, key }
    // Now and then a value too large for a page: a VALUE record of its own.
    const value = Buffer.from(`${rand().toString(36)}`.repeat(rand() < 0.1 ? 40 : between(rand, 1, 3)))
    return { type: 'put' as const, key, value }
  })
}

function applyToModel(state: State, ops: Operation[]): void {
  for (const op of ops) {
    if (op.type === 'put') state.set(op.key.toString(), op.value.toString())
    else state.delete(op.key.toString())
  }
}

/**
 * One run of the model test: random writes, checkpoints (by the policy), compaction, named
 * snapshots made, deleted and restored, reopens, clones (of the head and of snapshots, of
 * clones too, linked or copied) and deleted folders, on every database alike.
 */
async function runCloneModel(open: OpenClone, seed: number, steps: number): Promise<void> {
  const rand = seededRandom(seed)
  const first: Subject = { id: 0, fs: new MemoryFileSystem('memory:0'), engine: undefined as unknown as CloneEngine, head: new Map(), named: new Map() }
  first.engine = await open(first.fs)
  const alive: Subject[] = [first]
  let ids = 1
  let names = 0
  try {
    for (let step = 0; step < steps; step++) {
      const subject = pick(rand, alive)
      const roll = rand()
      let what: string
      if (roll < 0.45) {
        const ops = randomBatch(rand)
        await subject.engine.write(ops)
        applyToModel(subject.head, ops)
        what = 'a write'
      } else if (roll < 0.55) {
        const name = `s${names++}`
        await subject.engine.createSnapshot(name)
        subject.named.set(name, new Map(subject.head))
        what = `snapshot ${name}`
      } else if (roll < 0.62 && subject.named.size > 0) {
        const name = pick(rand, [...subject.named.keys()])
        await subject.engine.deleteSnapshot(name)
        subject.named.delete(name)
        what = `deleting ${name}`
      } else if (roll < 0.68 && subject.named.size > 0) {
        const name = pick(rand, [...subject.named.keys()])
        await subject.engine.restoreSnapshot(name)
        subject.head = new Map(subject.named.get(name))
        what = `restoring ${name}`
      } else if (roll < 0.73) {
        await subject.engine.compact()
        what = 'compaction'
      } else if (roll < 0.78) {
        await subject.engine.close()
        subject.engine = await open(subject.fs)
        what = 'a reopen'
      } else if (roll < 0.93) {
        const name = subject.named.size > 0 && rand() < 0.6 ? pick(rand, [...subject.named.keys()]) : undefined
        const snapshots = rand() < 0.4
        const link = rand() < 0.8
        const clone: Subject = {
          id: ids++,
          fs: new MemoryFileSystem(`memory:${ids}`),
          engine: undefined as unknown as CloneEngine,
          head: new Map(name === undefined ? subject.head : subject.named.get(name)),
          named: snapshots ? new Map([...subject.named].map(([n, state]) => [n, new Map(state)])) : new Map(),
        }
        const result = await subject.engine.clone(name, clone.fs, { snapshots, link })
        if (!link) expect(result.linkedFiles).toBe(0)
        clone.engine = await open(clone.fs)
        alive.push(clone)
        what = `cloning ${subject.id} at ${name ?? 'head'} into ${clone.id}${snapshots ? ' with snapshots' : ''}${link ? '' : ' by copy'}`
      } else if (alive.length > 1) {
        // The folder goes whole, as `rm -r` takes it: its links go, the files others link stay.
        await subject.engine.close()
        subject.fs.files.clear()
        alive.splice(alive.indexOf(subject), 1)
        what = `deleting the folder of ${subject.id}`
      } else {
        continue
      }
      for (const each of alive) expectMatches(each, `step ${step}: ${what}`)
      expectSharing(alive, `step ${step}: ${what}`)
    }
    // Every database reopens to what it read.
    for (const each of alive) {
      await each.engine.close()
      each.engine = await open(each.fs)
      expectMatches(each, 'the last reopen')
    }
  } finally {
    for (const each of alive) await each.engine.close()
  }
}

/**
 * What every engine's clones promise (docs/snapshots.md §Clones): a model test of a source and its
 * clones, clones of clones included, each reading its own model through writes, checkpoints,
 * compaction, named snapshots made, deleted and restored, reopens and deleted folders; refusals
 * with stable codes; and a clone on disk that outlives its deleted source, linked or copied.
 * `options.seeds` model runs of 150 steps (default 6).
 */
export function cloneCases(name: string, open: OpenClone, options: { seeds?: number } = {}): void {
  describe(`${name} clones`, () => {
    for (let seed = 1; seed <= (options.seeds ?? 6); seed++) {
      it(`source and clones each read their own model through every operation (seed ${seed})`, async () => {
        await runCloneModel(open, seed, 150)
      })
    }

    it('refuses a folder that is not empty, and a snapshot that does not exist', async () => {
      const engine = await open(new MemoryFileSystem())
      const used = new MemoryFileSystem()
      used.open('other', { create: true }).close()
      await expect(engine.clone(undefined, used)).rejects.toMatchObject({ code: 'STRATA_DATABASE_EXISTS' })
      expect(used.list()).toEqual(['other'])
      const fresh = new MemoryFileSystem()
      await expect(engine.clone('missing', fresh)).rejects.toMatchObject({ code: 'STRATA_SNAPSHOT_NOT_FOUND' })
      expect(fresh.list()).toEqual([])
      await engine.close()
    })
  })

  describe(`${name} clones on disk`, () => {
    const folders: string[] = []
    const folder = () => {
      const path = mkdtempSync(join(tmpdir(), 'strata-clone-'))
      folders.push(path)
      return path
    }
    afterEach(() => {
      for (const path of folders.splice(0)) rmSync(path, { recursive: true, force: true })
    })

    for (const link of [true, false]) {
      it(`a clone ${link ? 'made with links allowed' : 'forced to copy'} outlives its deleted source`, async () => {
        const source = folder()
        const engine = await open(new NodeFileSystem(source))
        const model: State = new Map()
        for (let i = 0; i < 60; i++) {
          const ops = randomBatch(seededRandom(i + 100))
          await engine.write(ops)
          applyToModel(model, ops)
        }
        await engine.createSnapshot('before')
        const atSnapshot = new Map(model)
        await engine.write([{ type: 'put', key: Buffer.from('after'), value: Buffer.from('x') }])
        const target = join(folder(), 'clone')
        const result = await engine.clone('before', new NodeFileSystem(target, { create: true }), { link })
        if (!link) expect(result.linkedFiles).toBe(0)
        expect(result.linkedFiles + result.copiedFiles).toBeGreaterThan(0)
        expect(result.bytesWritten).toBeGreaterThan(0)
        // Shared bytes, as the folder shows them: files with another name.
        const linkedBytes = readdirSync(target)
          .map((name) => statSync(join(target, name)))
          .reduce((sum, file) => sum + (file.nlink > 1 ? file.size : 0), 0)
        if (result.linkedFiles === 0) expect(linkedBytes).toBe(0)
        else expect(linkedBytes).toBeGreaterThan(0)
        let clone = await open(new NodeFileSystem(target))
        for (const db of [engine, clone]) {
          const stats = db.stats()
          expect(stats.sharedBytes).toBe(linkedBytes)
          expect(stats.ownedBytes + stats.sharedBytes).toBe(stats.fileBytes)
        }
        await engine.close()
        rmSync(source, { recursive: true })
        // The clone's files have one name left: its own, seen without a reopen.
        expect(clone.stats()).toMatchObject({ sharedBytes: 0, ownedBytes: clone.stats().fileBytes })
        await clone.close()
        clone = await open(new NodeFileSystem(target))
        expect(entries(clone)).toEqual(sorted(atSnapshot))
        expect(clone.listSnapshots()).toEqual([])
        await clone.write([{ type: 'put', key: Buffer.from('clone'), value: Buffer.from('y') }])
        expect(clone.check()).toEqual([])
        await clone.close()
      })
    }
  })
}
