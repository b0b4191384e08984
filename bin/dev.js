#!/usr/bin/env node
// Development entry: same as run.js, with oclif's development mode (stack traces for bugs).
import {execute} from '@oclif/core'

await execute({development: true, dir: import.meta.url})
