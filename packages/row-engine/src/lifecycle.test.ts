import { rowFactory } from '@strata/engine-factories'
import { engineLifecycle } from '@strata/testkit'

engineLifecycle(rowFactory)
