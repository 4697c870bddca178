#!/usr/bin/env node
// Strata as a user installs it: packs every published package of the workspace with pnpm (which
// replaces `workspace:*` with versions), installs the tarballs together into an empty project with
// plain npm (no pnpm, no workspace), and there runs a short program on `strata` and the `strata`
// command. Run it after a build (`npm run test:packages` builds first); CI runs it after `npm test`.
// Exits 1 if a check fails, leaving the temporary project in place to look at.
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const PNPM = 'pnpm@12.21.0'
const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const work = mkdtempSync(join(tmpdir(), 'strata-packages-'))
const tarballs = join(work, 'tarballs')
const project = join(work, 'project')

/** The same pnpm as scripts/setup.mjs: the one on PATH if it is that version, else through npx. */
function pnpm(args, options) {
  let onPath = false
  try {
    onPath = execFileSync('pnpm', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() === PNPM.split('@')[1]
  } catch {}
  return onPath ? execFileSync('pnpm', args, options) : execFileSync('npx', ['--yes', PNPM, ...args], options)
}

/** Runs a command in the project; its status and output. */
function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: project, encoding: 'utf8', timeout: 300_000, ...options })
  if (result.error) throw result.error
  return { status: result.status, stdout: result.stdout, stderr: result.stderr }
}

/** The manifest of each workspace package under packages/, by folder. */
const manifests = readdirSync(join(root, 'packages'))
  .filter((name) => existsSync(join(root, 'packages', name, 'package.json')))
  .map((name) => ({ dir: join(root, 'packages', name), manifest: JSON.parse(readFileSync(join(root, 'packages', name, 'package.json'), 'utf8')) }))
const published = manifests.filter((p) => p.manifest.private !== true)
const privateNames = new Set(manifests.filter((p) => p.manifest.private === true).map((p) => p.manifest.name))
for (const name of ['@strata/bench', '@strata/api-docs']) privateNames.add(name)

const checks = []
/** Records a check: a sentence about what a user would notice, and a function that throws when it is false. */
const check = (name, fn) => checks.push({ name, fn })
const assert = (condition, message) => {
  if (!condition) throw new Error(message)
}

// 1. Pack the published packages (pnpm -r pack, filtered to them) into one folder.
mkdirSync(tarballs)
console.log(`packing ${published.map((p) => p.manifest.name).join(', ')}`)
pnpm(['-r', ...published.flatMap((p) => ['--filter', p.manifest.name]), 'pack', '--pack-destination', tarballs], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] })
const files = readdirSync(tarballs).filter((f) => f.endsWith('.tgz'))

/** The paths in a tarball, and its package.json. */
function contents(file) {
  const list = execFileSync('tar', ['-tzf', join(tarballs, file)], { encoding: 'utf8' }).split('\n').filter(Boolean)
  const manifest = JSON.parse(execFileSync('tar', ['-xzOf', join(tarballs, file), 'package/package.json'], { encoding: 'utf8' }))
  return { list, manifest }
}

check('every published package is packed, and no private one', () => {
  assert(files.length === published.length, `${files.length} tarballs for ${published.length} published packages: ${files.join(', ')}`)
})

check('each tarball names real versions, no workspace: ranges, and no private package among its dependencies', () => {
  for (const file of files) {
    const { manifest } = contents(file)
    const deps = { ...manifest.dependencies, ...manifest.peerDependencies, ...manifest.optionalDependencies }
    for (const [name, range] of Object.entries({ ...deps, ...manifest.devDependencies })) assert(!String(range).startsWith('workspace:'), `${file}: ${name}@${range}`)
    for (const name of Object.keys(deps)) assert(!privateNames.has(name), `${file} depends on the private ${name}`)
  }
})

check('each tarball has a description, license, engines, types, files and a README, and ships no tests', () => {
  for (const file of files) {
    const { list, manifest } = contents(file)
    for (const field of ['description', 'license', 'engines', 'types', 'files']) assert(manifest[field] !== undefined, `${file}: no ${field}`)
    assert(list.includes('package/README.md'), `${file}: no README.md`)
    assert(list.includes(`package/${manifest.types.replace(/^\.\//, '')}`), `${file}: no ${manifest.types}`)
    const stray = list.filter((p) => /\.test\.|test-support|-factory\.|\/src\//.test(p))
    assert(stray.length === 0, `${file} ships ${stray.join(', ')} (a stale dist/? remove packages/*/dist and build again)`)
    assert(!JSON.stringify(manifest.exports ?? {}).includes('"source"'), `${file}: exports name the unshipped source`)
  }
})

// 2. Install them together into an empty project with npm.
mkdirSync(project)
writeFileSync(join(project, 'package.json'), `${JSON.stringify({ name: 'strata-user', version: '1.0.0', private: true, type: 'module' }, null, 2)}\n`)
const install = run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...files.map((f) => join(tarballs, f))])
check('npm installs the tarballs into an empty project', () => {
  assert(install.status === 0, `npm install exited with ${install.status}:\n${install.stderr}`)
})

check('the install brings none of the benchmark and its peers (lmdb, classic-level, level)', () => {
  for (const name of ['@strata/bench', 'lmdb', 'classic-level', 'level']) assert(!existsSync(join(project, 'node_modules', name)), `node_modules/${name} is installed`)
})

// 3. A program that uses it as an application would.
const program = `import { StrataLevel } from 'strata'
const db = new StrataLevel('./data', { valueEncoding: 'json' })
await db.open()
await db.put('order:1', { total: 12 })
await db.batch([{ type: 'put', key: 'order:2', value: { total: 30 } }, { type: 'put', key: 'order:3', value: { total: 5 } }])
const snapshot = db.snapshot()
await db.put('order:1', { total: 99 })
const atSnapshot = await db.get('order:1', { snapshot })
await snapshot.close()
await db.snapshots.create('end-of-day')
await db.del('order:2')
await db.close()

const again = new StrataLevel('./data', { valueEncoding: 'json' })
await again.open()
const view = again.snapshots.view('end-of-day')
const out = {
  atSnapshot,
  head: await again.get('order:1'),
  deleted: await again.get('order:2'),
  named: (await view.get('order:2')) ?? null,
  names: again.snapshots.list().map((s) => s.name),
}
await view.close()
await again.close()
console.log(JSON.stringify(out))
`
writeFileSync(join(project, 'program.mjs'), program)
check("a program imports { StrataLevel } from 'strata', writes, snapshots, reopens and reads it back", () => {
  const result = run(process.execPath, ['program.mjs'])
  assert(result.status === 0, `the program exited with ${result.status}:\n${result.stderr}`)
  const out = JSON.parse(result.stdout)
  assert(out.atSnapshot.total === 12, `the snapshot read ${JSON.stringify(out.atSnapshot)}`)
  assert(out.head.total === 99, `after reopening, order:1 is ${JSON.stringify(out.head)}`)
  assert(out.deleted === undefined, `after reopening, the deleted order:2 is ${JSON.stringify(out.deleted)}`)
  assert(out.named?.total === 30, `the named snapshot reads order:2 as ${JSON.stringify(out.named)}`)
  assert(JSON.stringify(out.names) === '["end-of-day"]', `named snapshots after reopening: ${JSON.stringify(out.names)}`)
})

// 4. The command, as npx finds it in the project.
const strata = (...args) => run('npx', ['--no', '--', 'strata', ...args])

check('npx strata --version prints the version of @strata/cli', () => {
  const result = strata('--version')
  const version = published.find((p) => p.manifest.name === '@strata/cli').manifest.version
  assert(result.status === 0 && result.stdout.trim() === version, `status ${result.status}, stdout ${JSON.stringify(result.stdout)}, stderr ${result.stderr}`)
})

check('npx strata info shows the database the program made', () => {
  const result = strata('info', './data', '--json')
  assert(result.status === 0, `status ${result.status}: ${result.stderr}`)
  const info = JSON.parse(result.stdout)
  assert(info.engine === 'row', `engine ${JSON.stringify(info.engine)}`)
  assert(JSON.stringify(info.snapshots.map((s) => s.name)) === '["end-of-day"]', `named snapshots in ${result.stdout}`)
  const text = strata('info', './data')
  assert(text.status === 0 && text.stdout.includes('end-of-day'), `status ${text.status}: ${text.stdout}${text.stderr}`)
})

check('npx strata check finds the database sound (status 0)', () => {
  const result = strata('check', './data')
  assert(result.status === 0, `status ${result.status}: ${result.stdout}${result.stderr}`)
})

check('npx strata get reads a value the program wrote', () => {
  const result = strata('get', './data', 'order:3')
  assert(result.status === 0 && result.stdout.includes('"total":5'), `status ${result.status}: ${result.stdout}${result.stderr}`)
})

check('npx strata bench says where the benchmark runs and exits with status 14', () => {
  const result = strata('bench', '--quick')
  assert(result.status === 14, `status ${result.status}: ${result.stdout}${result.stderr}`)
  assert(result.stderr.includes('STRATA_BENCH_UNAVAILABLE') && result.stderr.includes('clone of the Strata repository'), result.stderr)
})

// 5. Report.
let failed = 0
for (const { name, fn } of checks) {
  try {
    fn()
    console.log(`  ok    ${name}`)
  } catch (error) {
    failed++
    console.log(`  FAIL  ${name}\n        ${String(error.message).replace(/\n/g, '\n        ')}`)
  }
}
if (failed === 0) rmSync(work, { recursive: true, force: true })
else console.log(`the packed tarballs and the project are left in ${work}`)
console.log(`packages: ${checks.length - failed} passed, ${failed} failed`)
process.exitCode = failed === 0 ? 0 : 1
