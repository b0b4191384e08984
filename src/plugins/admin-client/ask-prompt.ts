import {rawlist} from '@inquirer/prompts'
import type {AskDecision} from './ask-service.js'

/**
 * The answer to one held request on a terminal (`pipelock ask review`): an inquirer numbered
 * list. Ctrl-C or a closed terminal means "leave it pending", never an answer.
 */
export async function promptAskDecision(allowStrip: boolean): Promise<AskDecision | 'skip' | undefined> {
  const choices: {name: string; value: AskDecision | 'skip'}[] = [
    {name: 'allow', value: 'allow'},
    ...(allowStrip ? [{name: 'strip (forward without the flagged content)', value: 'strip' as const}] : []),
    {name: 'deny', value: 'deny'},
    {name: 'skip (leave pending)', value: 'skip'},
  ]
  try {
    return await rawlist<AskDecision | 'skip'>({message: 'Answer this request:', choices})
  } catch (err) {
    if (err instanceof Error && (err.name === 'ExitPromptError' || err.name === 'AbortPromptError')) return undefined
    throw err
  }
}
