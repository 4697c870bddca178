import { describe, expect, it } from 'vitest'
import { GROUP_MAX_BYTES, GROUP_MAX_OPERATIONS, TaskQueue } from './task-queue.js'

describe('TaskQueue', () => {
  it('runs tasks one at a time in call order, and a failure does not stop the next', async () => {
    const queue = new TaskQueue()
    const order: string[] = []
    const task = (name: string, ms: number, fail = false) => () =>
      new Promise<string>((resolve, reject) => {
        order.push(`start ${name}`)
        setTimeout(() => {
          order.push(`end ${name}`)
          fail ? reject(new Error(name)) : resolve(name)
        }, ms)
      })
    const a = queue.run(task('a', 20))
    const b = queue.run(task('b', 1, true))
    const c = queue.run(task('c', 1))
    await expect(a).resolves.toBe('a')
    await expect(b).rejects.toThrow('b')
    await expect(c).resolves.toBe('c')
    await queue.settled()
    expect(order).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c'])
  })

  it('a failed check rejects at once and queues nothing', async () => {
    const queue = new TaskQueue()
    let release = () => {}
    void queue.run(() => new Promise<void>((resolve) => (release = resolve)))
    let ran = false
    const refused = queue.runChecked(
      () => {
        throw new TypeError('bad argument')
      },
      async () => {
        ran = true
      },
    )
    await expect(refused).rejects.toThrow(TypeError)
    release()
    await queue.settled()
    expect(ran).toBe(false)
    await expect(queue.runChecked(() => {}, async () => 'ok')).resolves.toBe('ok')
  })

  it('groups the items that join while a task runs, and fails a group as a whole', async () => {
    const queue = new TaskQueue()
    const groups: number[][] = []
    const commit = async (items: number[]) => {
      groups.push(items)
      await new Promise((resolve) => setTimeout(resolve, 5))
      if (items.includes(13)) throw new Error('sync failed')
    }
    const one = { bytes: 1, operations: 1 }
    const first = queue.joinGroup(1, one, commit)
    // The first group runs once this turn ends; these join the next one while it runs.
    await Promise.resolve()
    const rest = [11, 12, 13].map((i) => queue.joinGroup(i, one, commit))
    const after = queue.run(async () => 'after')
    const last = queue.joinGroup(21, one, commit)
    expect(await Promise.allSettled([first, ...rest, after, last])).toMatchObject([
      { status: 'fulfilled' },
      { status: 'rejected', reason: { message: 'sync failed' } },
      { status: 'rejected', reason: { message: 'sync failed' } },
      { status: 'rejected', reason: { message: 'sync failed' } },
      { status: 'fulfilled', value: 'after' },
      { status: 'fulfilled' },
    ])
    // A task queued in between closes the open group: 21 comes after it, in a group of its own.
    expect(groups).toEqual([[1], [11, 12, 13], [21]])
  })

  it('starts a new group when the open one would pass its bounds', async () => {
    const queue = new TaskQueue()
    const groups: number[][] = []
    const commit = async (items: number[]) => {
      groups.push(items)
    }
    const half = { bytes: GROUP_MAX_BYTES / 2, operations: 1 }
    await Promise.all([1, 2, 3, 4, 5].map((i) => queue.joinGroup(i, half, commit)))
    await Promise.all([1, 2, 3].map((i) => queue.joinGroup(i, { bytes: 1, operations: GROUP_MAX_OPERATIONS / 2 }, commit)))
    expect(groups).toEqual([[1, 2], [3, 4], [5], [1, 2], [3]])
  })
})
