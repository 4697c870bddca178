import { replayCases } from '@strata/testkit'
import { describe } from 'vitest'
import { RowEngine } from './row-engine.js'

describe('RowEngine replay', () => {
  replayCases((fs, options) => RowEngine.open({ fs, pageSize: 1024, segmentBytes: 256 * 1024, ...options }))
})
