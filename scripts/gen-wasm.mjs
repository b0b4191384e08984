#!/usr/bin/env node
// Assembles the WebAssembly modules of the scanner (src/plugins/scanner/*.wat) with wabt (the
// WebAssembly project's own toolkit, a dev dependency: the product embeds the bytes and never
// loads wabt) and writes each (base64) into its TypeScript file between the BEGIN/END markers;
// `--check` only compares (exit 1 when some embedded bytes are stale). Before writing, it
// instantiates each module and checks it: the run finder's lookup tables against the byte rules
// they encode, the plain maps' functions (their base64 class-run search and run end too) against the rules
// they implement on every byte, the visible-text walk on a page of each construct, the text forms on every ASCII byte.
import {readFileSync, writeFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import wabtInit from 'wabt'

const scanner = (file) => fileURLToPath(new URL(`../src/plugins/scanner/${file}`, import.meta.url))

async function assemble(name, src) {
  const wabt = await wabtInit()
  const mod = wabt.parseWat(name, src, {simd: true})
  try {
    mod.resolveNames()
    mod.validate()
    return Uint8Array.from(mod.toBinary({}).buffer)
  } finally {
    mod.destroy()
  }
}

// The tables (T1, T2, T3 at 0, 16, 32; LEAD at 64), read from the instantiated module's memory.
function checkRunFinder(exports) {
  const mem = new Uint8Array(exports.memory.buffer, 0, 1024)
  const never = (b) => b === 0xc0 || b === 0xc1 || b >= 0xf5
  const cont = (b) => b >= 0x80 && b <= 0xbf
  for (let x = 0; x < 256; x++) {
    for (let y = 0; y < 256; y++) {
      let ok = !never(x) && !never(y)
      if (x < 0x80) ok &&= !cont(y)
      else if (x >= 0xc2) {
        ok &&= cont(y)
        if (x === 0xe0) ok &&= y >= 0xa0
        if (x === 0xed) ok &&= y <= 0x9f
        if (x === 0xf0) ok &&= y >= 0x90
        if (x === 0xf4) ok &&= y <= 0x8f
      }
      // The tables flag every ill-formed pair but those whose second byte is never used (the pair
      // after it is flagged for its first byte): the finder's windows may only be too many.
      const bad = (mem[x >> 4] & mem[16 + (x & 15)] & mem[32 + (y >> 4)]) !== 0
      if ((bad && ok) || (!bad && !ok && !never(y))) throw new Error(`pair tables wrong at ${x.toString(16)} ${y.toString(16)}`)
    }
  }
  for (let b = 0; b < 256; b++) {
    const lead = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0
    if (mem[64 + b] !== lead) throw new Error(`LEAD table wrong at ${b.toString(16)}`)
  }
}

// all_plain on every byte value at every place of a 64-byte step and of the tail; map_bytes with
// deltas in the rows it reads (random, fixed seed) at every length up to 80 (steps and tails), on
// texts of every byte value (those >= 0x80 kept).
function checkPlainMaps({memory, all_plain, map_bytes, class_run, class_end}) {
  const mem = new Uint8Array(memory.buffer)
  const plain = (b) => b === 0x09 || b === 0x0a || b === 0x0d || (b >= 0x20 && b <= 0x7e)
  const AT = 256
  for (const len of [64, 70, 130]) {
    for (let at = 0; at < len; at++) {
      for (let b = 0; b < 256; b++) {
        mem.fill(0x61, AT, AT + len)
        mem[AT + at] = b
        if (all_plain(AT, len) !== (plain(b) ? 1 : 0)) throw new Error(`all_plain wrong for byte ${b.toString(16)} at ${at} of ${len}`)
      }
    }
  }
  let seed = 7
  const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16
  const rows = {0: [2, 3, 4], 128: [4, 5, 6, 7]}
  mem.fill(0, 0, 256)
  for (const [base, rs] of Object.entries(rows)) for (const r of rs) for (let k = 0; k < 16; k++) mem[Number(base) + 16 * r + k] = rand() & 0x7f
  const delta = (base, c) => (c < 128 ? mem[base + c] : 0)
  for (let round = 0; round < 4; round++) {
    for (let len = 0; len <= 80; len++) {
      const src = Array.from({length: len}, () => rand() & 0xff)
      mem.set(src, AT)
      map_bytes(AT, len, AT + 128, AT + 256)
      src.forEach((c, k) => {
        if (mem[AT + 128 + k] !== (c ^ delta(0, c)) || mem[AT + 256 + k] !== (c ^ delta(128, c))) throw new Error(`map_bytes wrong for byte ${c.toString(16)} at ${k} of ${len}`)
      })
    }
  }
  // class_run against a byte loop: texts of class bytes, breaks and every byte value, long runs
  // across steps, searched from several starts.
  const inClass = (b) => (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || (b >= 0x30 && b <= 0x39) || b === 0x2b || b === 0x2f || b === 0x5f || b === 0x2d
  const firstRun = (bytes, from) => {
    for (let i = from, run = 0; i < bytes.length; i++) if ((run = inClass(bytes[i]) ? run + 1 : 0) >= 16) return i - 15
    return -1
  }
  for (let b = 0; b < 256; b++) {
    for (let t = 0; t < 40; t++) {
      const len = rand() % 100
      const pick = [0x61, 0x5a, 0x30, 0x2b, 0x2f, 0x5f, 0x2d, b, b, 0x20, 0x3d]
      const bytes = Array.from({length: len}, () => (rand() % 8 === 0 ? pick[rand() % pick.length] : 0x61 + (rand() % 26)))
      mem.set(bytes, AT)
      for (const from of [0, rand() % (len + 1), len]) {
        const want = firstRun(bytes, from)
        if (class_run(AT, from, len) !== want) throw new Error(`class_run wrong with byte ${b.toString(16)} in ${len} from ${from}`)
        let end = from
        while (end < len && inClass(bytes[end])) end++
        if (class_end(AT, from, len) !== end) throw new Error(`class_end wrong with byte ${b.toString(16)} in ${len} from ${from}`)
      }
    }
  }
}

// The visible-text walk on one small page of each construct, with a table of three names set up
// as html-text.ts sets its own (keys in base 37, slots by the golden-ratio hash); the whole walk is
// compared with the JavaScript walk by html-text-differential.test.ts.
function checkHtmlText({memory, visible, title_from, title_to, titles}) {
  const key = (name) => [...name].reduce((k, c) => k * 37 + (c >= 'a' ? c.charCodeAt(0) - 0x60 : c.charCodeAt(0) - 0x15), 0)
  const names = [['p', 1], ['title', 2], ['script', 3]]
  let shift = 27
  const slot = (k) => Math.imul(k | 0, 0x9e3779b1) >>> shift
  while (new Set(names.map(([n]) => slot(key(n)))).size < names.length) shift--
  const keys = new BigInt64Array(memory.buffer, 0, 512)
  const kinds = new Uint8Array(memory.buffer, 4096, 512)
  for (const [n, kind] of names) {
    keys[slot(key(n))] = BigInt(key(n))
    kinds[slot(key(n))] = kind
  }
  const page = '<title>T &amp; U</title><P>a  b&lt;</p><script>x</script>c&#x1F600;<!-- z -->d\n\n e &am'
  const SRC = 8192
  const OUT = 65536
  const bytes = Buffer.from(memory.buffer)
  bytes.write(page + '\0\0\0\0', SRC, 2 * (page.length + 4), 'utf16le')
  const n = visible(SRC, page.length, OUT, shift)
  const text = bytes.toString('utf16le', OUT, OUT + 2 * n)
  const want = 'a b<\nc\u{1F600}d\ne &am'
  if (text !== want) throw new Error(`html-text: ${JSON.stringify(text)}, not ${JSON.stringify(want)}`)
  if (titles.value !== 1 || bytes.toString('utf16le', title_from.value, title_to.value) !== 'T &amp; U') throw new Error('html-text: title place wrong')
  const cut = '<p>&am<b>p;</p>'
  bytes.write(cut + '\0\0\0\0', SRC, 2 * (cut.length + 4), 'utf16le')
  if (visible(SRC, cut.length, OUT, shift) !== -1) throw new Error('html-text: a reference cut by a tag not reported')
}

// The text forms on every ASCII byte at every place of a block and of the tail, with a table
// that drops tab, LF, VT, FF, CR, 0x1C-0x1F and space: both forms equal a byte loop's.
function checkTextForms({memory, forms, space_free}) {
  const mem = new Uint8Array(memory.buffer)
  const drop = (c) => (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20)
  for (let c = 0; c < 0x80; c++) mem[c] = drop(c) ? 0 : 1
  const AT = 256
  for (const len of [16, 37, 70]) {
    for (let at = 0; at < len; at++) {
      for (let b = 0; b < 0x80; b++) {
        const src = Array.from({length: len}, (_, k) => (k === at ? b : 0x61 + (k % 26)))
        mem.set(src, AT)
        const dots = AT + 128
        const spaces = AT + 256
        const d = forms(AT, len, dots, spaces)
        const wantDots = src.filter((x) => x !== 0x2e)
        const wantSpace = src.filter((x) => !drop(x))
        if (d !== wantDots.length || wantDots.some((x, k) => mem[dots + k] !== x)) throw new Error(`text-forms: dot-free form wrong for byte ${b.toString(16)} at ${at} of ${len}`)
        if (space_free.value !== wantSpace.length || wantSpace.some((x, k) => mem[spaces + k] !== x)) throw new Error(`text-forms: space-free form wrong for byte ${b.toString(16)} at ${at} of ${len}`)
      }
    }
  }
}

const MODULES = [
  {wat: 'run-finder.wat', ts: 'run-finder-wasm.ts', check: checkRunFinder},
  {wat: 'plain-maps.wat', ts: 'plain-maps-wasm.ts', check: checkPlainMaps},
  {wat: 'html-text.wat', ts: 'html-text-wasm.ts', check: checkHtmlText},
  {wat: 'text-forms.wat', ts: 'text-forms-wasm.ts', check: checkTextForms},
]

let stale = false
for (const {wat, ts: tsFile, check} of MODULES) {
  const bytes = await assemble(wat, readFileSync(scanner(wat), 'utf8'))
  const {instance} = await WebAssembly.instantiate(bytes)
  check(instance.exports)
  const b64 = Buffer.from(bytes).toString('base64')
  const file = scanner(tsFile)
  const ts = readFileSync(file, 'utf8')
  const marker = wat.replace(/\.wat$/, '.wasm').replace('.', '\\.')
  const re = new RegExp(`(\\/\\/ BEGIN ${marker}\\n)[\\s\\S]*?(\\n\\/\\/ END ${marker})`)
  if (!re.test(ts)) throw new Error(`${file}: no BEGIN/END markers`)
  const lines = b64.match(/.{1,100}/g).map((l) => `  '${l}' +`).join('\n')
  const next = ts.replace(re, `$1const MODULE_BASE64 =\n${lines.slice(0, -2)}\n$2`)
  if (process.argv.includes('--check')) {
    if (next !== ts) {
      console.error(`${tsFile} is stale: run node scripts/gen-wasm.mjs`)
      stale = true
    } else console.log(`${tsFile}: up to date (${bytes.length} bytes)`)
  } else {
    writeFileSync(file, next)
    console.log(`${tsFile}: ${bytes.length} bytes`)
  }
}
if (stale) process.exit(1)
