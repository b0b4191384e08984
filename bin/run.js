#!/usr/bin/env node
import {Config, execute} from '@oclif/core'
import {hoistTopicFlags} from '../dist/src/cli/argv.js'

const config = await Config.load(import.meta.url)
await execute({args: hoistTopicFlags(process.argv.slice(2), config.commands), loadOptions: config})
