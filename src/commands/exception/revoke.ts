import {userInfo} from 'node:os'
import {Args, Flags} from '@oclif/core'
import {AdminCommand, adminFlags} from '../../cli/admin-command.js'
import {renderRevoke, revokeException, type ExceptionRevoke} from '../../plugins/admin-client/index.js'

export default class ExceptionRevoke_ extends AdminCommand {
  static override summary = 'Revoke a scoped exception before it is used up or expires'
  static override description = `POST /api/v1/exceptions/<id>/revoke on the admin API. The revocation is a config_change record (audit event, and a signed receipt) naming the operator. Prints "revoked <id>: host=… (N of M uses left)". Exit 1 when no exception with that id is in force (never granted, revoked, used up or expired); 2 for a bad id or a rejected token.`
  static override examples = [{description: 'Revoke an exception', command: '<%= config.bin %> exception revoke exc-0123456789ab --api-url 127.0.0.1:9090'}]
  static override enableJsonFlag = true
  static override args = {id: Args.string({description: 'exception id (see: pipelock exception list)', required: true})}
  static override flags = {...adminFlags, operator: Flags.string({description: 'who revokes it (default: the local user name)'})}

  async run(): Promise<ExceptionRevoke> {
    const {args, flags} = await this.parse(ExceptionRevoke_)
    const r = await this.withAdminClient(flags, async (c) => await revokeException(c, args.id, flags.operator ?? userInfo().username))
    for (const l of renderRevoke(r.data)) this.out(l)
    return r.json
  }
}
