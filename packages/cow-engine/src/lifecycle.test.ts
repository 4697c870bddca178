import { engineLifecycle } from '@strata/testkit'
import { cowFactories } from './cow-factory.js'

for (const factory of cowFactories) engineLifecycle(factory)
