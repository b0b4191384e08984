import {test} from 'node:test'
import assert from 'node:assert/strict'
import {chmodSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {PipelockError} from '../../../src/plugins/errors/index.js'
import {runLearnReview} from '../../../src/plugins/learn/index.js'
import {GOLDEN_CORPORA} from '../../../bench/corpus-goldens.js'
import {repoPath} from '../../helpers/vectors.js'

// `learn review` reads a candidate rule by rule from its file (no decoded tree, no signed
// bytes), and falls back to the ordinary load where that read declines. Both must render the
// review golden of every corpus byte for byte, and a candidate the ordinary load refuses is
// refused with its words.

const scratch = mkdtempSync(path.join(tmpdir(), 'pl-review-stream-'))
process.on('exit', () => rmSync(scratch, {recursive: true, force: true}))

function review(text: string, name = 'contract.yaml'): string {
  const file = path.join(scratch, name)
  writeFileSync(file, text)
  return runLearnReview({candidate: file, format: 'md'}).content
}

for (const corpus of GOLDEN_CORPORA) {
  test(`learn review of the ${corpus.name} candidate: the streamed read and the ordinary load render the golden`, () => {
    const text = readFileSync(repoPath('goldens', corpus.name, 'contract.yaml'), 'utf8')
    const want = readFileSync(repoPath('goldens', corpus.name, 'learn-review.md'), 'utf8')
    // Streamed (our emitter's YAML).
    assert.equal(review(text), want)
    // A leading comment is outside the emitter's subset: the streamed read declines and the
    // ordinary load renders the same review.
    assert.equal(review('# reviewed by the platform team\n' + text), want)
  })
}

test('learn review: a candidate the ordinary load refuses is refused with its words, streamed or not', () => {
  const text = readFileSync(repoPath('goldens', 'multi-session', 'contract.yaml'), 'utf8')
  const bad = text.replace(/lifecycle_state: \w+/, 'lifecycle_state: bogus_state')
  assert.notEqual(bad, text)
  const words = (t: string): string => {
    try {
      review(t)
    } catch (e) {
      assert.ok(e instanceof PipelockError)
      return e.message
    }
    assert.fail('refused')
  }
  const streamed = words(bad)
  assert.match(streamed, /lifecycle_state|lifecycle/)
  assert.equal(words('# note\n' + bad), streamed)
})

test('learn review refuses a symlink and an unreadable candidate with their reasons', () => {
  const file = path.join(scratch, 'real.yaml')
  writeFileSync(file, readFileSync(repoPath('goldens', 'multi-session', 'contract.yaml')))
  const link = path.join(scratch, 'link.yaml')
  symlinkSync(file, link)
  assert.throws(() => runLearnReview({candidate: link, format: 'md'}), /is not a regular file \(symlinks are refused\)/)
  assert.throws(() => runLearnReview({candidate: path.join(scratch, 'missing.yaml'), format: 'md'}), /cannot read candidate/)
  if (process.getuid?.() !== 0) {
    chmodSync(file, 0o000)
    assert.throws(() => runLearnReview({candidate: file, format: 'md'}), /cannot read candidate/)
  }
})
