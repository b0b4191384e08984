import {ERROR_REGISTRY} from './registry.js'

/** The text of docs/errors.md, generated from the registry (`node scripts/gen-error-docs.mjs`). */
export function renderErrorDocs(): string {
  const rows = Object.entries(ERROR_REGISTRY).map(([code, e]) => `| \`${code}\` | ${e.exit} | ${e.summary} |`)
  return [
    '# Error codes',
    '',
    'Every expected failure prints one line on stderr (what went wrong, and where: file and line',
    'for bad input), optionally followed by a `hint:` line, and exits with the status below. A stack',
    'trace means a bug. With `--json`, commands that return a typed result still use these exit',
    'statuses.',
    '',
    'This file is generated from `src/plugins/errors/registry.ts` by `node scripts/gen-error-docs.mjs`;',
    'a test fails when they disagree.',
    '',
    '| code | exit | meaning |',
    '|---|---|---|',
    ...rows,
    '',
  ].join('\n')
}
