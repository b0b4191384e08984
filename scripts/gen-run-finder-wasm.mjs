#!/usr/bin/env node
// Assembles src/plugins/scanner/run-finder.wat into WebAssembly and writes the bytes (base64)
// into src/plugins/scanner/run-finder-wasm.ts between its BEGIN/END markers; `--check` only
// compares (exit 1 when the embedded bytes are stale). Written here instead of taking on an
// assembler dependency: it understands exactly the subset the .wat uses — a module of memory,
// data segments and functions whose bodies are flat instruction sequences (no folded forms).
// Before writing, it checks the .wat's lookup tables against the byte rules they encode.
import {readFileSync, writeFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

const WAT = fileURLToPath(new URL('../src/plugins/scanner/run-finder.wat', import.meta.url))
const TS = fileURLToPath(new URL('../src/plugins/scanner/run-finder-wasm.ts', import.meta.url))

// ---- s-expressions -------------------------------------------------------------------------
function tokens(src) {
  const out = []
  let i = 0
  while (i < src.length) {
    const c = src[i]
    if (c === ';' && src[i + 1] === ';') {
      while (i < src.length && src[i] !== '\n') i++
    } else if (c === '(' || c === ')') {
      out.push(c)
      i++
    } else if (/\s/.test(c)) i++
    else if (c === '"') {
      let j = i + 1
      while (src[j] !== '"') j += src[j] === '\\' ? 2 : 1
      out.push(src.slice(i, j + 1))
      i = j + 1
    } else {
      let j = i
      while (j < src.length && !/[\s()]/.test(src[j])) j++
      out.push(src.slice(i, j))
      i = j
    }
  }
  return out
}

function parse(ts) {
  let k = 0
  const node = () => {
    if (ts[k] !== '(') return ts[k++]
    k++
    const list = []
    while (ts[k] !== ')') list.push(node())
    k++
    return list
  }
  return node()
}

function stringBytes(lit) {
  const out = []
  const s = lit.slice(1, -1)
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\') {
      out.push(parseInt(s.slice(i + 1, i + 3), 16))
      i += 2
    } else out.push(s.charCodeAt(i))
  }
  return out
}

// ---- encoding ------------------------------------------------------------------------------
const u32 = (n) => {
  const out = []
  do {
    let b = n & 0x7f
    n >>>= 7
    if (n !== 0) b |= 0x80
    out.push(b)
  } while (n !== 0)
  return out
}
const s64 = (v) => {
  let n = BigInt(v)
  const out = []
  for (;;) {
    const b = Number(n & 0x7fn)
    n >>= 7n
    if ((n === 0n && (b & 0x40) === 0) || (n === -1n && (b & 0x40) !== 0)) {
      out.push(b)
      return out
    }
    out.push(b | 0x80)
  }
}
const vec = (items) => [...u32(items.length), ...items.flat()]
const name = (s) => vec([...Buffer.from(s)])
const section = (id, body) => [id, ...u32(body.length), ...body]
const VALTYPE = {i32: 0x7f, i64: 0x7e, v128: 0x7b}

// Plain opcodes, and those with a memory argument (natural alignment as log2).
const PLAIN = {
  'select': [0x1b], 'return': [0x0f], 'else': [0x05], 'end': [0x0b],
  'i32.eqz': [0x45], 'i32.eq': [0x46], 'i32.ne': [0x47], 'i32.lt_s': [0x48], 'i32.lt_u': [0x49], 'i32.gt_s': [0x4a], 'i32.gt_u': [0x4b],
  'i32.le_s': [0x4c], 'i32.le_u': [0x4d], 'i32.ge_s': [0x4e], 'i32.ge_u': [0x4f], 'i64.eqz': [0x50], 'i64.lt_u': [0x54],
  'i32.add': [0x6a], 'i32.sub': [0x6b], 'i32.and': [0x71], 'i32.or': [0x72], 'i32.xor': [0x73], 'i32.shl': [0x74], 'i32.shr_u': [0x76],
  'i64.ctz': [0x7a], 'i64.add': [0x7c], 'i64.sub': [0x7d], 'i64.and': [0x83], 'i64.or': [0x84], 'i64.xor': [0x85], 'i64.shl': [0x86], 'i64.shr_u': [0x88],
  'i32.wrap_i64': [0xa7], 'i64.extend_i32_u': [0xad],
  'i8x16.swizzle': [0xfd, 0x0e], 'i8x16.eq': [0xfd, 0x23], 'i8x16.ne': [0xfd, 0x24], 'i8x16.lt_u': [0xfd, 0x26], 'i8x16.gt_s': [0xfd, 0x27], 'i8x16.gt_u': [0xfd, 0x28],
  'v128.and': [0xfd, 0x4e], 'v128.andnot': [0xfd, 0x4f], 'v128.or': [0xfd, 0x50], 'i8x16.bitmask': [0xfd, 0x64], 'i8x16.shr_u': [0xfd, 0x6d], 'i8x16.sub': [0xfd, 0x71],
  'v128.any_true': [0xfd, 0x53], 'i64x2.shl': [0xfd, 0xcb, 0x01], 'i64x2.shr_u': [0xfd, 0xcd, 0x01],
}
const MEMORY = {
  'i32.load8_u': [[0x2d], 0], 'i32.store': [[0x36], 2], 'i64.load': [[0x29], 3], 'i64.store': [[0x37], 3],
  'v128.load': [[0xfd, 0x00], 4], 'v128.store': [[0xfd, 0x0b], 4],
}

function assembleFunction(f, funcIndex, types) {
  // (func $name (export "x")? (param $a t)* (result t)? (local $l t)* instr…)
  let k = 2
  let exported = null
  const params = []
  const results = []
  const locals = []
  while (Array.isArray(f[k])) {
    const [kind, ...rest] = f[k]
    if (kind === 'export') exported = stringBytes(rest[0])
    else if (kind === 'param') params.push([rest[0], rest[1]])
    else if (kind === 'result') results.push(rest[0])
    else if (kind === 'local') locals.push([rest[0], rest[1]])
    else throw new Error(`unknown func field ${kind}`)
    k++
  }
  const localIndex = new Map([...params, ...locals].map(([n], i) => [n, i]))
  const labels = []
  const code = []
  const body = f.slice(k)
  for (let i = 0; i < body.length; i++) {
    const op = body[i]
    const arg = () => body[++i]
    const local = () => {
      const n = arg()
      if (!localIndex.has(n)) throw new Error(`unknown local ${n}`)
      return u32(localIndex.get(n))
    }
    const depth = () => {
      const l = arg()
      const d = labels.lastIndexOf(l)
      if (d < 0) throw new Error(`unknown label ${l}`)
      return u32(labels.length - 1 - d)
    }
    if (op === 'block' || op === 'loop') {
      labels.push(arg())
      code.push(op === 'block' ? 0x02 : 0x03, 0x40)
    } else if (op === 'if') {
      labels.push(null)
      code.push(0x04, 0x40)
    } else if (op === 'end') {
      labels.pop()
      code.push(0x0b)
    } else if (op === 'br' || op === 'br_if') code.push(op === 'br' ? 0x0c : 0x0d, ...depth())
    else if (op === 'local.get') code.push(0x20, ...local())
    else if (op === 'local.set') code.push(0x21, ...local())
    else if (op === 'local.tee') code.push(0x22, ...local())
    else if (op === 'call') code.push(0x10, ...u32(funcIndex(arg())))
    else if (op === 'i32.const' || op === 'i64.const') code.push(op === 'i32.const' ? 0x41 : 0x42, ...s64(arg()))
    else if (op === 'v128.const') {
      if (arg() !== 'i8x16') throw new Error('v128.const: i8x16 only')
      const bytes = Array.from({length: 16}, () => Number(arg()) & 0xff)
      code.push(0xfd, 0x0c, ...bytes)
    } else if (op in MEMORY) {
      const [opcode, natural] = MEMORY[op]
      let offset = 0
      let align = natural
      while (/^(offset|align)=/.test(body[i + 1] ?? '')) {
        const [key, value] = arg().split('=')
        if (key === 'offset') offset = Number(value)
        else align = Math.log2(Number(value) || 1)
      }
      code.push(...opcode, ...u32(align), ...u32(offset))
    } else if (op in PLAIN) code.push(...PLAIN[op])
    else throw new Error(`unknown instruction ${op}`)
  }
  code.push(0x0b)
  const sig = JSON.stringify([params.map(([, t]) => t), results])
  if (!types.has(sig)) types.set(sig, types.size)
  // Locals grouped by runs of one type.
  const groups = []
  for (const [, t] of locals) {
    const last = groups[groups.length - 1]
    if (last !== undefined && last[1] === t) last[0]++
    else groups.push([1, t])
  }
  const localBytes = vec(groups.map(([n, t]) => [...u32(n), VALTYPE[t]]))
  return {name: f[1], exported, type: types.get(sig), params, results, code: [...localBytes, ...code]}
}

function assemble(src) {
  const m = parse(tokens(src))
  if (m[0] !== 'module') throw new Error('not a module')
  const fields = m.slice(1)
  const funcs = fields.filter((f) => f[0] === 'func')
  const names = funcs.map((f) => f[1])
  const funcIndex = (n) => {
    const i = names.indexOf(n)
    if (i < 0) throw new Error(`unknown function ${n}`)
    return i
  }
  const types = new Map()
  const built = funcs.map((f) => assembleFunction(f, funcIndex, types))
  const memory = fields.find((f) => f[0] === 'memory')
  const memoryPages = Number(memory[memory.length - 1])
  const memoryExport = memory.find((x) => Array.isArray(x) && x[0] === 'export')
  const data = fields.filter((f) => f[0] === 'data').map((f) => ({at: Number(f[1][1]), bytes: stringBytes(f[2])}))
  const typeList = [...types.keys()].map((s) => JSON.parse(s))
  const exports = []
  if (memoryExport !== undefined) exports.push([...name(stringBytes(memoryExport[1]).map((b) => String.fromCharCode(b)).join('')), 0x02, 0x00])
  built.forEach((f, i) => {
    if (f.exported !== null) exports.push([...name(String.fromCharCode(...f.exported)), 0x00, ...u32(i)])
  })
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(typeList.map(([p, r]) => [0x60, ...vec(p.map((t) => [VALTYPE[t]])), ...vec(r.map((t) => [VALTYPE[t]]))]))),
    ...section(3, vec(built.map((f) => u32(f.type)))),
    ...section(5, vec([[0x00, ...u32(memoryPages)]])),
    ...section(7, vec(exports)),
    ...section(10, vec(built.map((f) => [...u32(f.code.length), ...f.code]))),
    ...section(11, vec(data.map((d) => [0x00, 0x41, ...s64(d.at), 0x0b, ...vec(d.bytes)]))),
  ]
  return {bytes: Uint8Array.from(bytes), data}
}

// ---- the tables, checked against the rules they encode ---------------------------------------
function checkTables(data) {
  const mem = new Uint8Array(1024)
  for (const d of data) mem.set(d.bytes, d.at)
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

const {bytes, data} = assemble(readFileSync(WAT, 'utf8'))
checkTables(data)
if (!WebAssembly.validate(bytes)) throw new Error('the assembled module does not validate')
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
