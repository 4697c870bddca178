export { BENCH_ROOT, REPO_ROOT, runSuite, type PartRecord, type SuiteOutput, type SuiteRecord, type SuiteReport } from './run-suite.js'
export { PARTS, type PartName, parseParts, parseSuiteArgs, SUITE_OPTIONS, type SuiteFlags, type SuiteOptions, type SuiteOptionSpec, suiteOptions } from './suite-options.js'
