import { replayCases } from '@strata/testkit'
import { describe } from 'vitest'
import { CowEngine } from './cow-engine.js'

describe('CowEngine replay', () => {
  replayCases((fs, options) => CowEngine.open({ fs, pageSize: 1024, ...options }))
})
