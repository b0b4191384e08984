#!/usr/bin/env node
// `npm test`: builds the project and, at the same time, installs the Debian packages the tests
// drive (scripts/ensure-test-tools.mjs): apt-get waits on the network and the disk while the
// TypeScript build holds a core, so on a fresh machine the two overlap instead of adding up.
// Then runs every test (scripts/run-tests.mjs, arguments passed on as its filters).
import {spawn} from 'node:child_process'

/** Runs `node ARGS` with this process's stdout and stderr; resolves with its exit code. */
function run(args, stdin = 'ignore') {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, {stdio: [stdin, 'inherit', 'inherit']})
    child.on('error', (err) => {
      console.error(`${args.join(' ')}: ${err.message}`)
      resolve(1)
    })
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)))
  })
}

// npm sets npm_execpath to its CLI script when it runs this; a direct `node scripts/test.mjs`
// finds npm beside node.
const npm = process.env.npm_execpath || new URL('../lib/node_modules/npm/bin/npm-cli.js', `file://${process.execPath}`).pathname
const tools = run(['scripts/ensure-test-tools.mjs'])
const built = await run([npm, 'run', 'build'])
await tools
if (built !== 0) process.exit(built)
const tested = await run(['scripts/run-tests.mjs', ...process.argv.slice(2)], 'inherit')
process.exit(tested)
