import { cowFactories } from '@strata/engine-factories'
import { engineLifecycle } from '@strata/testkit'

for (const factory of cowFactories) engineLifecycle(factory)
