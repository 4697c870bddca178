import { Writable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { recoveryBar } from './progress.js'

/** A terminal that keeps what is written to it. */
function terminal(): { stream: NodeJS.WriteStream; text: () => string } {
  const chunks: string[] = []
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk))
      done()
    },
  }) as unknown as NodeJS.WriteStream & { isTTY: boolean; columns: number }
  stream.isTTY = true
  stream.columns = 120
  stream.cursorTo = ((_x: number, _y?: number) => true) as NodeJS.WriteStream['cursorTo']
  stream.clearLine = (() => true) as NodeJS.WriteStream['clearLine']
  stream.moveCursor = (() => true) as NodeJS.WriteStream['moveCursor']
  return { stream, text: () => chunks.join('') }
}

describe('recoveryBar', () => {
  it('draws the replay in MiB of log from the first report to the last', () => {
    const { stream, text } = terminal()
    const show = recoveryBar(stream)
    const logBytes = 40 * 1024 * 1024
    show({ logBytes, replayedBytes: 0, batches: 0, elapsedMs: 0, done: false })
    show({ logBytes, replayedBytes: 10 * 1024 * 1024, batches: 100, elapsedMs: 200, done: false })
    show({ logBytes, replayedBytes: 39 * 1024 * 1024, batches: 400, elapsedMs: 900, done: true })
    expect(text()).toContain('replaying log (MiB)')
    expect(text()).toMatch(/100% \| 40\/40/)
  })
})
