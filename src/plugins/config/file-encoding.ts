import {isUtf8} from 'node:buffer'
import {ConfigYamlError} from './yaml-source.js'

/**
 * The text of a config file's bytes, read as the reference's YAML reader reads them: UTF-8 (a
 * leading byte-order mark is the YAML reader's to skip), or UTF-16 when the file starts with its
 * byte-order mark (what Windows PowerShell 5's `>` writes). Bytes that are not well-formed in the
 * encoding are refused with the line they are on: read leniently, each became U+FFFD, which in a
 * pattern or a host name silently changes what the setting says.
 */
export function configFileText(bytes: Buffer): string {
  if (bytes.length >= 2 && ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff))) {
    const encoding = bytes[0] === 0xff ? 'utf-16le' : 'utf-16be'
    try {
      return new TextDecoder(encoding, {fatal: true, ignoreBOM: false}).decode(bytes)
    } catch {
      throw new ConfigYamlError(`the file starts with a ${encoding.toUpperCase()} byte-order mark but is not well-formed ${encoding.toUpperCase()}: save it as UTF-8`)
    }
  }
  if (isUtf8(bytes)) return bytes.toString('utf8')
  // A line break byte is never inside a multi-byte UTF-8 sequence: the first line that is not
  // well-formed on its own holds the first bad byte.
  let line = 1
  for (let start = 0; start <= bytes.length; line++) {
    const nl = bytes.indexOf(0x0a, start)
    const end = nl === -1 ? bytes.length : nl
    if (!isUtf8(bytes.subarray(start, end))) break
    start = end + 1
  }
  throw new ConfigYamlError('not UTF-8 (bytes that form no UTF-8 character, as Latin-1 or Windows-1252 text has): save the file as UTF-8', line)
}
