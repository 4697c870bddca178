import { describe, expect, it } from 'vitest'
import { TaskQueue } from './task-queue.js'

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
})
