import { asyncGetCases } from '@strata/testkit'
import { CowEngine } from './cow-engine.js'

const small = { pageSize: 512, checkpoint: { minLogBytes: 2048, maxLogBytes: 16 * 1024 }, cacheSize: 4 * 1024 }

for (const store of ['shared', 'per-snapshot'] as const) {
  asyncGetCases(`CowEngine (${store})`, (fs) => CowEngine.open({ fs, store, ...small }))
}
