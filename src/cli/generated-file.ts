import {existsSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {PipelockError} from '../plugins/errors/index.js'

/**
 * Writes a generated file for `generate …` commands: refuses to overwrite without --force,
 * mode 0600 (configs grow secrets; units and manifests embed the config's paths). Returns the
 * absolute path.
 */
export function writeGeneratedFile(output: string, text: string, force: boolean): string {
  const file = path.resolve(output)
  if (existsSync(file) && !force) throw new PipelockError('FILE_EXISTS', `${output} already exists`, {hint: 'pass --force to overwrite it'})
  try {
    writeFileSync(file, text, {mode: 0o600})
  } catch (err) {
    throw new PipelockError('WRITE_FAILED', `writing ${output}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
  return file
}
