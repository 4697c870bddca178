/** Measurement helpers: several rounds, and the median of them, since this machine is shared and noisy. */

/** The median of `values`. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

/**
 * Runs `round` `rounds` times; each returns how many operations it did. Returns ops/s per round.
 * Garbage left by earlier phases is collected first (when node runs with --expose-gc), so a round
 * does not pay for another store's or another phase's allocations.
 */
export async function rate(rounds: number, round: () => number | Promise<number>): Promise<number[]> {
  const out: number[] = []
  ;(globalThis as { gc?: () => void }).gc?.()
  for (let i = 0; i < rounds; i++) {
    const start = process.hrtime.bigint()
    const ops = await round()
    const seconds = Number(process.hrtime.bigint() - start) / 1e9
    out.push(ops / seconds)
  }
  return out
}

/** A deterministic generator (xorshift32), so every store sees the same keys in the same order. */
export function random(seed: number): () => number {
  let s = seed >>> 0 || 1
  return () => {
    s ^= s << 13
    s ^= s >>> 17
    s ^= s << 5
    return (s >>> 0) / 2 ** 32
  }
}

/** The i-th benchmark key: 16 bytes, spread so that key order is not insertion order. */
export function benchKey(i: number): Buffer {
  const buf = Buffer.alloc(16)
  buf.write('k', 0)
  // A multiplicative hash spreads consecutive indexes over the key space.
  const spread = (Math.imul(i, 2654435761) >>> 0).toString(16).padStart(8, '0')
  buf.write(spread, 1)
  buf.write(i.toString(16).padStart(7, '0'), 9)
  return buf
}

/** A 100-byte (or `size`-byte) value that differs by round. */
export function benchValue(i: number, round: number, size = 100): Buffer {
  const buf = Buffer.alloc(size, (i + round) & 0xff)
  buf.writeUInt32LE(i >>> 0, 0)
  buf.writeUInt32LE(round >>> 0, 4)
  return buf
}

/** Formats a number for a table: ops/s as k or M, ratios with two decimals. */
export function formatRate(value: number | undefined): string {
  if (value === undefined || Number.isNaN(value)) return '—'
  if (value >= 1e6) return `${(value / 1e6).toFixed(2)} M`
  if (value >= 1e3) return `${(value / 1e3).toFixed(1)} k`
  return value.toFixed(value < 10 ? 2 : 0)
}

/** A plain-text table with a header row. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ')
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n')
}

/** A markdown table. */
export function markdownTable(header: string[], rows: string[][]): string {
  return [`| ${header.join(' | ')} |`, `| ${header.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n')
}

/** Key numbers 0 to `keys` − 1 in a random order, the same in every run (a load in random order). */
export function shuffledKeys(keys: number): Uint32Array {
  const order = new Uint32Array(keys)
  for (let i = 0; i < keys; i++) order[i] = i
  const rand = random(7)
  for (let i = keys - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1))
    const t = order[i] as number
    order[i] = order[j] as number
    order[j] = t
  }
  return order
}
