import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'

const here = dirname(fileURLToPath(import.meta.url))
const root = resolve(here, '..', '..', '..')
/** Examples run from inside this package, so `import … from 'strata'` resolves to it (built). */
const examples = join(here, '..', '.doc-examples')
const documents = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)]

/** The ```js blocks of a markdown file: every one is a whole program. */
function jsBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```js\n([\s\S]*?)^```$/gm)].map((m) => m[1] as string)
}

afterAll(() => rmSync(examples, { recursive: true, force: true }))

describe('the documentation', () => {
  it.each(documents)('%s: every relative link resolves', (document) => {
    const text = readFileSync(join(root, document), 'utf8').replace(/^```[\s\S]*?^```$/gm, '')
    const missing = [...text.matchAll(/\]\(([^)\s]+)\)/g)]
      .map((m) => m[1] as string)
      .filter((target) => !/^[a-z]+:/i.test(target) && !target.startsWith('#'))
      .filter((target) => !existsSync(resolve(root, dirname(document), target.split('#')[0] as string)))
    expect(missing).toEqual([])
  })

  const withExamples = documents.flatMap((document) => jsBlocks(readFileSync(join(root, document), 'utf8')).map((code, i) => [document, i + 1, code] as const))

  it.each(withExamples)('%s: example %i runs', (document, index, code) => {
    mkdirSync(examples, { recursive: true })
    const file = join(examples, `${document.replace(/[/.]/g, '-')}-${index}.mjs`)
    writeFileSync(file, code)
    const cwd = mkdtempSync(join(tmpdir(), 'strata-example-'))
    try {
      execFileSync(process.execPath, [file], { cwd, stdio: 'pipe', timeout: 60_000 })
    } catch (error) {
      const { stderr } = error as { stderr?: Buffer }
      throw new Error(`${document} example ${index} failed:\n${stderr?.toString() ?? String(error)}`)
    } finally {
      rmSync(cwd, { recursive: true, force: true })
    }
  })

  it('docs/api is the API reference the TSDoc of the code gives today (npm run docs:api)', () => {
    const out = mkdtempSync(join(tmpdir(), 'strata-api-'))
    try {
      const tool = join(root, 'tools', 'api-docs')
      execFileSync(process.execPath, [join(tool, 'node_modules', 'typedoc', 'bin', 'typedoc'), '--out', out, '--logLevel', 'Error'], { cwd: tool, stdio: 'pipe', timeout: 120_000 })
      const files = (dir: string): string[] =>
        readdirSync(dir, { withFileTypes: true, recursive: true })
          .filter((e) => e.isFile())
          .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
          .sort()
      const committed = join(root, 'docs', 'api')
      expect(files(out)).toEqual(files(committed))
      const stale = files(out).filter((f) => readFileSync(join(out, f), 'utf8') !== readFileSync(join(committed, f), 'utf8'))
      expect(stale).toEqual([])
    } finally {
      rmSync(out, { recursive: true, force: true })
    }
  }, 180_000)

  it('has examples to run', () => {
    expect(withExamples.length).toBeGreaterThanOrEqual(3)
  })
})
