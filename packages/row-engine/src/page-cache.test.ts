import { rowFactory, rowTinyCacheFactory } from '@strata/engine-factories'
import { pageCacheSuite } from '@strata/testkit'

pageCacheSuite(rowFactory, rowTinyCacheFactory)
