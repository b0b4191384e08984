import {ERROR_REGISTRY} from './registry.js'

/** The text of docs/errors.md, generated from the registry (`node scripts/gen-error-docs.mjs`). */
export function renderErrorDocs(): string {
  const rows = Object.entries(ERROR_REGISTRY).map(([code, e]) => `| \`${code}\` | ${e.exit} | ${e.summary} |`)
  return [
    '# Error codes',
    '',
    'Every expected failure prints one line on stderr: what went wrong (and where: file and line',
    'for bad input), the stable code in brackets, and a hint when there is one, e.g.',
    '',
    '```',
    'missing required flag --contract [USAGE]; hint: see pipelock learn shadow --help',
    '```',
    '',
    'With `--json` the same failure is one JSON object on stdout and nothing else is printed there:',
    '',
    '```',
    '{"error":{"code":"USAGE","message":"missing required flag --contract","exit":2,"hint":"see pipelock learn shadow --help"}}',
    '```',
    '',
    '(`file` and `line` are added when known). On stderr, control characters in the line (a value you',
    'passed may hold an escape sequence or a line break) are shown as `?`; the JSON escapes them.',
    'Two flags that cannot be given together are named without the values given',
    '(`--config cannot also be provided when using --preset`): a key on the command line is not echoed.',
    'The exit status is the one below, with or without',
    '`--json`. A stack trace means a bug (under `--json`: code `INTERNAL`, exit 70, the stack on stderr).',
    'Usage errors (a wrong flag or argument) exit 2 in every command; `verify-receipt` also uses 3',
    '(no key given) and 4 (not verifiable by this version): see receipts.md. A config that cannot be',
    'loaded keeps the documented status of the pre-flight commands (operations.md): `check` and',
    '`audit score` exit 1, `doctor` 2, whatever the code; their line starts with the command\'s own',
    'prefix (`Config validation FAILED: `, `loading config: `, `config load error: `), and the JSON',
    'object (no prefix) states that `exit`.',
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
