import {test} from 'node:test'
import assert from 'node:assert/strict'
import {shellQuote, shellWord} from '../../../src/plugins/errors/index.js'

// A path in a command a hint tells the user to run must stay one word when the line is copied
// into a POSIX shell: quoted only when the shell would split or expand it.
test('shellWord leaves plain paths as they are and quotes the rest as one single-quoted word', () => {
  for (const plain of ['/etc/pipelock/pipelock.yaml', 'receipt.pub', './packet-1', 'a=b,c:d@e%f+g', '/tmp/x_y-z.jsonl']) assert.equal(shellWord(plain), plain)
  assert.equal(shellWord('/srv/my evidence/pipelock.yaml'), "'/srv/my evidence/pipelock.yaml'")
  assert.equal(shellWord("/srv/agent's keys"), `'/srv/agent'"'"'s keys'`)
  for (const special of ['$HOME/x', 'a*b', 'a;b', 'a|b', '~/x', 'a\tb', '']) assert.equal(shellWord(special), shellQuote(special))
  assert.equal(shellQuote(''), "''")
})
