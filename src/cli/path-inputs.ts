import path from 'node:path'

/**
 * The flags and arguments that name files or directories, per command. Their values are
 * resolved against the working directory when parsed, so `--candidate agent.yaml` works the same
 * as an absolute path in every command (the services below keep requiring absolute paths, as the
 * reference does, and now always get one). `-` (stdin/stdout) and empty values are left alone.
 */
const PATH_INPUTS: Readonly<Record<string, {flags: readonly string[]; args?: readonly string[]}>> = {
  run: {flags: ['config']},
  check: {flags: ['config']},
  doctor: {flags: ['config']},
  'audit:score': {flags: ['config']},
  keygen: {flags: ['home', 'keystore']},
  'escrow:decrypt': {flags: ['out', 'verify-entry'], args: ['file']},
  'escrow:keygen': {flags: ['out-private']},
  'rules:install': {flags: ['path', 'config']},
  'rules:list': {flags: ['config']},
  'rules:verify': {flags: ['config']},
  'rules:remove': {flags: ['config']},
  'rules:update': {flags: ['config']},
  trust: {flags: ['home', 'keystore'], args: ['pubfile']},
  'generate:config': {flags: ['output']},
  'generate:systemd': {flags: ['config', 'output']},
  'generate:kubernetes': {flags: ['config', 'output']},
  // --escrow-private-key is a 64-hex key, not a path (resolving it made every valid key fail the hex check).
  'learn:compile': {flags: ['config', 'fixture', 'keystore', 'out-dir', 'output', 'review', 'compile-manifest']},
  'learn:diff': {flags: ['out'], args: ['first', 'second']},
  'learn:forget': {flags: ['candidate', 'keystore', 'out', 'receipt-out', 'store', 'tombstone-dir']},
  'learn:pin': {flags: ['candidate', 'keystore', 'out']},
  'learn:split': {flags: ['candidate', 'keystore', 'out']},
  'learn:promote': {flags: ['candidate', 'contract-store', 'keystore', 'receipt-out', 'roster']},
  'learn:observe': {flags: ['config', 'capture-dir']},
  'learn:ratify': {flags: ['candidate', 'keystore', 'out', 'receipt-out']},
  'learn:review': {flags: ['out'], args: ['candidate']},
  'learn:rollback': {flags: ['contract-store', 'keystore', 'receipt-out', 'roster']},
  'learn:shadow': {flags: ['config', 'contract', 'keystore', 'out', 'out-json', 'recorder-dir', 'sessions']},
  'signing:key:generate': {flags: ['out']},
  'tls:init': {flags: ['home', 'out']},
  'tls:install-ca': {flags: ['cert', 'home']},
  'tls:show-ca': {flags: ['cert', 'home']},
  'signing:roster:build': {flags: ['out', 'root']},
  'signing:rotation:endorse': {flags: ['dir', 'out', 'retiring-key']},
  'signing:roster:show': {flags: ['path']},
  'signing:roster:verify': {flags: ['path']},
  'signing:recovery:verify': {flags: ['path', 'recovery-pubkey-file']},
  'signing:transition:verify': {flags: ['path', 'new-pubkey-file', 'old-pubkey-file']},
}

function resolveValue(v: unknown, cwd: string): unknown {
  if (typeof v === 'string') return v === '' || v === '-' ? v : path.resolve(cwd, v)
  if (Array.isArray(v)) return v.map((x) => resolveValue(x, cwd))
  return v
}

/** Resolves, in place, the path-valued flags and args of command `id` against `cwd`. */
export function resolvePathInputs(id: string | undefined, flags: Record<string, unknown>, args: Record<string, unknown>, cwd = process.cwd()): void {
  const spec = id === undefined ? undefined : PATH_INPUTS[id]
  if (spec === undefined) return
  for (const f of spec.flags) if (flags[f] !== undefined) flags[f] = resolveValue(flags[f], cwd)
  for (const a of spec.args ?? []) if (args[a] !== undefined) args[a] = resolveValue(args[a], cwd)
}

/** The table, for the test that checks each named flag exists on its command. */
export function pathInputTable(): Readonly<Record<string, {flags: readonly string[]; args?: readonly string[]}>> {
  return PATH_INPUTS
}
