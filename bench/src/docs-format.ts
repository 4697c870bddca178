/** Number formats shared by the generated docs. */

/** A ratio as `2.14×`, or `—` when unknown. */
export function times(n: number | undefined, digits = 2): string {
  return n === undefined || !Number.isFinite(n) ? '—' : `${n.toFixed(digits)}×`
}

/** A whole number with thousands separators. */
export function thousands(n: number): string {
  return Math.round(n).toLocaleString('en-US')
}

/** A share as a percentage: `3.1 %`. */
export function percent(n: number, digits = 1): string {
  return `${(100 * n).toFixed(digits)} %`
}

/** Bytes in binary units: `5.1 MiB`. */
export function bytes(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(1)} GiB`
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`
  if (n >= 2 ** 10) return `${(n / 2 ** 10).toFixed(1)} KiB`
  return `${n} B`
}

/** A rate for a table: `1.23 M`, `456.7 k`, `89`. */
export function rate(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return '—'
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`
  return n.toFixed(n < 10 ? 2 : 0)
}

/** A value size as the docs name it: `100 B`, `4 KiB`. */
export function valueSize(n: number): string {
  return n >= 1024 && n % 1024 === 0 ? `${n / 1024} KiB` : `${n} B`
}

/** ✅ or ❌ for a target met or missed. */
export function mark(ok: boolean): string {
  return ok ? '✅ met' : '❌ not met'
}
