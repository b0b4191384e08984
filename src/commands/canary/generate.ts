import {randomInt} from 'node:crypto'
import {Flags} from '@oclif/core'
import {BaseCommand} from '../../cli/base-command.js'
import {PipelockError} from '../../plugins/errors/index.js'

/** A config snippet for one canary token (containment.md §5.5, snake_case so it loads: Q-C4). */
export interface CanaryConfigSnippet {
  readonly canary_tokens: {
    readonly enabled: true
    readonly tokens: ReadonlyArray<{readonly name: string; readonly value: string; readonly env_var?: string}>
  }
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'

/** An access-key-shaped value: `AKIA` + 16 random base-32 characters (unique per run). */
function awsShapedValue(): string {
  let s = 'AKIA'
  for (let i = 0; i < 16; i++) s += BASE32[randomInt(BASE32.length)]
  return s
}

const q = (s: string): string => JSON.stringify(s)

export default class CanaryGenerate extends BaseCommand {
  static override summary = 'Print a canary_tokens config entry with a fresh fake credential'
  static override description = `A canary is a fake secret no legitimate request ever carries. pipelock sandbox and mcp proxy -- COMMAND plant each token that names an env_var in the agent's environment (never read from pipelock's own); if the value is ever seen in an outbound URL, header, body, WebSocket frame or MCP tool argument, the request is blocked as a critical DLP match ("Canary Token (<name>)") and recorded. The default value looks like an AWS access key id and is random on every run. Paste the output into the config (YAML by default, --json for the same entry as JSON). Keep the config where the agent cannot read it (the sandbox never shows ~/.config/pipelock).`

  static override examples = [
    {description: 'An AWS-looking canary planted as AWS_ACCESS_KEY_ID', command: '<%= config.bin %> canary generate --env-var AWS_ACCESS_KEY_ID >> pipelock.yaml'},
    {description: 'A named canary with a value of your own, as JSON', command: '<%= config.bin %> canary generate --name stripe_canary --value sk_live_canary_0000000000000000 --env-var STRIPE_API_KEY --json'},
  ]

  static override enableJsonFlag = true

  static override flags = {
    name: Flags.string({description: 'token name (reported as "Canary Token (<name>)")', default: 'aws_canary'}),
    value: Flags.string({description: 'token value, at least 8 characters (default: AKIA + 16 random characters)'}),
    'env-var': Flags.string({description: 'variable the value is planted as in the agent\'s environment; "" for none', default: 'AWS_CANARY_KEY'}),
  }

  async run(): Promise<CanaryConfigSnippet> {
    const {flags} = await this.parse(CanaryGenerate)
    const name = flags.name.trim()
    const value = (flags.value ?? awsShapedValue()).trim()
    const envVar = flags['env-var'].trim()
    if (name === '') throw new PipelockError('USAGE', '--name must not be empty')
    if (Buffer.byteLength(value) < 8) throw new PipelockError('USAGE', '--value must be at least 8 characters')
    if (envVar !== '' && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(envVar)) throw new PipelockError('USAGE', `--env-var "${envVar}" is invalid: want a shell variable name`)
    const snippet: CanaryConfigSnippet = {canary_tokens: {enabled: true, tokens: [{name, value, ...(envVar !== '' ? {env_var: envVar} : {})}]}}
    for (const l of ['canary_tokens:', '  enabled: true', '  tokens:', `    - name: ${q(name)}`, `      value: ${q(value)}`, ...(envVar !== '' ? [`      env_var: ${q(envVar)}`] : [])]) this.out(l)
    return snippet
  }
}
