import {createInterface} from 'node:readline'
import {expand} from '@inquirer/prompts'
import type {RatifyPrompt} from './ratify-service.js'

// The two ways an operator answers `learn ratify --interactive`: an inquirer prompt on a
// terminal, or one line per rule on a pipe (CI replays, tests). Both print the same §4.1 block.

/** Reads answers line by line from a non-TTY stream; EOF answers undefined (→ invalid decision). */
export function lineReaderPrompt(input: NodeJS.ReadableStream, output: NodeJS.WritableStream): RatifyPrompt & {close: () => void} {
  const rl = createInterface({input, terminal: false})
  const lines: string[] = []
  const waiting: ((l: string | undefined) => void)[] = []
  let closed = false
  rl.on('line', (l) => {
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
    return lines.length > 0 ? lines.shift() : closed ? undefined : await new Promise<string | undefined>((resolve) => waiting.push(resolve))
  }
  return Object.assign(prompt, {close: () => rl.close()})
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
