#!/usr/bin/env node
// Writes oclif.manifest.json from the built commands (part of `npm run build`). With the
// manifest, the CLI loads only the command it runs instead of importing every command file:
// start-up time matters for scripts and CI that call pipelock many times.
import {rmSync, writeFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {Config} from '@oclif/core'

const root = fileURLToPath(new URL('..', import.meta.url))
// oclif loads commands from an existing manifest when there is one: remove it first, or a
// command added since the last build would never make it into the new manifest.
rmSync(new URL('../oclif.manifest.json', import.meta.url), {force: true})
const config = await Config.load({root, devPlugins: false, userPlugins: false})
const plugin = config.plugins.get(config.pjson.name)
if (!plugin) throw new Error('root plugin not found')
const manifest = {...plugin.manifest, version: config.version}
// `run` is loaded from its bundle (scripts/bundle-run.mjs, bench: startup): same class, fewer files.
if (manifest.commands.run === undefined) throw new Error('run command missing from the manifest')
manifest.commands.run = {...manifest.commands.run, relativePath: ['dist', 'run', 'run.js']}
writeFileSync(new URL('../oclif.manifest.json', import.meta.url), JSON.stringify(manifest, null, 2) + '\n')
console.log(`oclif.manifest.json: ${Object.keys(manifest.commands).length} commands`)
