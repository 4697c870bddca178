import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { NodeFileSystem } from './node-file-system.js'

/** While `on`, this file's `node:fs` answers `link` as a file system without hard links does (FAT: EPERM). */
const noHardLinks = vi.hoisted(() => ({ on: false }))
vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>()
  const linkSync: typeof real.linkSync = (existing, target) => {
    if (noHardLinks.on) throw Object.assign(new Error(`EPERM: operation not permitted, link '${String(existing)}'`), { code: 'EPERM' })
    real.linkSync(existing, target)
  }
  const mocked = { ...real, linkSync }
  return { ...mocked, default: mocked }
})

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..')

/** A pid no process can have (above Linux's pid_max): a lock file naming it is stale. */
const DEAD_PID = 2147483646

/**
 * A racer: a process that, for each folder the parent sends, waits (spinning, not sleeping) for
 * the wall-clock instant the parent chose, then tries to lock the folder, and replies whether it
 * got the lock. It keeps every lock it gets; each round uses a new folder.
 */
const RACER = `
import { NodeFileSystem } from '@strata/storage'
const now = () => performance.timeOrigin + performance.now()
process.on('message', ({ folder, at }) => {
  while (now() < at) {}
  let reply
  try {
    new NodeFileSystem(folder).lock()
    reply = { folder, owner: true, pid: process.pid }
  } catch (error) {
    reply = { folder, owner: false, code: error.code }
  }
  process.send(reply)
})
process.send({ ready: true })
`

interface Reply {
  folder: string
  owner: boolean
  pid?: number
  code?: string
}

function startRacer(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', RACER], { cwd: packageDir, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  return new Promise((resolve, reject) => {
    child.once('message', () => resolve(child))
    child.once('error', reject)
    child.once('exit', (code) => reject(new Error(`racer exited (${code}) before it was ready`)))
  })
}

function nextReply(child: ChildProcess): Promise<Reply> {
  return new Promise((resolve) => child.once('message', (reply: Reply) => resolve(reply)))
}

describe('the folder lock, raced by processes', () => {
  const racers: ChildProcess[] = []
  let root: string

  beforeAll(async () => {
    // The racers run the built package: bring dist up to date with the source under test.
    const tsc = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc')
    execFileSync(process.execPath, [tsc, '-b', packageDir], { stdio: 'inherit' })
    root = mkdtempSync(join(tmpdir(), 'strata-lock-race-'))
    for (let i = 0; i < 3; i++) racers.push(await startRacer())
  }, 120_000)

  afterAll(() => {
    for (const racer of racers) racer.kill()
    rmSync(root, { recursive: true, force: true })
  })

  /** Races every racer over `folder` at one instant; returns their replies. */
  async function race(folder: string): Promise<Reply[]> {
    const at = performance.timeOrigin + performance.now() + 15
    const replies = racers.map(nextReply)
    for (const racer of racers) racer.send({ folder, at })
    return Promise.all(replies)
  }

  /**
   * Races `rounds` times over a fresh folder that `prepare` fills; returns the rounds that did not
   * end with exactly one owner, named in `LOCK`, and no other lock file left in the folder.
   */
  async function raceRounds(rounds: number, prepare: (folder: string) => void): Promise<string[]> {
    const wrong: string[] = []
    for (let round = 0; round < rounds; round++) {
      const folder = join(root, `round-${wrong.length}-${round}-${Math.random().toString(36).slice(2)}`)
      mkdirSync(folder)
      prepare(folder)
      const replies = await race(folder)
      const owners = replies.filter((reply) => reply.owner)
      const refused = replies.filter((reply) => !reply.owner)
      const named = readFileSync(join(folder, 'LOCK'), 'utf8')
      const left = readdirSync(folder)
      if (owners.length !== 1 || refused.some((reply) => reply.code !== 'LEVEL_LOCKED') || named !== `${owners[0]?.pid}\n` || left.length !== 1) {
        wrong.push(`round ${round}: ${JSON.stringify(replies.map((reply) => reply.code ?? 'owner'))}, LOCK names ${named.trim()}, files ${left.join(' ')}`)
      }
    }
    return wrong
  }

  it('gives a lock left by a dead process to exactly one of the processes that race to take it over', async () => {
    const wrong = await raceRounds(150, (folder) => writeFileSync(join(folder, 'LOCK'), `${DEAD_PID}\n`))
    expect(wrong).toEqual([])
  }, 60_000)

  it('gives the lock to exactly one racer when a process died holding the takeover mutex, and clears what it left', async () => {
    // A process that dies mid-takeover leaves its mutex file, naming it; one died at the second
    // step of the chain too in every other round.
    let round = 0
    const wrong = await raceRounds(100, (folder) => {
      writeFileSync(join(folder, 'LOCK'), `${DEAD_PID}\n`)
      writeFileSync(join(folder, 'LOCK.takeover.1'), `${DEAD_PID}\n`)
      if (round++ % 2 === 0) writeFileSync(join(folder, 'LOCK.takeover.2'), `${DEAD_PID - 1}\n`)
      writeFileSync(join(folder, `LOCK.new.${DEAD_PID}.abc`), `${DEAD_PID}\n`)
    })
    expect(wrong).toEqual([])
  }, 60_000)
})

describe('the folder lock, in one process', () => {
  let root: string
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'strata-lock-'))
  })
  afterAll(() => {
    rmSync(root, { recursive: true, force: true })
  })

  it('is refused while a live process holds the takeover mutex, and the dead owner’s LOCK is left to it', () => {
    const folder = mkdtempSync(join(root, 'busy-'))
    writeFileSync(join(folder, 'LOCK'), `${DEAD_PID}\n`)
    // The parent of this process is alive: as the mutex's holder, it is taking the lock over.
    writeFileSync(join(folder, 'LOCK.takeover.1'), `${process.ppid}\n`)
    expect(() => new NodeFileSystem(folder).lock()).toThrow(expect.objectContaining({ code: 'LEVEL_LOCKED' }))
    expect(readFileSync(join(folder, 'LOCK'), 'utf8')).toBe(`${DEAD_PID}\n`)
    expect(readdirSync(folder).sort()).toEqual(['LOCK', 'LOCK.takeover.1'])
    // Once that holder is done (its file gone), the dead owner's lock is taken over.
    rmSync(join(folder, 'LOCK.takeover.1'))
    const fs = new NodeFileSystem(folder)
    fs.lock()
    expect(readFileSync(join(folder, 'LOCK'), 'utf8')).toBe(`${process.pid}\n`)
    fs.unlock()
    expect(readdirSync(folder)).toEqual([])
  })

  it('on a file system without hard links, creates LOCK in place and still takes over a dead owner’s', () => {
    const folder = mkdtempSync(join(root, 'no-links-'))
    noHardLinks.on = true
    try {
      const first = new NodeFileSystem(folder)
      first.lock()
      expect(readFileSync(join(folder, 'LOCK'), 'utf8')).toBe(`${process.pid}\n`)
      expect(() => new NodeFileSystem(folder).lock()).toThrow(expect.objectContaining({ code: 'LEVEL_LOCKED' }))
      first.unlock()
      writeFileSync(join(folder, 'LOCK'), `${DEAD_PID}\n`)
      const second = new NodeFileSystem(folder)
      second.lock()
      expect(readFileSync(join(folder, 'LOCK'), 'utf8')).toBe(`${process.pid}\n`)
      expect(readdirSync(folder)).toEqual(['LOCK'])
      second.unlock()
    } finally {
      noHardLinks.on = false
    }
  })
})
