/**
 * The common `pipelock mcp proxy [flags] -- COMMAND ARGS` invocation, recognised without oclif
 * (bench: mcp, RSS per wrap): oclif and its command manifest cost the wrap ≈ 8 MiB for a line whose
 * flags are plain. `bin/run.js` asks `fastMcpProxyArgs`; when it answers, the wrap starts from its
 * bundle (dist/run/mcp-proxy.js) and oclif is never loaded; when it answers null, oclif parses the
 * line exactly as before (help, errors, every unusual form).
 *
 * Accepted: only forms whose meaning under oclif's parser is certain, checked against oclif's own
 * parser by test/unit/cli/mcp-proxy-args.test.ts — each flag as `--name value`, `--name=value` or
 * `-c value`, a value never starting with `-`, single-valued flags at most once, a multi-valued flag
 * followed by `--` or another flag (oclif's multi-valued flags take every word up to the next flag),
 * `--capture-raw` bare, then `--` and a command with no second `--`. Anything else (`--help`, the
 * sandbox flags, an unknown flag, a missing `--`, …) goes to oclif.
 */

/** The flags of `mcp proxy` (src/commands/mcp/proxy.ts) as this parser sees them; a test pins them to the command's. */
export const MCP_PROXY_FLAGS = {
  config: {kind: 'string', char: 'c'},
  upstream: {kind: 'string'},
  listen: {kind: 'string'},
  header: {kind: 'multiple'},
  'header-file': {kind: 'string'},
  env: {kind: 'multiple'},
  agent: {kind: 'string'},
  sandbox: {kind: 'boolean'},
  'sandbox-strict': {kind: 'boolean'},
  'sandbox-best-effort': {kind: 'boolean'},
  workspace: {kind: 'string'},
  'capture-output': {kind: 'string'},
  'capture-raw': {kind: 'boolean'},
  'contract-server': {kind: 'string'},
  'metrics-listen': {kind: 'string'},
} as const satisfies Record<string, {kind: 'string' | 'multiple' | 'boolean'; char?: string}>

/** Booleans the fast path leaves to oclif (the sandbox flags take the oclif path). */
const FAST_BOOLEANS: ReadonlySet<string> = new Set(['capture-raw'])

/** Parsed flags, shaped as oclif's parser returns them for this command. */
export interface McpProxyFlags {
  config?: string
  upstream?: string
  listen?: string
  header?: string[]
  'header-file'?: string
  env?: string[]
  agent?: string
  sandbox?: boolean
  'sandbox-strict'?: boolean
  'sandbox-best-effort'?: boolean
  workspace?: string
  'capture-output'?: string
  'capture-raw'?: boolean
  'contract-server'?: string
  'metrics-listen'?: string
}

export interface McpProxyInvocation {
  readonly flags: McpProxyFlags
  /** COMMAND ARGS (oclif's `argv` for this command). */
  readonly argv: string[]
}

type FlagName = keyof typeof MCP_PROXY_FLAGS

function flagName(token: string): FlagName | undefined {
  if (token === '-c') return 'config'
  if (!token.startsWith('--')) return undefined
  const name = token.slice(2)
  return Object.hasOwn(MCP_PROXY_FLAGS, name) ? (name as FlagName) : undefined
}

/** `args`: what follows `mcp proxy`. The flags and command when certain, else null (oclif decides). */
export function fastMcpProxyArgs(args: readonly string[]): McpProxyInvocation | null {
  const flags: Record<string, unknown> = {}
  let i = 0
  for (; i < args.length && args[i] !== '--'; i++) {
    const token = args[i]!
    const eq = token.startsWith('--') ? token.indexOf('=') : -1
    const name = flagName(eq === -1 ? token : token.slice(0, eq))
    if (name === undefined) return null
    const spec: {kind: string} = MCP_PROXY_FLAGS[name]
    if (spec.kind === 'boolean') {
      if (eq !== -1 || !FAST_BOOLEANS.has(name) || name in flags) return null
      flags[name] = true
      continue
    }
    const value = eq === -1 ? args[++i] : token.slice(eq + 1)
    if (value === undefined || value === '' || value.startsWith('-')) return null
    if (spec.kind === 'multiple') {
      // oclif's multi-valued flags are greedy: a following plain word would be a second value.
      const next = args[i + 1]
      if (next === undefined || !next.startsWith('-')) return null
      ;((flags[name] ??= []) as string[]).push(value)
    } else {
      if (name in flags) return null
      flags[name] = value
    }
  }
  const argv = args.slice(i + 1)
  if (i >= args.length || argv.length === 0 || argv.includes('--')) return null
  return {flags: flags as McpProxyFlags, argv}
}
