import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {PipelockError} from '../plugins/errors/index.js'
import {MAX_RECEIPT_FILE_BYTES} from '../plugins/receipts/index.js'

/**
 * `-` as the chain argument of verify-receipt and transcript-root: the chain (.jsonl) is read
 * from standard input, at most MAX_RECEIPT_FILE_BYTES (the limit of a receipt file), into a
 * private temporary file that is verified as a file named `-` and removed afterwards. Any other
 * argument is passed through. A single receipt is not read from stdin: it is told apart from a
 * chain by its file name, which stdin has none of.
 */
export async function withStdinChain<T>(file: string | undefined, run: (file: string | undefined, shownAs?: string) => Promise<T>): Promise<T> {
  if (file !== '-') return run(file)
  if (process.stdin.isTTY === true) throw new PipelockError('USAGE', '-: the chain is read from standard input, which is a terminal', {hint: 'pipe or redirect the .jsonl file into it: < evidence-proxy-0.jsonl'})
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > MAX_RECEIPT_FILE_BYTES) {
      throw new PipelockError('FILE_TOO_LARGE', `reading chain: -: standard input is larger than the ${MAX_RECEIPT_FILE_BYTES}-byte limit`, {hint: 'pass the file itself (its size is not limited)'})
    }
    chunks.push(chunk)
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-stdin-'))
  try {
    const tmp = path.join(dir, 'stdin.jsonl')
    writeFileSync(tmp, Buffer.concat(chunks), {mode: 0o600})
    return await run(tmp, '-')
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}
