import { SPACE_POLICY_MIN_LOG, spacePolicyCases } from '@strata/testkit'
import { describe } from 'vitest'
import { CowEngine } from './cow-engine.js'

/**
 * The space policy (docs/architecture.md §COW checkpoint policy): without any explicit compaction,
 * the page file and the WAL stay within max(1.5 × live bytes, live bytes + minLogBytes), and the
 * pre-image stores hold what named snapshots alone keep. 1 KiB pages, checkpoints after 16 KiB of
 * WAL or more: the default shape scaled down.
 */
describe.each(['per-snapshot', 'shared'] as const)('CowEngine space policy (%s store)', (store) => {
  spacePolicyCases((fs) => CowEngine.open({ fs, store, pageSize: 1024, checkpoint: { minLogBytes: SPACE_POLICY_MIN_LOG } }))
})
