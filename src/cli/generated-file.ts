import {Flags} from '@oclif/core'
import {existsSync, mkdirSync} from 'node:fs'
import path from 'node:path'
import {osErrorReason, PipelockError} from '../plugins/errors/index.js'
import {refuseDirectoryOutput, writeOutputFile} from './output-file.js'

/**
 * Writes a generated file for `generate …` commands: refuses to overwrite without --force,
 * mode 0600 (configs grow secrets; units and manifests embed the config's paths), atomically
 * (a failed --force write keeps the old file whole). Without --force the file is created only if
 * no file has the name when it is linked in, so one made between the check and the write is not
 * replaced either. Missing parent directories are created (mode 0750). Returns the absolute path.
 */
export function writeGeneratedFile(output: string, text: string, force: boolean): string {
  const file = path.resolve(output)
  const exists = (): PipelockError => new PipelockError('FILE_EXISTS', `${output} already exists`, {hint: 'pass --force to overwrite it'})
  // Checked first too, so a directory or an existing file is named before any write is staged:
  // a directory as what it is, not as a file that exists (which --force would not overwrite either).
  refuseDirectoryOutput(file)
  if (!force && existsSync(file)) throw exists()
  // `--output deploy/agent.yaml` in a fresh checkout: make the missing directories, private to the group.
  try {
    mkdirSync(path.dirname(file), {recursive: true, mode: 0o750})
  } catch (e) {
    // mkdir says EEXIST (or ENOTDIR) when a file sits where a directory is needed.
    const code = (e as NodeJS.ErrnoException).code
    const reason = code === 'EEXIST' || code === 'ENOTDIR' ? 'a file is in the way (not a directory)' : osErrorReason(e)
    throw new PipelockError('WRITE_FAILED', `writing ${output}: cannot create its directory ${path.dirname(file)}: ${reason}; nothing was written`)
  }
  writeOutputFile(file, text, 0o600, force ? undefined : exists)
  return file
}

/** The output flags every `generate …` deployment command shares. */
export const generatedFileFlags = {
  output: Flags.string({char: 'o', description: 'write to this file instead of stdout'}),
  force: Flags.boolean({description: 'overwrite --output if it exists', default: false}),
}

/** What `generate systemd|kubernetes --json` return: the text, or where it was written. */
export interface GeneratedDeployFile {
  kind: 'systemd' | 'kubernetes'
  text?: string
  path?: string
}

/** Prints the generated text, or writes it to --output and says so on stderr. */
export function deliverGenerated(
  kind: GeneratedDeployFile['kind'],
  text: string,
  flags: {output?: string; force: boolean},
  io: {out: (line: string) => void; err: (line: string) => void},
): GeneratedDeployFile {
  if (flags.output === undefined) {
    io.out(text.trimEnd())
    return {kind, text}
  }
  const file = writeGeneratedFile(flags.output, text, flags.force)
  io.err(`wrote ${flags.output}`)
  return {kind, path: file}
}
