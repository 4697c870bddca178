import { mkdirSync } from 'node:fs'
import { join, relative } from 'node:path'
import { type ChartSpec, writeSvg } from './svg-chart.js'

/** Writes the docs' charts into one folder and gives the markdown that shows each. */
export class ChartWriter {
  readonly #imgDir: string
  readonly #pageDir: string
  readonly written: string[] = []

  /** Charts go to `imgDir`; links are relative to `pageDir`, where the markdown page lives. */
  constructor(imgDir: string, pageDir: string) {
    mkdirSync(imgDir, { recursive: true })
    this.#imgDir = imgDir
    this.#pageDir = pageDir
  }

  /** Renders `spec` as `<name>.svg` and returns the markdown image that shows it. */
  async chart(name: string, alt: string, spec: ChartSpec): Promise<string> {
    const path = join(this.#imgDir, `${name}.svg`)
    await writeSvg(path, spec)
    this.written.push(path)
    return `![${alt}](${relative(this.#pageDir, path).split('\\').join('/')})`
  }
}
