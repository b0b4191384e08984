#!/usr/bin/env node
// Development entry: same as run.js, with oclif's development mode (stack traces for bugs).
import {Config, execute} from '@oclif/core'
import {hoistTopicFlags} from '../dist/src/cli/argv.js'

const config = await Config.load({root: import.meta.url, development: true})
await execute({development: true, args: hoistTopicFlags(process.argv.slice(2), config.commands), loadOptions: config})
