import assert from 'node:assert/strict'
import {test} from 'node:test'
import {runCli} from '../helpers/cli.js'

// --help of the MCP commands (and sandbox) as a user sees it on an 80-column terminal: paragraphs
// wrap once, examples stay pasteable, USAGE shows what is required.

const help = (args: string[]): string => {
  const r = runCli([...args, '--help'], {env: {OCLIF_COLUMNS: '80'}})
  assert.equal(r.status, 0, r.stderr)
  return r.stdout
}

/** The DESCRIPTION section's lines. */
const description = (out: string): string[] => out.slice(out.indexOf('DESCRIPTION\n'), out.indexOf('\nEXAMPLES\n')).split('\n')

test('mcp scan --help: exact text; the example fits on one line', () => {
  assert.equal(help(['mcp', 'scan']), SCAN_HELP)
})

test('mcp integrity manifest generate --help: USAGE shows -o as required', () => {
  assert.equal(help(['mcp', 'integrity', 'manifest', 'generate']), GENERATE_HELP)
})

test('mcp integrity manifest verify --help: USAGE shows the -- COMMAND the command requires', () => {
  const out = help(['mcp', 'integrity', 'manifest', 'verify'])
  assert.equal(
    out.slice(out.indexOf('USAGE\n'), out.indexOf('\nFLAGS\n')),
    'USAGE\n  $ pipelock mcp integrity manifest verify --manifest <value> [--workdir <value>] [--json]\n    -- COMMAND [ARGS...]\n',
  )
  // without it, the command says what is missing
  const r = runCli(['mcp', 'integrity', 'manifest', 'verify', '--manifest', 'm.json'])
  assert.equal(r.status, 2)
  assert.equal(r.stderr, 'specify the server command after -- [USAGE]\n')
})

/** The DESCRIPTION holds the lines `want`, in a row, from the first one on. */
function assertDescribed(args: string[], want: string[]): void {
  const d = description(help(args))
  const at = d.indexOf(want[0]!)
  assert.ok(at >= 0, `no line ${want[0]} in:\n${d.join('\n')}`)
  assert.deepEqual(d.slice(at, at + want.length), want)
}

test('mcp proxy --help: paragraphs are wrapped once (no fragment lines)', () => {
  assertDescribed(['mcp', 'proxy'], [
    '  Runs an MCP server as a child process and sits on its stdio: every',
    '  client→server message goes through input scanning (DLP, split secrets,',
    '  injection), tool-call policy, session binding and chain detection; every',
    '  server→client message through the kill switch, confused-deputy tracking, media',
    '  policy, tool-definition scanning (poisoning, rug-pull drift) and injection',
    '  scanning. Blocked requests get a JSON-RPC error; the server never sees them.',
    '  Log lines go to stderr.',
  ])
  assertDescribed(['mcp', 'proxy'], [
    '  Transports:',
    '  - -- COMMAND ARGS: run the server as a child on stdio (its own process group,',
    '  filtered environment, stderr passed through).',
  ])
})

test('sandbox --help: paragraphs are wrapped once (no fragment lines)', () => {
  assertDescribed(['sandbox'], [
    '  Linux only; needs bubblewrap (Debian package bubblewrap). Three layers',
    '  (docs/sandbox.md):',
    '  - filesystem: a mount namespace holding the system directories read-only, the',
    '  workspace read-write and sandbox.filesystem.allow_read / allow_write; ~/.ssh,',
    '  ~/.aws, ~/.kube, ~/.gnupg, ~/.config/gcloud, browser profiles and the rest of',
    '  HOME do not exist inside.',
  ])
})

const SCAN_HELP = `Scan MCP server output (JSON-RPC lines on stdin) for prompt injection

USAGE
  $ pipelock mcp scan [-c <value>] [--json]

FLAGS
  -c, --config=<value>  config file (YAML); default: built-in defaults
      --json            one JSON verdict object per scanned line

DESCRIPTION
  Scan MCP server output (JSON-RPC lines on stdin) for prompt injection

  Reads newline-delimited JSON-RPC messages from stdin and runs the MCP response
  scan on each (tool-result text, error messages, notification params,
  structuredContent and embedded resources). The tool definitions of a
  tools/list also get the tool-poisoning scan of mcp proxy.

  Text mode prints only the lines with findings:
  line N: [INJECTION] <pattern names> (action: <action>)
  line N: [TOOL POISONING] tool "<name>": <findings> (action: <action>)
  line N: [ERROR] <parse error, or a line over the 10 MiB limit>

  The actions are the ones mcp proxy takes with the same config. A run without
  findings ends with what it checked:
  scanned <N> messages and <M> tool definitions with <scans>: no injection or
  poisoned tool found

  --json prints one object per scanned line:
  {"line","id","clean","action","matches","tool_action","tools","error"}, and a
  run without findings ends with one {"summary":{…}} object (clean, messages,
  tool_definitions, scanners, unparsed_lines; clean is false when a line was not
  scanned). Line numbers count every input line, blank ones included. A line
  over 10 MiB is reported and skipped; the lines after it are scanned. A config
  that cannot be loaded is one error object on stdout under --json
  (docs/errors.md); the verdict failures below are a line on stderr in both
  modes.

  Exit status: 0 when every line was scanned and none had an injection or
  poisoned tool; 1 when a line had one ("prompt injection detected
  [MCP_INJECTION_FOUND]" on stderr), when a line over 10 MiB could not be
  scanned (LINE_TOO_LONG), or when a line was not valid JSON-RPC and so was not
  scanned (after the summary: "input line N is not valid JSON-RPC and was not
  scanned [MCP_SCAN_INCOMPLETE]"; a corrupt transcript does not pass).

EXAMPLES
  Scan a captured server transcript

    $ pipelock mcp scan < server-output.jsonl

  One JSON verdict per line

    echo '{"jsonrpc":"2.0","id":1,"result":{}}' | pipelock mcp scan --json

`

const GENERATE_HELP = `Pin the SHA-256 of an MCP server binary (and its script) in an integrity manifest

USAGE
  $ pipelock mcp integrity manifest generate -o <value> [--merge] [--workdir <value>]
    [--json] -- COMMAND [ARGS...]

FLAGS
  -o, --output=<value>   manifest file to write (required)
      --json             print the report object as JSON
      --merge            add to an existing manifest instead of refusing it
      --workdir=<value>  directory relative script paths are resolved against

DESCRIPTION
  Pin the SHA-256 of an MCP server binary (and its script) in an integrity
  manifest

  Resolves COMMAND the way mcp proxy will run it (PATH lookup, symlinks, env and
  shebang interpreters, the script of python/node/… interpreters) and writes its
  binary and script hashes to the manifest (JSON, keys sorted, 0600, atomic).
  Without --merge an existing manifest is refused; with --merge entries are
  added or overwritten, never pruned. Package runners (npx, uvx) pin only the
  runner, not the package it fetches. Enforced by mcp_binary_integrity in the
  config.

EXAMPLES
  $ pipelock mcp integrity manifest generate --output /etc/pipelock/mcp-manifest.json -- python3 /opt/mcp/server.py

  $ pipelock mcp integrity manifest generate --output /etc/pipelock/mcp-manifest.json --merge -- node /opt/mcp/other.js

`
