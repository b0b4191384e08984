import type {RatifyPrompt} from '../plugins/learn/index.js'

/**
 * `learn ratify --interactive`: answering `a` applies the previous answer (e, c or r) to this
 * rule and every remaining one; their evidence blocks are still printed, each with the decision
 * taken. Anything else goes to the ratify service unchanged (which refuses what is not e/c/r).
 */
export function withApplyToRemaining(prompt: RatifyPrompt, out: NodeJS.WritableStream): RatifyPrompt {
  let last: string | undefined
  let sticky: string | undefined
  return async (block: string, index: number): Promise<string | undefined> => {
    if (sticky !== undefined) {
      const lines = block.split('\n')
      out.write(`${lines.slice(0, -1).join('\n')}\n${lines.at(-1) ?? ''}${sticky} (applied to the remaining rules)\n`)
      return sticky
    }
    const answer = await prompt(block, index)
    const t = answer?.trim().toLowerCase()
    if (t === 'a' && last !== undefined) {
      sticky = last
      return last
    }
    last = answer
    return answer
  }
}

/** inquirer's Ctrl-C (ExitPromptError): the operator stopped; nothing has been written yet. */
export function isPromptInterrupt(err: unknown): boolean {
  return err instanceof Error && err.name === 'ExitPromptError'
}
