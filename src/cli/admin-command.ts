import {homedir} from 'node:os'
import {Args, Flags} from '@oclif/core'
import {fixedClock, systemClock} from '../plugins/canonical/index.js'
import {PipelockError} from '../plugins/errors/index.js'
import {AdminClient, configSearchOrder, resolveAdminTarget} from '../plugins/admin-client/index.js'
import {BaseCommand} from './base-command.js'

/** The persistent flags of every `session …` / `adaptive …` command (runtime §13). */
export const adminFlags = {
  'api-url': Flags.string({
    description: 'admin API base URL, e.g. http://127.0.0.1:9090 (else $PIPELOCK_API_URL, else http://<kill_switch.api_listen> from the config file, else http://<fetch_proxy.listen> from it, where the proxy mounts the API without api_listen); http:// is added when no scheme is given',
  }),
  'api-token': Flags.string({
    description: 'admin API bearer token (else $PIPELOCK_KILLSWITCH_API_TOKEN, else kill_switch.api_token from the config file); prefer the environment: flags show up in ps',
  }),
  config: Flags.string({
    description: `config file read for kill_switch.api_listen (or fetch_proxy.listen) / api_token when a flag or the environment does not give them; the first found of ${configSearchOrder()}; must be mode 0600 when it supplies the token`,
  }),
}

/** The `<key>` argument of the per-session commands. */
export const sessionKeyArg = {
  key: Args.string({
    description: 'session key: agent|client-ip for identity sessions (quote it, | is a shell pipe), or an invocation key; see: pipelock session list',
    required: true,
  }),
}

export interface AdminFlagValues {
  'api-url'?: string
  'api-token'?: string
  config?: string
}

/**
 * Base of the admin API commands. §13 fixes their exit codes: usage errors (bad flags or
 * arguments) exit 2, as in every command; PipelockErrors carry their own.
 */
export abstract class AdminCommand extends BaseCommand {
  /** Resolves URL and token (flags → env → config), runs `fn` with a client, always closes it. */
  protected async withAdminClient<T>(flags: AdminFlagValues, fn: (client: AdminClient) => Promise<T>): Promise<T> {
    const target = await resolveAdminTarget({
      apiUrl: flags['api-url'],
      apiToken: flags['api-token'],
      config: flags.config,
      env: process.env,
      homeDir: homedir(),
    })
    const client = new AdminClient({baseUrl: target.baseUrl, token: target.token})
    try {
      return await fn(client)
    } finally {
      await client.close()
    }
  }

  /**
   * "Now" for the relative times (`3m0s ago`) of the human output. PIPELOCK_CLI_NOW (RFC 3339)
   * pins it, for exact-output tests and reproducible docs.
   */
  protected nowNs(): bigint {
    const fixed = process.env.PIPELOCK_CLI_NOW
    if (fixed === undefined || fixed === '') return systemClock.nowNanos()
    try {
      return fixedClock(fixed).nowNanos()
    } catch {
      throw new PipelockError('ADMIN_ARGUMENT_INVALID', `PIPELOCK_CLI_NOW "${fixed}" is not an RFC 3339 time`)
    }
  }
}
