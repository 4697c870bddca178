import { groupCommitCases } from '@strata/testkit'
import { describe } from 'vitest'
import { CowEngine } from './cow-engine.js'

for (const store of ['per-snapshot', 'shared'] as const) {
  describe(`CowEngine group commit (${store} store)`, () => {
    groupCommitCases((fs) => CowEngine.open({ fs, store, pageSize: 1024, checkpoint: { minLogBytes: 16 * 1024, maxLogBytes: 64 * 1024 } }))
  })
}
