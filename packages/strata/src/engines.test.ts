import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CowEngine } from '@strata/cow-engine'
import { RowEngine } from '@strata/row-engine'
import { NodeFileSystem } from '@strata/storage'
import { afterEach, describe, expect, it } from 'vitest'
import { type EngineName, engineOf } from './engines.js'
import { StrataLevel } from './strata-level.js'

const folders: string[] = []
afterEach(() => {
  for (const dir of folders.splice(0)) rmSync(dir, { recursive: true, force: true })
})

/** A folder holding a database of `engine` with one entry, closed. */
async function databaseOf(engine: EngineName): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'strata-engines-'))
  folders.push(dir)
  const db = new StrataLevel(dir, { engine })
  await db.put('order:1', 'kept')
  await db.close()
  return dir
}

/** The engine opened directly, the way StrataLevel's `engine` option would open it. */
const openDirectly = { row: RowEngine.open, cow: CowEngine.open } satisfies Record<EngineName, unknown>

describe.each([
  ['row', 'cow'],
  ['cow', 'row'],
] as const)('a folder holding a %s database', (made, other) => {
  it(`opens with the ${made} engine when the engine option is omitted, and gains no ${other} files`, async () => {
    const dir = await databaseOf(made)
    const files = readdirSync(dir).sort()
    const db = new StrataLevel(dir)
    expect(await db.get('order:1')).toBe('kept')
    expect(db.stats().engine).toBe(made)
    await db.close()
    expect(readdirSync(dir).sort()).toEqual(files)
    expect(engineOf(new NodeFileSystem(dir, { readOnly: true }))).toBe(made)
  })

  it(`refuses an open with engine '${other}' with STRATA_ENGINE_MISMATCH, creating nothing`, async () => {
    const dir = await databaseOf(made)
    const files = readdirSync(dir).sort()
    const db = new StrataLevel(dir, { engine: other })
    await expect(db.open()).rejects.toMatchObject({ code: 'LEVEL_DATABASE_NOT_OPEN', cause: { code: 'STRATA_ENGINE_MISMATCH' } })
    expect(readdirSync(dir).sort()).toEqual(files)
    const again = new StrataLevel(dir, { engine: made })
    expect(await again.get('order:1')).toBe('kept')
    await again.close()
  })

  it(`is refused by the ${other} engine opened directly, which creates nothing beside it`, async () => {
    const dir = await databaseOf(made)
    const files = readdirSync(dir).sort()
    await expect(openDirectly[other]({ fs: new NodeFileSystem(dir) })).rejects.toMatchObject({ code: 'STRATA_ENGINE_MISMATCH' })
    expect(readdirSync(dir).sort()).toEqual(files)
  })
})

describe('the engine of a folder', () => {
  it('is the default for a new database, and the one asked for when one is', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-engines-'))
    folders.push(dir)
    const db = new StrataLevel(join(dir, 'new'))
    await db.open()
    expect(engineOf(new NodeFileSystem(join(dir, 'new'), { readOnly: true }))).toBe('row')
    await db.close()
    const cow = new StrataLevel(join(dir, 'cow'), { engine: 'cow' })
    await cow.open()
    expect(engineOf(new NodeFileSystem(join(dir, 'cow'), { readOnly: true }))).toBe('cow')
    await cow.close()
  })

  it('is unknown in an empty folder, and an engine name that does not exist is a TypeError', () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-engines-'))
    folders.push(dir)
    expect(engineOf(new NodeFileSystem(dir, { readOnly: true }))).toBeUndefined()
    expect(() => new StrataLevel(dir, { engine: 'lsm' as EngineName })).toThrow(TypeError)
  })

  it('of a folder holding two databases is not guessed: the option picks one, and without it the open is refused', async () => {
    const dir = await databaseOf('row')
    const cow = await databaseOf('cow')
    for (const name of readdirSync(cow)) cpSync(join(cow, name), join(dir, name))
    const db = new StrataLevel(dir, { engine: 'row' })
    await db.put('order:1', 'row')
    await db.close()
    const guessed = new StrataLevel(dir)
    await expect(guessed.open()).rejects.toMatchObject({ code: 'LEVEL_DATABASE_NOT_OPEN', cause: { code: 'STRATA_NOT_A_DATABASE' } })
    expect(() => engineOf(new NodeFileSystem(dir, { readOnly: true }))).toThrow(expect.objectContaining({ code: 'STRATA_NOT_A_DATABASE' }))
    for (const [engine, value] of [['row', 'row'], ['cow', 'kept']] as const) {
      const picked = new StrataLevel(dir, { engine })
      expect(await picked.get('order:1')).toBe(value)
      await picked.close()
    }
  })
})
