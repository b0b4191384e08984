#!/usr/bin/env node
// Runs every compiled *.test.js under dist/test whose TypeScript source still exists
// (so a stale file in dist never runs), with node's test runner.
// Usage: node scripts/run-tests.mjs [substring filter…]
import {existsSync, readdirSync, statSync} from 'node:fs'
import path from 'node:path'
import {spawnSync} from 'node:child_process'

const root = path.resolve('dist/test')
const filters = process.argv.slice(2)
const files = []
const walk = (dir) => {
  for (const name of readdirSync(dir).sort()) {
    const p = path.join(dir, name)
    if (statSync(p).isDirectory()) walk(p)
    else if (name.endsWith('.test.js')) {
      const source = path.join('test', path.relative(root, p)).replace(/\.js$/, '.ts')
      if (!existsSync(source)) continue
      if (filters.length === 0 || filters.some((f) => p.includes(f))) files.push(p)
    }
  }
}
if (existsSync(root)) walk(root)
if (files.length === 0) {
  console.error(`no test files found under ${root}${filters.length ? ` matching ${filters.join(', ')}` : ''}`)
  process.exit(1)
}
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=2', ...files], {stdio: 'inherit'})
process.exit(r.status ?? 1)
