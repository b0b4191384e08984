#!/usr/bin/env node
// Rewrites test/snapshots/commands.json from the built CLI (run `npm run build` first).
import {mkdirSync, writeFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {commandSnapshot} from '../dist/src/cli/command-snapshot.js'

const root = fileURLToPath(new URL('..', import.meta.url))
mkdirSync(new URL('../test/snapshots/', import.meta.url), {recursive: true})
writeFileSync(new URL('../test/snapshots/commands.json', import.meta.url), JSON.stringify(await commandSnapshot(root), null, 2) + '\n')
console.log('test/snapshots/commands.json written')
