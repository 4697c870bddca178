import { spawn } from 'node:child_process'
import { appendFileSync, cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { RowEngine } from '@strata/row-engine'
import { NodeFileSystem } from '@strata/storage'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  BIN,
  DATABASE_KINDS,
  type DatabaseKind,
  damageRecord,
  filesOf,
  logFileOf,
  openEngine,
  RecordType,
  removeTemporaryFolders,
  sampleDatabase,
  strataProcess,
  temporaryFolder,
} from './test-support.js'

afterEach(removeTemporaryFolders)

beforeAll(() => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: build with 'npx tsc -b' before running these tests`)
})

/** A database of `kind` as a crash leaves it: commits after the last checkpoint, and a torn record at the end of its log. */
async function crashedDatabase(kind: DatabaseKind): Promise<string> {
  const dir = temporaryFolder()
  const engine = await openEngine(dir, kind, { checkpoint: { minLogBytes: 1 << 30 } })
  for (let i = 0; i < 50; i++) await engine.write([{ type: 'put', key: Buffer.from(`key${i}`), value: Buffer.from(`value${i}`) }])
  const image = temporaryFolder()
  for (const name of readdirSync(dir)) if (name !== 'LOCK') cpSync(join(dir, name), join(image, name))
  await engine.close()
  appendFileSync(join(image, logFileOf(kind)), Buffer.from([0x10, 0x00, 0x00, 0x00, 0x55]))
  return image
}

describe('the strata binary', () => {
  it('explains itself and its exit statuses with --help, exiting 0', () => {
    const run = strataProcess('--help')
    expect(run.status).toBe(0)
    for (const command of ['info', 'check', 'compact', 'get', 'scan', 'demo']) expect(run.stdout).toMatch(new RegExp(`^ {2}${command} `, 'm'))
    expect(run.stdout).toContain('Exit status:')
    expect(run.stdout).toMatch(/^ {2}6 {3}damaged bytes, or check found a problem \(LEVEL_CORRUPTION\)$/m)
  })

  it('prints the version of its package with --version, exiting 0', () => {
    const { version } = JSON.parse(readFileSync(join(BIN, '..', '..', 'package.json'), 'utf8')) as { version: string }
    expect(version).toMatch(/^\d+\.\d+\.\d+/)
    expect(strataProcess('--version')).toEqual({ status: 0, stdout: `${version}\n`, stderr: '' })
    expect(strataProcess('-V')).toEqual({ status: 0, stdout: `${version}\n`, stderr: '' })
  })

  it('exits with the status of each outcome', async () => {
    const dir = await sampleDatabase()
    const damaged = await sampleDatabase()
    damageRecord(damaged, RecordType.PAGE)
    const file = join(temporaryFolder(), 'notes.txt')
    writeFileSync(file, 'not a database')
    const statuses = {
      ok: strataProcess('info', dir, '--json').status,
      unknownCommand: strataProcess('inspect', dir).status,
      badOption: strataProcess('scan', dir, '--limit', 'x').status,
      missing: strataProcess('info', join(dir, 'missing')).status,
      file: strataProcess('get', file, 'k').status,
      folderWithoutMeta: strataProcess('scan', temporaryFolder()).status,
      damaged: strataProcess('check', damaged).status,
      unknownKey: strataProcess('get', dir, 'no such key').status,
      unknownSnapshot: strataProcess('scan', dir, '--snapshot', 'eod').status,
    }
    expect(statuses).toEqual({ ok: 0, unknownCommand: 2, badOption: 2, missing: 3, file: 4, folderWithoutMeta: 4, damaged: 6, unknownKey: 9, unknownSnapshot: 10 })
  })

  it('exits 5 when another process holds the database', async () => {
    const dir = await sampleDatabase()
    // This test's process holds the lock; the child sees a live pid in LOCK.
    const engine = await RowEngine.open({ fs: new NodeFileSystem(dir) })
    try {
      const run = strataProcess('info', dir)
      expect(run.status).toBe(5)
      expect(run.stderr).toBe(`strata: ${dir} is locked by another open (LEVEL_LOCKED)\n`)
    } finally {
      await engine.close()
    }
  })

  it.each(DATABASE_KINDS)('reads a crashed $name database without writing to it: info, check, get and scan leave every byte', async (kind) => {
    const dir = await crashedDatabase(kind)
    const before = filesOf(dir)
    expect(JSON.parse(strataProcess('info', dir, '--json').stdout)).toMatchObject({ seq: 50 })
    expect(strataProcess('check', dir).status).toBe(0)
    expect(strataProcess('get', dir, 'key49').stdout).toBe('value49\n')
    expect(strataProcess('scan', dir, '--prefix', 'key4').stdout.split('\n')).toHaveLength(12)
    expect(filesOf(dir)).toEqual(before)
  })

  it('stops quietly, closing the database, when the reader of a scan goes away', async () => {
    const dir = temporaryFolder()
    const engine = await RowEngine.open({ fs: new NodeFileSystem(dir) })
    for (let b = 0; b < 10; b++) {
      await engine.write(Array.from({ length: 2000 }, (_, i) => ({ type: 'put' as const, key: Buffer.from(`key${b * 2000 + i}`), value: Buffer.alloc(50, 'v') })))
    }
    await engine.close()
    // 20,000 lines of about 60 bytes: far more than a pipe holds, so the reader leaves mid-scan.
    const child = spawn(process.execPath, [BIN, 'scan', dir], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.stdout.once('data', () => child.stdout.destroy())
    const status = await new Promise<number | null>((resolve) => child.on('close', resolve))
    expect({ status, stderr }).toEqual({ status: 0, stderr: '' })
    expect(existsSync(join(dir, 'LOCK'))).toBe(false)
  })
})
