import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { StrataLevel } from './strata-level.js'

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..')

/**
 * A second process that opens the database at STRATA_DB through the built package (`strata`
 * resolves to the package itself from its folder). It prints one JSON line: how its open went;
 * with STRATA_MODE=hold it stays open, having written a key, until its stdin ends.
 */
const CHILD = `
import { StrataLevel } from 'strata'
const db = new StrataLevel(process.env.STRATA_DB)
try {
  await db.open()
  if (process.env.STRATA_MODE === 'hold') await db.put('held-by', String(process.pid))
  process.stdout.write(JSON.stringify({ opened: true }) + '\\n')
  if (process.env.STRATA_MODE === 'hold') await new Promise((resolve) => process.stdin.on('end', resolve).resume())
  await db.close()
} catch (error) {
  process.stdout.write(JSON.stringify({ code: error.code, cause: error.cause?.code }) + '\\n')
}
`

/** Starts the child script on `location`; resolves with it and the first line it prints. */
function startChild(location: string, mode: 'open' | 'hold'): Promise<{ child: ChildProcess; reply: Record<string, unknown> }> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD], {
    cwd: packageDir,
    env: { ...process.env, STRATA_DB: location, STRATA_MODE: mode },
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  return new Promise((resolve, reject) => {
    let out = ''
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      const line = out.split('\n')[0]
      if (out.includes('\n') && line) resolve({ child, reply: JSON.parse(line) as Record<string, unknown> })
    })
    child.on('error', reject)
    child.on('exit', (code) => reject(new Error(`child exited (${code}) before replying: ${out}`)))
  })
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()))
}

describe('one process holds a database at a time', () => {
  let root: string

  beforeAll(() => {
    // The child runs the built package: bring dist up to date with the source under test.
    const tsc = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc')
    execFileSync(process.execPath, [tsc, '-b', packageDir], { stdio: 'inherit' })
  }, 120_000)

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'strata-lock-'))
  })

  afterEach(() => {
    rmSync(root, { recursive: true, force: true })
  })

  it('a second open in this process fails with LEVEL_DATABASE_NOT_OPEN caused by LEVEL_LOCKED, and succeeds once the first closes', async () => {
    const location = join(root, 'db')
    const first = new StrataLevel(location)
    await first.put('a', '1')
    const second = new StrataLevel(location)
    await expect(second.open()).rejects.toMatchObject({ code: 'LEVEL_DATABASE_NOT_OPEN', cause: { code: 'LEVEL_LOCKED' } })
    expect(second.status).toBe('closed')
    // The first is unharmed by the failed open.
    expect(await first.get('a')).toBe('1')
    await first.close()
    await second.open()
    expect(await second.get('a')).toBe('1')
    await second.close()
  })

  it('another process cannot open a database this process holds', async () => {
    const location = join(root, 'db')
    const db = new StrataLevel(location)
    await db.open()
    const { child, reply } = await startChild(location, 'open')
    await exited(child)
    expect(reply).toEqual({ code: 'LEVEL_DATABASE_NOT_OPEN', cause: 'LEVEL_LOCKED' })
    await db.close()
    const again = await startChild(location, 'open')
    await exited(again.child)
    expect(again.reply).toEqual({ opened: true })
  })

  it('this process cannot open a database another process holds, and takes it over once that process is killed', async () => {
    const location = join(root, 'db')
    const { child, reply } = await startChild(location, 'hold')
    try {
      expect(reply).toEqual({ opened: true })
      const db = new StrataLevel(location)
      await expect(db.open()).rejects.toMatchObject({ code: 'LEVEL_DATABASE_NOT_OPEN', cause: { code: 'LEVEL_LOCKED' } })
      child.kill('SIGKILL')
      await exited(child)
      // The lock file names a process that no longer runs: the next open takes it over, and
      // finds the holder's acknowledged write.
      await db.open()
      expect(await db.get('held-by')).toBe(String(child.pid))
      await db.close()
    } finally {
      child.kill('SIGKILL')
    }
  })
})
