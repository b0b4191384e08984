import {createInterface} from 'node:readline'
import {expand} from '@inquirer/prompts'
import {PipelockError} from '../errors/index.js'
import type {RatifyPrompt} from './ratify-service.js'

// The two ways an operator answers `learn ratify --interactive`: an inquirer prompt on a
// terminal, or one line per rule on a pipe (CI replays, tests). Both print the same §4.1 block.

/**
 * Reads answers line by line from a non-TTY stream; EOF answers undefined (→ the answers ended).
 * A stream that ends before its first line (`</dev/null` in CI) is refused with the ways out:
 * nobody piped answers, so "the answers ended at rule 1" would not say what to do.
 */
export function lineReaderPrompt(input: NodeJS.ReadableStream, output: NodeJS.WritableStream): RatifyPrompt & {close: () => void} {
  const rl = createInterface({input, terminal: false})
  const lines: string[] = []
  const waiting: ((l: string | undefined) => void)[] = []
  let closed = false
  let answered = false
  rl.on('line', (l) => {
    answered = true
    const w = waiting.shift()
    if (w) w(l)
    else lines.push(l)
  })
  rl.on('close', () => {
    closed = true
    for (const w of waiting.splice(0)) w(undefined)
  })
  const prompt = async (block: string): Promise<string | undefined> => {
    output.write(block)
    const line = lines.length > 0 ? lines.shift() : closed ? undefined : await new Promise<string | undefined>((resolve) => waiting.push(resolve))
    if (line === undefined && !answered) throw noAnswers()
    return line
  }
  return Object.assign(prompt, {close: () => rl.close()})
}

function noAnswers(): PipelockError {
  return new PipelockError('RATIFY_DECISION_INVALID', 'learn ratify: stdin gave no answers (it is not a terminal); nothing was written', {
    hint: 'pipe one answer per rule (e, c or r), or run without --interactive to enforce every rule (add --accept-low-confidence if a rule is low-confidence)',
  })
}

/** inquirer `expand` with the keys e/c/r; the evidence lines are printed above it. */
export function inquirerPrompt(output: NodeJS.WritableStream): RatifyPrompt {
  return async (block) => {
    const lines = block.split('\n')
    output.write(lines.slice(0, -1).join('\n') + '\n')
    const value = await expand(
      {
        message: 'Decision for this rule',
        choices: [
          {key: 'e', name: 'enforce', value: 'e'},
          {key: 'c', name: 'capture-only', value: 'c'},
          {key: 'r', name: 'reject', value: 'r'},
          {key: 'a', name: 'apply the previous answer to this and all remaining rules', value: 'a'},
        ],
      },
      // same stream as the evidence lines (stderr under --json, so stdout stays one JSON document)
      {output: output as NodeJS.WritableStream & {columns?: number}},
    )
    return value
  }
}
