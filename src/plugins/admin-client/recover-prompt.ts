import {rawlist} from '@inquirer/prompts'
import {RECOVERY_MENU, RECOVERY_MENU_TITLE, type RecoveryChoice} from './recover.js'

/**
 * The §13 recovery menu on a terminal: an inquirer numbered list (`1) release to none` …).
 * Ctrl-C or a closed terminal means "no action", never a half-applied one.
 */
export async function promptRecoveryChoice(): Promise<RecoveryChoice | undefined> {
  try {
    return await rawlist<RecoveryChoice>({message: RECOVERY_MENU_TITLE, choices: RECOVERY_MENU.map((c) => ({name: c.name, value: c.value}))})
  } catch (err) {
    if (err instanceof Error && (err.name === 'ExitPromptError' || err.name === 'AbortPromptError')) return undefined
    throw err
  }
}
