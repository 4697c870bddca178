import { describe, expect, it } from 'vitest'
import { parseSuiteArgs } from './suite-options.js'

describe('the suite options', () => {
  it('a full run by default: all parts, docs left to the default', () => {
    const options = parseSuiteArgs([])
    expect(options).toMatchObject({ quick: false, out: undefined, only: undefined, docs: undefined, peersDir: undefined })
  })

  it('takes a quick run of some parts with its folders', () => {
    expect(parseSuiteArgs(['--quick', '--only', 'study, peers, clone', '--out', 'r', '--dir', 'd', '--peers-dir', 'p', '--no-docs'])).toEqual({
      quick: true,
      out: 'r',
      dir: 'd',
      peersDir: 'p',
      only: ['study', 'peers', 'clone'],
      docs: false,
      docsDir: undefined,
    })
  })

  it('rejects an unknown part and contradicting docs flags as the caller\'s mistake', () => {
    expect(() => parseSuiteArgs(['--only', 'engine,speed'])).toThrow(RangeError)
    expect(() => parseSuiteArgs(['--docs', '--no-docs'])).toThrow(RangeError)
  })
})
