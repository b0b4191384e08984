#!/usr/bin/env node
// Regenerates docs/errors.md from the compiled error registry (run `npm run build` first).
import {writeFileSync} from 'node:fs'
import {renderErrorDocs} from '../dist/src/plugins/errors/index.js'

writeFileSync(new URL('../docs/errors.md', import.meta.url), renderErrorDocs())
console.log('docs/errors.md written')
