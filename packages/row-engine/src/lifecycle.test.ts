import { engineLifecycle } from '@strata/testkit'
import { rowFactory } from './row-factory.js'

engineLifecycle(rowFactory)
