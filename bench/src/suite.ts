/**
 * The whole benchmark suite: `pnpm bench [--quick] [--out folder] [--dir folder] [--only parts]
 * [--docs | --no-docs] [--docs-dir folder]`. `strata bench` runs the same with the same options.
 */
import { runSuite } from './run-suite.js'
import { parseSuiteArgs } from './suite-options.js'

const argv = process.argv.slice(2)
const options = parseSuiteArgs(argv)
// Run through `pnpm bench`, the record names that command rather than this script.
const command = process.env.npm_lifecycle_event === 'bench' ? ['pnpm bench', ...argv].join(' ') : undefined
await (command === undefined ? runSuite(options) : runSuite(options, undefined, command))
