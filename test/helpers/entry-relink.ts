import {parseRecorderEntry, recorderEntryHash} from '../../src/plugins/receipts/index.js'

/**
 * What a tamperer does after editing or removing recorder lines: renumber and rehash every entry
 * from line `from` (0-based) so the entry chain links again (it has no key). Signed contents are
 * left as they are.
 */
export function relink(lines: string[], from: number): void {
  for (let i = from; i < lines.length; i++) {
    const e = parseRecorderEntry(lines[i] as string)
    const prev = i === 0 ? undefined : parseRecorderEntry(lines[i - 1] as string)
    const seq = prev === undefined ? 0n : BigInt(prev.seq) + 1n
    const relinked = (lines[i] as string).replace(`"seq":${e.seq},`, `"seq":${seq},`).replace(`"prev_hash":"${e.prevHash}"`, `"prev_hash":"${prev?.hash ?? 'genesis'}"`)
    lines[i] = relinked.replace(`"hash":"${e.hash}"`, `"hash":"${recorderEntryHash(parseRecorderEntry(relinked))}"`)
  }
}
