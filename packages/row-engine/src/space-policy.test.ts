import { SPACE_POLICY_MIN_LOG, spacePolicyCases } from '@strata/testkit'
import { describe } from 'vitest'
import { RowEngine } from './row-engine.js'

/**
 * The space policy (docs/architecture.md §Reclamation): without any explicit compaction, the files
 * stay within max(1.5 × live bytes, live bytes + minLogBytes) plus what named snapshots alone keep.
 * 1 KiB pages, 64 KiB segments, checkpoints after 16 KiB of log or more: the default shape scaled down.
 */
describe('RowEngine space policy', () => {
  spacePolicyCases((fs) => RowEngine.open({ fs, pageSize: 1024, segmentBytes: 64 * 1024, checkpoint: { minLogBytes: SPACE_POLICY_MIN_LOG } }))
})
