#!/usr/bin/env node
// Installs the workspace's dependencies when they are missing or older than the lock file, so
// that `npm test` and `npm run demo` work on a machine that has only Node and npm.
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const PNPM = 'pnpm@12.21.0'
const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const lockFile = join(root, 'pnpm-lock.yaml')
const stamp = join(root, 'node_modules', '.strata-installed')

function lockDigest() {
  return createHash('sha256').update(readFileSync(lockFile)).digest('hex')
}

function isInstalled() {
  if (!existsSync(stamp) || !existsSync(lockFile)) return false
  return readFileSync(stamp, 'utf8') === lockDigest()
}

function pnpmCommand() {
  try {
    const version = execFileSync('pnpm', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
    if (version === PNPM.split('@')[1]) return ['pnpm', []]
  } catch {}
  return ['npx', ['--yes', PNPM]]
}

if (!isInstalled()) {
  const [cmd, prefix] = pnpmCommand()
  const args = [...prefix, 'install', ...(existsSync(lockFile) && process.env.STRATA_UNLOCKED !== '1' ? ['--frozen-lockfile'] : [])]
  console.error(`strata: installing dependencies (${cmd} ${args.join(' ')})`)
  execFileSync(cmd, args, { cwd: root, stdio: 'inherit' })
  if (existsSync(lockFile)) writeFileSync(stamp, lockDigest())
}
