/**
 * Charts as SVG files, rendered in Node without a browser: a Vega-Lite spec is compiled to Vega,
 * and Vega's headless View draws it with its SVG renderer. Both are the Vega project's own,
 * well-kept packages; no canvas or browser build is needed.
 */
import { writeFileSync } from 'node:fs'
import { parse, View } from 'vega'
import { compile, type TopLevelSpec } from 'vega-lite'

/** A chart's spec without the parts every chart of the docs shares (schema, theme). */
export type ChartSpec = TopLevelSpec extends infer S ? (S extends unknown ? Omit<S, '$schema' | 'config'> : never) : never

/** The look every chart shares: plain, readable on a white page, the same colours for the same things. */
const THEME = {
  font: 'Helvetica, Arial, sans-serif',
  background: 'white',
  padding: 8,
  view: { stroke: '#ddd' },
  axis: { labelFontSize: 11, titleFontSize: 12, gridColor: '#eee' },
  legend: { labelFontSize: 11, titleFontSize: 12, orient: 'bottom' },
  header: { labelFontSize: 12, titleFontSize: 12 },
  title: { fontSize: 14, anchor: 'start', offset: 10 },
  line: { strokeWidth: 2 },
  point: { size: 40, filled: true },
} as const

/** The colour of each variant and store, so that a line keeps its colour from chart to chart. */
export const COLOURS: Record<string, string> = {
  row: '#1f77b4',
  'cow-per-snapshot': '#d62728',
  'cow-shared': '#ff7f0e',
  'strata-row': '#1f77b4',
  'strata-cow': '#ff7f0e',
  'StrataLevel row': '#6baed6',
  'StrataLevel cow': '#fdae6b',
  level: '#2ca02c',
  lmdb: '#9467bd',
  'memory-level': '#7f7f7f',
  'row-link': '#1f77b4',
  'row-link, no snapshot': '#9edae5',
  'row-copy': '#6baed6',
  cow: '#ff7f0e',
  export: '#8c564b',
}

/** A Vega-Lite colour scale that maps each of `domain` to its colour in {@link COLOURS}. */
export function colourScale(domain: readonly string[]): { domain: string[]; range: string[] } {
  return { domain: [...domain], range: domain.map((d) => COLOURS[d] ?? '#333') }
}

/** Renders `spec` to an SVG document. */
export async function renderSvg(spec: ChartSpec): Promise<string> {
  const full = { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', config: THEME, ...spec } as TopLevelSpec
  const view = new View(parse(compile(full).spec), { renderer: 'none' })
  try {
    return await view.toSVG()
  } finally {
    view.finalize()
  }
}

/** Renders `spec` into the SVG file at `path`. */
export async function writeSvg(path: string, spec: ChartSpec): Promise<void> {
  writeFileSync(path, `${await renderSvg(spec)}\n`)
}
