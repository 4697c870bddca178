import { asyncGetCases } from '@strata/testkit'
import { RowEngine } from './row-engine.js'

const small = { pageSize: 512, segmentBytes: 16 * 1024, checkpoint: { minLogBytes: 2048, maxLogBytes: 16 * 1024, slicePages: 4 }, cacheSize: 4 * 1024 }

asyncGetCases('RowEngine', (fs) => RowEngine.open({ fs, ...small }))
