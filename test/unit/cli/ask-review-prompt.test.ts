import assert from 'node:assert/strict'
import {test} from 'node:test'
import AskReview, {reviewPrompts} from '../../../src/commands/ask/review.js'

// `ask review` shows its menu only with both stdin and stdout on a terminal and neither
// --no-prompt nor --json; its --help says each of those conditions.

test('the menu needs stdin and stdout on a terminal, and neither --no-prompt nor --json', () => {
  const on = {noPrompt: false, json: false, stdinTty: true, stdoutTty: true}
  assert.equal(reviewPrompts(on), true)
  assert.equal(reviewPrompts({...on, stdoutTty: false}), false, 'stdout redirected to a file')
  assert.equal(reviewPrompts({...on, stdinTty: false}), false, 'stdin a pipe')
  assert.equal(reviewPrompts({...on, noPrompt: true}), false)
  assert.equal(reviewPrompts({...on, json: true}), false)
})

test('--help says what the menu needs: both terminals, and not --no-prompt or --json', () => {
  assert.ok(
    AskReview.description!.includes(
      'It asks only when both stdin and stdout are terminals: with --no-prompt or --json, or when either is not a terminal (CI, a pipe, output redirected to a file), nothing is answered',
    ),
    AskReview.description,
  )
})
