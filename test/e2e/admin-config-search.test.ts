/**
 * Where the session, adaptive and exception commands look for their config file: the error
 * without a token, `--help` and docs/run.md give the same list, the one the CLI searches
 * ($PIPELOCK_HOME/pipelock.yaml included), and `--api-url`'s help names the fetch_proxy.listen
 * fallback it uses.
 */
import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {test} from 'node:test'
import {runCli} from '../helpers/cli.js'
import {repoPath} from '../helpers/vectors.js'

const LIST = '--config, $PIPELOCK_CONFIG, $PIPELOCK_HOME/pipelock.yaml (default ~/.pipelock/pipelock.yaml), ~/.config/pipelock/pipelock.yaml, /etc/pipelock/pipelock.yaml'
const oneLine = (s: string): string => s.replace(/\s+/g, ' ')

test('the token error, --help and docs/run.md name the same config files', () => {
  const home = mkdtempSync(path.join(tmpdir(), 'pipelock-admin-search-'))
  const env = {...process.env, HOME: home, PIPELOCK_HOME: path.join(home, 'ph'), PIPELOCK_CONFIG: '', PIPELOCK_API_URL: '', PIPELOCK_KILLSWITCH_API_TOKEN: ''}
  assert.deepEqual(runCli(['session', 'list'], {env}), {
    status: 2,
    stdout: '',
    stderr: `admin API token is required: set --api-token or PIPELOCK_KILLSWITCH_API_TOKEN, or kill_switch.api_token in a config file (${LIST}) [ADMIN_API_UNCONFIGURED]\n`,
  })
  for (const cmd of [['session', 'list'], ['exception', 'list'], ['adaptive', 'status']]) {
    const help = oneLine(runCli([...cmd, '--help'], {env}).stdout)
    assert.ok(help.includes(`the first found of ${LIST};`), help)
    assert.ok(help.includes('else http://<kill_switch.api_listen> from the config file, else http://<fetch_proxy.listen> from it'), help)
  }
  assert.ok(oneLine(readFileSync(repoPath('docs', 'run.md'), 'utf8')).includes(`first found of \`${LIST}\``))
})
