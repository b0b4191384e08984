#!/usr/bin/env node
// Assembles src/plugins/scanner/run-finder.wat into WebAssembly with wabt (the WebAssembly
// project's own toolkit, a dev dependency: the product embeds the bytes and never loads wabt) and
// writes them (base64) into src/plugins/scanner/run-finder-wasm.ts between its BEGIN/END
// markers; `--check` only compares (exit 1 when the embedded bytes are stale). Before writing, it
// instantiates the module and checks the lookup tables its data segments put in memory against
// the byte rules they encode.
import {readFileSync, writeFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import wabtInit from 'wabt'

const WAT = fileURLToPath(new URL('../src/plugins/scanner/run-finder.wat', import.meta.url))
const TS = fileURLToPath(new URL('../src/plugins/scanner/run-finder-wasm.ts', import.meta.url))

async function assemble(src) {
  const wabt = await wabtInit()
  const mod = wabt.parseWat('run-finder.wat', src, {simd: true})
  try {
    mod.resolveNames()
    mod.validate()
    return Uint8Array.from(mod.toBinary({}).buffer)
  } finally {
    mod.destroy()
  }
}

// The tables (T1, T2, T3 at 0, 16, 32; LEAD at 64), read from the instantiated module's memory.
function checkTables(mem) {
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

const bytes = await assemble(readFileSync(WAT, 'utf8'))
const {instance} = await WebAssembly.instantiate(bytes)
checkTables(new Uint8Array(instance.exports.memory.buffer, 0, 1024))
const b64 = Buffer.from(bytes).toString('base64')
const ts = readFileSync(TS, 'utf8')
const re = /(\/\/ BEGIN run-finder\.wasm\n)[\s\S]*?(\n\/\/ END run-finder\.wasm)/
if (!re.test(ts)) throw new Error(`${TS}: no BEGIN/END markers`)
const lines = b64.match(/.{1,100}/g).map((l) => `  '${l}' +`).join('\n')
const next = ts.replace(re, `$1const MODULE_BASE64 =\n${lines.slice(0, -2)}\n$2`)
if (process.argv.includes('--check')) {
  if (next !== ts) {
    console.error('run-finder-wasm.ts is stale: run node scripts/gen-run-finder-wasm.mjs')
    process.exit(1)
  }
  console.log(`run-finder-wasm.ts: up to date (${bytes.length} bytes)`)
} else {
  writeFileSync(TS, next)
  console.log(`run-finder-wasm.ts: ${bytes.length} bytes`)
}
