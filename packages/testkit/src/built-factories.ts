import { execFileSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { beforeAll } from 'vitest'

/** The package whose build a child process imports its factory from; building it builds both engines too. */
const factoriesDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'engine-factories')

/**
 * Brings the built engine factories (and so the engines) up to date with the source under test
 * before the tests of the calling `describe` run: campaigns that kill a real process or limit its
 * file size run the child on the built packages.
 */
export function buildFactoriesFirst(): void {
  beforeAll(() => {
    const tsc = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc')
    execFileSync(process.execPath, [tsc, '-b', factoriesDir], { stdio: 'inherit' })
  }, 120_000)
}
