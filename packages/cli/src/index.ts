export { type DemoOptions, type DemoResult, runDemo } from './demo.js'
