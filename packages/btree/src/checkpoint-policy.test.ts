import { describe, expect, it } from 'vitest'
import { checkPositiveFields, DEFAULT_LOG_CHECKPOINT_POLICY } from './checkpoint-policy.js'

describe('the checkpoint policy both engines share', () => {
  it('takes positive numbers, and names the field that is not one in a RangeError', () => {
    expect(checkPositiveFields({ ...DEFAULT_LOG_CHECKPOINT_POLICY, slicePages: 4 })).toEqual({ ...DEFAULT_LOG_CHECKPOINT_POLICY, slicePages: 4 })
    expect(() => checkPositiveFields({ ...DEFAULT_LOG_CHECKPOINT_POLICY, ratio: 0 })).toThrow(new RangeError('checkpoint.ratio must be a positive number'))
    expect(() => checkPositiveFields({ ...DEFAULT_LOG_CHECKPOINT_POLICY, minLogBytes: Number.NaN })).toThrow(RangeError)
    expect(() => checkPositiveFields({ ...DEFAULT_LOG_CHECKPOINT_POLICY, maxLogBytes: '1' as unknown as number })).toThrow(RangeError)
  })
})
