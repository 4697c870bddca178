/**
 * Zipfian ranks, as YCSB draws them (Gray et al., "Quickly generating billion-record synthetic
 * databases", SIGMOD 1994): rank 0 is the hottest item, and item i is drawn with probability
 * proportional to 1 / (i + 1)^θ. θ = 0.99 is YCSB's default hot set: about a fifth of the draws
 * land on the hottest 1 % of the items.
 */
export class Zipfian {
  readonly #items: number
  readonly #theta: number
  readonly #alpha: number
  readonly #zetaN: number
  readonly #eta: number
  readonly #random: () => number

  constructor(items: number, random: () => number, theta = 0.99) {
    if (!(items >= 2) || !Number.isInteger(items)) throw new RangeError('a zipfian needs at least 2 items')
    this.#items = items
    this.#theta = theta
    this.#random = random
    this.#alpha = 1 / (1 - theta)
    this.#zetaN = zeta(items, theta)
    this.#eta = (1 - (2 / items) ** (1 - theta)) / (1 - zeta(2, theta) / this.#zetaN)
  }

  /** The next rank, in [0, items). */
  next(): number {
    const u = this.#random()
    const uz = u * this.#zetaN
    if (uz < 1) return 0
    if (uz < 1 + 0.5 ** this.#theta) return 1
    return Math.min(this.#items - 1, Math.floor(this.#items * (this.#eta * u - this.#eta + 1) ** this.#alpha))
  }
}

function zeta(n: number, theta: number): number {
  let sum = 0
  for (let i = 1; i <= n; i++) sum += 1 / i ** theta
  return sum
}
