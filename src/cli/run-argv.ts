import {PRESET_NAMES} from '../plugins/config/index.js'
import {resolvePathInputs} from './path-inputs.js'
import type {RunFlags} from './run-proxy.js'

/**
 * What of `pipelock run`'s flags (src/commands/run.ts) decides how an argument list parses: the
 * name, the one-letter alias, whether it is a boolean, the allowed values, the flags it excludes.
 * test/unit/cli/run-argv.test.ts checks this table against the oclif definitions, flag by flag.
 */
interface RunFlagSpec {
  char?: string
  boolean?: true
  options?: readonly string[]
  exclusive?: readonly string[]
}

export const RUN_FLAG_SPEC: Readonly<Record<string, RunFlagSpec>> = {
  config: {char: 'c', exclusive: ['preset']},
  preset: {options: PRESET_NAMES, exclusive: ['config']},
  mode: {char: 'm', options: ['strict', 'balanced', 'audit']},
  listen: {char: 'l'},
  'mcp-listen': {},
  'mcp-upstream': {},
  'reverse-proxy': {boolean: true},
  'reverse-upstream': {},
  'reverse-listen': {},
  'capture-output': {},
  'capture-duration': {},
  'capture-raw': {boolean: true},
  'change-note': {},
  'capture-escrow-public-key': {},
}

/**
 * Parses `pipelock run`'s arguments without oclif (bench: startup; oclif's ≈ 110 CommonJS files and its
 * manifest were the largest single cost of the proxy's start), but only the plain forms whose
 * meaning is beyond doubt: `--name value`, `--name=value`, `-c value` for a known flag, each given
 * once, a value that is not empty and does not start with `-`, one of the allowed values, no two
 * exclusive flags, no positional argument. For anything else — `--help`, an unknown or repeated
 * flag, `--`, an agent command, a value oclif would reject or read differently — it returns
 * undefined and the caller hands the whole argument list to oclif, so every error text, exit code
 * and help page is oclif's, unchanged. Where it answers, it answers what oclif's parser answers
 * followed by the command's path resolution (src/cli/path-inputs.ts); test/unit/cli/
 * run-argv.test.ts holds oclif's parser as the oracle.
 */
export function parseRunArgv(args: readonly string[], cwd: string): {flags: RunFlags} | undefined {
  const flags: Record<string, string | boolean> = {}
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    let name: string
    let value: string | undefined
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=')
      name = eq < 0 ? arg.slice(2) : arg.slice(2, eq)
      value = eq < 0 ? undefined : arg.slice(eq + 1)
    } else if (/^-[a-zA-Z]$/.test(arg)) {
      const found = Object.entries(RUN_FLAG_SPEC).find(([, s]) => s.char === arg[1])
      if (found === undefined) return undefined
      name = found[0]
    } else {
      return undefined
    }
    const spec = Object.hasOwn(RUN_FLAG_SPEC, name) ? RUN_FLAG_SPEC[name] : undefined
    if (spec === undefined || Object.hasOwn(flags, name)) return undefined
    if (spec.boolean) {
      if (value !== undefined) return undefined
      flags[name] = true
      continue
    }
    if (value === undefined) value = args[++i]
    if (value === undefined || value === '' || value.startsWith('-')) return undefined
    if (spec.options !== undefined && !spec.options.includes(value)) return undefined
    flags[name] = value
  }
  for (const name of Object.keys(flags)) {
    if ((RUN_FLAG_SPEC[name]!.exclusive ?? []).some((other) => Object.hasOwn(flags, other))) return undefined
  }
  resolvePathInputs('run', flags, {}, cwd)
  return {flags}
}
