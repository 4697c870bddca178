import { groupCommitCases } from '@strata/testkit'
import { describe } from 'vitest'
import { RowEngine } from './row-engine.js'

describe('RowEngine group commit', () => {
  groupCommitCases((fs) => RowEngine.open({ fs, pageSize: 1024, segmentBytes: 64 * 1024, checkpoint: { minLogBytes: 16 * 1024 } }))
})
