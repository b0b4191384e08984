#!/usr/bin/env node
// Writes oclif.manifest.json from the built commands (part of `npm run build`). With the
// manifest, the CLI loads only the command it runs instead of importing every command file:
// start-up time matters for scripts and CI that call pipelock many times.
import {existsSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'
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
// Every command is loaded from its bundle (scripts/bundle-run.mjs, bench: startup): same class,
// fewer files. `run` is dist/run/run.js, the others dist/run/commands/<path below dist/src/commands>.
if (manifest.commands.run === undefined) throw new Error('run command missing from the manifest')
for (const [id, command] of Object.entries(manifest.commands)) {
  const [dist, src, commands, ...rest] = command.relativePath
  if (dist !== 'dist' || src !== 'src' || commands !== 'commands' || rest.length === 0) throw new Error(`${id}: unexpected path ${command.relativePath.join('/')}`)
  const relativePath = id === 'run' ? ['dist', 'run', 'run.js'] : ['dist', 'run', 'commands', ...rest]
  if (!existsSync(path.join(root, ...relativePath))) throw new Error(`${id}: its bundle ${relativePath.join('/')} is missing (scripts/bundle-run.mjs)`)
  manifest.commands[id] = {...command, relativePath}
}
writeFileSync(new URL('../oclif.manifest.json', import.meta.url), JSON.stringify(manifest, null, 2) + '\n')
console.log(`oclif.manifest.json: ${Object.keys(manifest.commands).length} commands`)
