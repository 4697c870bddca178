import { cowSharedFactory, cowTinyCacheFactory } from '@strata/engine-factories'
import { pageCacheSuite } from '@strata/testkit'

pageCacheSuite(cowSharedFactory, cowTinyCacheFactory)
