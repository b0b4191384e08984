import {realpathSync, statSync} from 'node:fs'
import path from 'node:path'
import {PipelockError} from '../plugins/errors/index.js'

/** A file or directory a command reads, and the flag that named it (for the message). */
export interface NamedInput {
  flag: string
  path: string
}

/**
 * The real path of `p`: of the file when it exists, else of its nearest existing ancestor with
 * the rest appended (a file about to be created inside a directory reached through a symbolic
 * link still lands in that directory).
 */
function realPathOf(p: string): string {
  const abs = path.resolve(p)
  const missing: string[] = []
  for (let at = abs; ; at = path.dirname(at)) {
    try {
      return path.join(realpathSync(at), ...missing.reverse())
    } catch {
      if (path.dirname(at) === at) return abs
      missing.push(path.basename(at))
    }
  }
}

function identity(p: string): {dev: number; ino: number; dir: boolean} | undefined {
  try {
    const st = statSync(p)
    return {dev: st.dev, ino: st.ino, dir: st.isDirectory()}
  } catch {
    return undefined
  }
}

function isWithin(child: string, dir: string): boolean {
  const rel = path.relative(dir, child)
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel))
}

/**
 * Refuses (USAGE, before anything is written) an output file that is one of the command's input
 * files — by real path, so through a symbolic link, and by device and inode, so a hard link too —
 * or lies inside an input directory (a recorder directory: writing there replaces or adds to the
 * evidence being reported on). `--key` values that are not paths (hex, `ID=…`) name no file and
 * are passed over by the caller or match nothing here.
 */
export function refuseOutputOverInputs(outputs: readonly NamedInput[], inputs: readonly NamedInput[]): void {
  const existing = inputs.flatMap((i) => {
    const id = identity(i.path)
    return id === undefined ? [] : [{...i, id, real: realPathOf(i.path)}]
  })
  for (const out of outputs) {
    const real = realPathOf(out.path)
    const outId = identity(out.path)
    for (const inp of existing) {
      const same = real === inp.real || (outId !== undefined && outId.dev === inp.id.dev && outId.ino === inp.id.ino)
      if (same || (inp.id.dir && isWithin(real, inp.real))) {
        throw new PipelockError('USAGE', `${out.flag} ${out.path} ${same ? 'is' : 'lies inside'} the input ${inp.flag} ${inp.path}: writing it would replace or add to what is read; nothing was written`, {
          hint: `give ${out.flag} a path outside the evidence directory that is none of the input files`,
        })
      }
    }
  }
}

/**
 * The inputs of an evidence command's key and source flags: --chain, --config, --roster, the
 * rotation endorsements and each --key that names a file (`ID=FILE` too).
 */
export function evidenceInputs(flags: {chain?: string; config?: string; roster?: string; key?: string[]; 'rotation-endorsement'?: string[]}): NamedInput[] {
  const inputs: NamedInput[] = []
  if (flags.chain !== undefined) inputs.push({flag: '--chain', path: flags.chain})
  if (flags.config !== undefined) inputs.push({flag: '--config', path: flags.config})
  if (flags.roster !== undefined) inputs.push({flag: '--roster', path: flags.roster})
  for (const r of flags['rotation-endorsement'] ?? []) inputs.push({flag: '--rotation-endorsement', path: r})
  for (const k of flags.key ?? []) {
    inputs.push({flag: '--key', path: k})
    const eq = k.indexOf('=')
    if (eq > 0) inputs.push({flag: '--key', path: k.slice(eq + 1)})
  }
  return inputs
}

/**
 * `refuseOutputOverInputs` for a command whose inputs and outputs are flags: the string values of
 * the `outputs` flags against those of the `inputs` flags and `more` (arguments), and each output
 * against the others (two outputs on one path would leave only the last written). A flag left out
 * is passed over, and so is a value that names no existing file (a key given as hex).
 */
export function refuseFlagOutputs(flags: Readonly<Record<string, unknown>>, outputs: readonly string[], inputs: readonly string[], more: readonly NamedInput[] = []): void {
  const named = (names: readonly string[]): NamedInput[] => names.flatMap((n) => (typeof flags[n] === 'string' && flags[n] !== '' ? [{flag: `--${n}`, path: flags[n] as string}] : []))
  const outs = named(outputs)
  refuseOutputOverInputs(outs, [...named(inputs), ...more])
  for (let i = 0; i < outs.length; i++) refuseSamePath(outs[i]!, outs.slice(i + 1))
}

/** Refuses `out` when it is the same path as one of `others` (existing or not). */
function refuseSamePath(out: NamedInput, others: readonly NamedInput[]): void {
  const real = realPathOf(out.path)
  const other = others.find((o) => realPathOf(o.path) === real)
  if (other !== undefined) throw new PipelockError('USAGE', `${out.flag} and ${other.flag} name the same file ${out.path}: one would replace the other; nothing was written`, {hint: `give ${out.flag} and ${other.flag} different paths`})
}
