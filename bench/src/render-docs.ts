/**
 * Writes docs/benchmarks.md and docs/img/*.svg from the JSON results of a suite run, so the figures
 * in the docs are always the ones a run measured.
 *
 *   pnpm bench:docs [--results bench/results] [--docs-dir docs]
 */
import { parseArgs } from 'node:util'
import { renderDocs } from './docs-page.js'

const { values: args } = parseArgs({
  options: {
    results: { type: 'string', default: 'bench/results' },
    'docs-dir': { type: 'string', default: 'docs' },
  },
})
const path = await renderDocs({ resultsDir: args.results as string, docsDir: args['docs-dir'] as string })
console.log(`${path} written, with its charts`)
