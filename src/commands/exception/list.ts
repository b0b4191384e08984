import {AdminCommand, adminFlags} from '../../cli/admin-command.js'
import {listExceptions, renderExceptionList, type ExceptionList} from '../../plugins/admin-client/index.js'

export default class ExceptionList_ extends AdminCommand {
  static override summary = 'List the scoped exceptions in force on a running pipelock'
  static override description = `GET /api/v1/exceptions on the admin API. Prints a table ID HOST PATH PATTERN AGENT USES-LEFT EXPIRES GRANTED-BY REASON (oldest grant first; * = any), or "No exceptions in force." Used-up and expired exceptions are not listed. Exit 1 when the proxy has no signing flight recorder (HTTP 409) or cannot be reached; 2 for a rejected token.`
  static override examples = [
    {description: 'The exceptions in force', command: '<%= config.bin %> exception list --api-url 127.0.0.1:9090'},
    {description: 'As JSON', command: '<%= config.bin %> exception list --api-url 127.0.0.1:9090 --json'},
  ]
  static override enableJsonFlag = true
  static override flags = {...adminFlags}

  async run(): Promise<ExceptionList> {
    const {flags} = await this.parse(ExceptionList_)
    const r = await this.withAdminClient(flags, async (c) => await listExceptions(c))
    for (const l of renderExceptionList(r.data)) this.out(l)
    return r.json
  }
}
