/** A count with thousands separators: `1,234,567`. */
export function count(n: number): string {
  return n.toLocaleString('en-US')
}

/** A byte count, exact and in binary units: `1,234,567 bytes (1.2 MiB)`. */
export function bytes(n: number): string {
  const units = ['KiB', 'MiB', 'GiB', 'TiB']
  let scaled = n
  let unit = ''
  for (const next of units) {
    if (scaled < 1024) break
    scaled /= 1024
    unit = next
  }
  return unit === '' ? `${count(n)} bytes` : `${count(n)} bytes (${scaled.toFixed(1)} ${unit})`
}

/** A ratio as a multiple with two decimals: `1.66×`. */
export function ratio(x: number): string {
  return `${x.toFixed(2)}×`
}

/** Rows of a label and a value, the labels padded to one width. */
export function table(rows: readonly (readonly [string, string])[]): string {
  const width = Math.max(...rows.map(([label]) => label.length)) + 2
  return rows.map(([label, value]) => `${label.padEnd(width)}${value}\n`).join('')
}
