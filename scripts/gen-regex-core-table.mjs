#!/usr/bin/env node
// Writes dist/src/plugins/scanner/regex-core-table.json: the §5.5 junction screen's pattern cores
// for the built-in DLP patterns, so a scanner build looks them up instead of analysing every
// pattern again (src/plugins/scanner/regex-core-table.ts; part of `npm run build`, after tsc and
// before the run bundle). The cap is the screen's (src/plugins/scanner/subsequence.ts).
import {writeFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {builtinRegexCores, REGEX_CORE_TABLE_URL} from '../dist/src/plugins/scanner/regex-core-table.js'
import {JUNCTION_CORE_CAP} from '../dist/src/plugins/scanner/subsequence.js'

const table = builtinRegexCores(JUNCTION_CORE_CAP)
writeFileSync(fileURLToPath(REGEX_CORE_TABLE_URL), JSON.stringify(table) + '\n')
console.log(`regex-core-table.json: ${Object.keys(table.cores).length} patterns`)
