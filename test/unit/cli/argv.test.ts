import {test} from 'node:test'
import assert from 'node:assert/strict'
import {hoistTopicFlags, type ArgvCommand} from '../../../src/cli/argv.js'

const COMMANDS: ArgvCommand[] = [
  {id: 'session:list', flags: {'api-url': {type: 'option'}, json: {type: 'boolean'}, tier: {type: 'option'}}},
  {id: 'session:inspect', flags: {'api-url': {type: 'option'}, config: {type: 'option', char: 'c'}}},
  {id: 'run', flags: {config: {type: 'option', char: 'c'}}},
]

test('argv: flags between a topic and its subcommand move after the subcommand', () => {
  assert.deepEqual(hoistTopicFlags(['session', '--api-url', 'X', 'list'], COMMANDS), ['session', 'list', '--api-url', 'X'])
  assert.deepEqual(hoistTopicFlags(['session', '--api-url=X', '--json', 'list', '--tier', 'hard'], COMMANDS), ['session', 'list', '--api-url=X', '--json', '--tier', 'hard'])
  assert.deepEqual(hoistTopicFlags(['session', '-c', 'p.yaml', 'inspect', 'k'], COMMANDS), ['session', 'inspect', '-c', 'p.yaml', 'k'])
})

test('argv: anything else is unchanged', () => {
  for (const argv of [
    ['session', 'list', '--api-url', 'X'],
    ['run', '--config', 'list'],
    ['session', '--api-url', 'X'],
    ['session', '--api-url', 'X', 'nope'],
    ['--version'],
    [],
  ]) assert.deepEqual(hoistTopicFlags(argv, COMMANDS), argv)
})
