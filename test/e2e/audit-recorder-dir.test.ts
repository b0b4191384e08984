import {before, describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {cpSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {parseRecorderEntry} from '../../src/plugins/receipts/index.js'
import {encodePublicKeyText, keyPairFromSeed, sha256} from '../../src/plugins/signing/index.js'
import {runCli} from '../helpers/cli.js'
import {relink} from '../helpers/entry-relink.js'
import {dropLine, tearLastLine} from '../helpers/evidence-mutations.js'
import {recordRun, steppingClock} from '../helpers/recorder-fixture.js'

// A flight-recorder directory as `pipelock run` leaves it after three process runs — the
// second one killed (no session_close) — with files rotated every 4 entries and signed
// checkpoints, written by the recorder and receipt emitter the proxy uses. verify-receipt and
// transcript-root read it across files and restarts; damaged copies are reported precisely.

const key = keyPairFromSeed(sha256('pipelock-audit-recorder-dir-test'))
const dir = mkdtempSync(path.join(tmpdir(), 'pl-audit-rec-'))
const evidence = path.join(dir, 'evidence')
const pubFile = path.join(dir, 'receipt.pub')
const clock = steppingClock(1_790_000_000_000_000_000n, 1_000_000_000n)

function run(n: number, close: boolean): Promise<void> {
  const decisions = [0, 1, 2].map((i) => ({
    method: 'GET',
    target: `https://h${i}.example/x`,
    transport: 'fetch',
    verdict: i === 1 ? 'block' : 'allow',
    ...(i === 1 ? {layer: 'blocklist'} : {}),
  }))
  return recordRun({dir: evidence, key, clock, run: n, decisions, crash: !close, maxEntriesPerFile: 4, checkpointInterval: 5})
}

const verify = (...args: string[]) => runCli(['verify-receipt', ...args])
const fileNo = (name: string): number => Number(/-(\d+)\.jsonl$/.exec(name)?.[1] ?? 0)

before(async () => {
  writeFileSync(pubFile, encodePublicKeyText(key.publicKey))
  await run(1, true)
  await run(2, false)
  await run(3, true)
})

describe('verify-receipt on a rotated, restarted flight-recorder directory', () => {
  test('valid across files and restarts; the killed run is a warning, not a failure', () => {
    const files = readdirSync(evidence).sort()
    assert.ok(files.length >= 4, files.join(' '))
    const r = verify(evidence, '--key', pubFile)
    assert.equal(r.status, 0, r.stdout + r.stderr)
    assert.match(r.stdout, /^CHAIN VALID: .* \(session proxy\)\n  Receipts:  14\n  Final seq: 13\n  Root hash: [0-9a-f]{64}\n/)
    assert.match(r.stderr, /^warning: evidence-proxy-\d+\.jsonl:\d+: run run-2 \(session_open at chain_seq 5, evidence-proxy-\d+\.jsonl:\d+\) has no session_close before the next run opens at chain_seq 9: that process stopped without a clean shutdown\n$/)
    const j = JSON.parse(verify('--chain', evidence, '--key', pubFile, '--json').stdout)
    assert.equal(j.verdict, 'valid')
    assert.equal(j.files.length, files.length)
    assert.equal(j.actionReceipts.runs, 3)
    assert.equal(j.actionReceipts.unclosedRuns, 1)
    assert.equal(j.actionReceipts.controlReceipts, 5)
    assert.deepEqual(j.counts.byVerdict, {allow: 6, block: 3})
    assert.ok(j.entries.signedCheckpoints >= 2)
    assert.equal(j.entries.signedCheckpoints, j.entries.checkpoints)
  })

  test('another key fails at the first receipt', () => {
    const other = keyPairFromSeed(sha256('another key')).publicKey.toString('hex')
    const r = verify(evidence, '--key', other)
    assert.equal(r.status, 1)
    assert.match(r.stdout, /\n  Error:    seq 0: signature: signer_key [0-9a-f]{64} does not match expected key [0-9a-f]{64}\n  Broke at: seq 0\n  Line:     evidence-proxy-0\.jsonl:\d+\n$/)
  })

  test('a missing middle file is a gap between files, named precisely', () => {
    const d = path.join(dir, 'gap')
    cpSync(evidence, d, {recursive: true})
    const files = readdirSync(d).sort((a, b) => Number(/-(\d+)\.jsonl$/.exec(a)?.[1]) - Number(/-(\d+)\.jsonl$/.exec(b)?.[1]))
    const removed = files[1] as string
    const next = files[2] as string
    rmSync(path.join(d, removed))
    const r = verify(d, '--key', pubFile)
    assert.equal(r.status, 1)
    const first = Number(/-(\d+)\.jsonl$/.exec(removed)?.[1])
    const nextSeq = Number(/-(\d+)\.jsonl$/.exec(next)?.[1])
    // the entry gap is the error reported (it names the missing entries), not the receipt seq gap it causes
    assert.ok(
      r.stdout.includes(`gap between files: ${files[0]} ends at entry seq ${first - 1}, ${next} starts at entry seq ${nextSeq} (entries ${first}–${nextSeq - 1} are missing)\n  Line:     ${next}:1\n`),
      r.stdout,
    )
    const j = JSON.parse(verify(d, '--key', pubFile, '--json').stdout)
    assert.equal(j.entries.valid, false)
  })

  test('a session file that is a symbolic link is not read, and the set is not verified', () => {
    const d = path.join(dir, 'symlinked')
    cpSync(evidence, d, {recursive: true})
    const last = readdirSync(d).sort((a, b) => Number(/-(\d+)\.jsonl$/.exec(a)?.[1]) - Number(/-(\d+)\.jsonl$/.exec(b)?.[1])).at(-1) as string
    const moved = path.join(dir, `moved-${last}`)
    renameSync(path.join(d, last), moved)
    symlinkSync(moved, path.join(d, last))
    const r = verify(d, '--key', pubFile)
    assert.equal(r.status, 1, r.stdout + r.stderr)
    assert.equal(
      r.stdout.split('\n').slice(0, 2).join('\n'),
      `CHAIN BROKEN: ${d} (session proxy)\n  Error:    ${last} is a symbolic link, not a regular file: it was not read, so the session's files cannot all be verified (put the real file in its place)`,
    )
    const j = JSON.parse(verify(d, '--key', pubFile, '--json').stdout)
    assert.equal(j.verdict, 'invalid')
    assert.equal(j.failure.component, 'files')
  })

  test('a checkpoint whose signature was removed (entry chain recomputed) fails when its run signs the others', async () => {
    const d = path.join(dir, 'stripped')
    await recordRun({dir: d, key, clock, run: 1, decisions: [0, 1, 2, 3, 4, 5].map((i) => ({method: 'GET', target: `https://s${i}.example/`, transport: 'fetch', verdict: 'allow'})), checkpointInterval: 3})
    const file = path.join(d, 'evidence-proxy-0.jsonl')
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n')
    const signed = lines.flatMap((l, i) => (/"type":"checkpoint".*"signature":"[0-9a-f]{128}"/.test(l) ? [i] : []))
    assert.ok(signed.length >= 2, `${signed.length} signed checkpoints`)
    // The tamperer blanks the last signature and rewrites the (keyless) entry hashes from there on.
    const from = signed.at(-1) as number
    lines[from] = (lines[from] as string).replace(/"signature":"[0-9a-f]{128}"/, '"signature":""')
    relink(lines, from)
    writeFileSync(file, lines.join('\n') + '\n')
    const j = JSON.parse(verify(d, '--key', pubFile, '--json').stdout)
    const seq = parseRecorderEntry(lines[from] as string).seq
    assert.equal(j.verdict, 'invalid')
    assert.deepEqual(j.failure, {
      component: 'entries',
      message: `entry seq ${seq}: checkpoint is unsigned, but an earlier checkpoint of the same run (run-1) is signed: its signature was removed`,
      file: 'evidence-proxy-0.jsonl',
      line: from + 1,
    })
    // the configuration is not blamed for a signature that was removed
    assert.deepEqual(j.warnings.filter((w: {message: string}) => w.message.includes('checkpoints are unsigned')), [])
  })

  test('the checkpoint written on close, removed after a session_close of a run that signed checkpoints, fails', async () => {
    const d = path.join(dir, 'no-close-checkpoint')
    await recordRun({dir: d, key, clock, run: 1, decisions: [0, 1, 2, 3, 4].map((i) => ({method: 'GET', target: `https://c${i}.example/`, transport: 'fetch', verdict: 'allow'})), checkpointInterval: 3})
    const f = path.join(d, 'evidence-proxy-0.jsonl')
    const lines = readFileSync(f, 'utf8').trimEnd().split('\n')
    assert.match(lines[3] as string, /"type":"checkpoint".*"signature":"[0-9a-f]{128}"/)
    assert.match(lines.at(-1) as string, /"type":"checkpoint"/)
    assert.match(lines.at(-2) as string, /"session_control":\{"kind":"session_close"/)
    assert.equal(verify(d, '--key', pubFile).status, 0)
    dropLine(f, f, lines.length)
    const r = verify(d, '--key', pubFile, '--json')
    assert.equal(r.status, 1, r.stdout + r.stderr)
    assert.deepEqual(JSON.parse(r.stdout).failure, {
      component: 'entries',
      message: `the session_close of run run-1 (chain_seq 6, evidence-proxy-0.jsonl:${lines.length - 1}) is followed by the end of the input, not the checkpoint the recorder writes on close: it was removed`,
      file: 'evidence-proxy-0.jsonl',
      line: lines.length - 1,
    })
  })

  test('the checkpoint written on close, cut mid-line instead of removed: still a failure, named at the cut line; a torn line elsewhere stays a warning', async () => {
    const d = path.join(dir, 'torn-close-checkpoint')
    await recordRun({dir: d, key, clock, run: 1, decisions: [0, 1, 2, 3, 4].map((i) => ({method: 'GET', target: `https://k${i}.example/`, transport: 'fetch', verdict: 'allow'})), checkpointInterval: 3})
    const f = path.join(d, 'evidence-proxy-0.jsonl')
    const lines = readFileSync(f, 'utf8').trimEnd().split('\n')
    assert.match(lines.at(-2) as string, /"session_control":\{"kind":"session_close"/)
    assert.match(lines.at(-1) as string, /"type":"checkpoint"/)
    tearLastLine(f, f, 50)
    const r = verify(d, '--key', pubFile)
    assert.equal(r.status, 1, r.stdout + r.stderr)
    const error = `the session_close of run run-1 (chain_seq 6, evidence-proxy-0.jsonl:${lines.length - 1}) is followed by a truncated last line (50 bytes, no newline, does not parse), not the checkpoint the recorder writes on close: it was cut short or removed`
    assert.equal(r.stdout, `CHAIN BROKEN: ${d} (session proxy)\n  Error:    ${error}\n  Line:     evidence-proxy-0.jsonl:${lines.length}\n`)
    // not passed off as an interrupted write
    assert.doesNotMatch(r.stderr, /truncated last line .*ignored/)
    assert.deepEqual(JSON.parse(verify(d, '--key', pubFile, '--json').stdout).failure, {component: 'entries', message: error, file: 'evidence-proxy-0.jsonl', line: lines.length})
    // the packet records the failure; its evidence.jsonl (whole lines only) fails the same rule
    const packet = path.join(dir, 'torn-close-packet')
    const b = runCli(['audit', 'packet', 'build', '--chain', d, '--key', pubFile, '--out', packet])
    assert.equal(b.status, 1)
    assert.equal(b.stderr, `audit packet build: the evidence did not verify (verdict invalid): evidence-proxy-0.jsonl:${lines.length}: ${error}\n`)
    // the same cut of a checkpoint that follows no session_close (a crash mid-run) is a warning
    const c = path.join(dir, 'torn-mid-run-checkpoint')
    await recordRun({dir: c, key, clock, run: 1, decisions: [0, 1, 2].map((i) => ({method: 'GET', target: `https://m${i}.example/`, transport: 'fetch', verdict: 'allow'})), checkpointInterval: 4, crash: true})
    const g = path.join(c, 'evidence-proxy-0.jsonl')
    const cl = readFileSync(g, 'utf8').trimEnd().split('\n')
    assert.match(cl.at(-1) as string, /"type":"checkpoint"/)
    assert.doesNotMatch(cl.at(-2) as string, /session_close/)
    tearLastLine(g, g, 50)
    const w = verify(c, '--key', pubFile)
    assert.equal(w.status, 0, w.stdout + w.stderr)
    assert.match(w.stderr, new RegExp(`warning: evidence-proxy-0\\.jsonl:${cl.length}: truncated last line \\(50 bytes, no newline, does not parse\\): an interrupted write, not evidence; ignored\\n`))
  })

  test('a run whose only checkpoint is the one written on close: removing it, and rewriting the entries after it, fails', async () => {
    const d = path.join(dir, 'only-close-checkpoint')
    const decisions = [0, 1, 2].map((i) => ({method: 'GET', target: `https://o${i}.example/`, transport: 'fetch', verdict: 'allow'}))
    await recordRun({dir: d, key, clock, run: 1, decisions})
    await recordRun({dir: d, key, clock, run: 2, decisions, crash: true})
    const f = path.join(d, 'evidence-proxy-0.jsonl')
    const lines = readFileSync(f, 'utf8').trimEnd().split('\n')
    // run 1: session_open, 3 decisions, session_close, then its only checkpoint (line 6)
    assert.match(lines[4] as string, /"session_control":\{"kind":"session_close"/)
    assert.match(lines[5] as string, /"type":"checkpoint".*"signature":"[0-9a-f]{128}"/)
    assert.equal(lines.filter((l) => l.includes('"type":"checkpoint"')).length, 1)
    assert.equal(verify(d, '--key', pubFile).status, 0)
    lines.splice(5, 1)
    relink(lines, 5)
    writeFileSync(f, lines.join('\n') + '\n')
    const r = verify(d, '--key', pubFile, '--json')
    assert.equal(r.status, 1, r.stdout + r.stderr)
    assert.deepEqual(JSON.parse(r.stdout).failure, {
      component: 'entries',
      message: 'the session_close of run run-1 (chain_seq 4, evidence-proxy-0.jsonl:5) is followed by entry seq 5 (action_receipt), not the checkpoint the recorder writes on close: it was removed',
      file: 'evidence-proxy-0.jsonl',
      line: 6,
    })
  })

  test('that closing checkpoint replaced by an unsigned one: valid, but every entry is reported as covered by no signature', async () => {
    const d = path.join(dir, 'unsigned-close-checkpoint')
    await recordRun({dir: d, key, clock, run: 1, decisions: [0, 1].map((i) => ({method: 'GET', target: `https://u${i}.example/`, transport: 'fetch', verdict: 'allow'}))})
    const f = path.join(d, 'evidence-proxy-0.jsonl')
    const lines = readFileSync(f, 'utf8').trimEnd().split('\n')
    assert.equal(lines.length, 5)
    const intact = verify(d, '--key', pubFile, '--json')
    assert.equal(intact.stderr, '')
    assert.equal(JSON.parse(intact.stdout).entries.unsignedTail, undefined)
    lines[4] = (lines[4] as string).replace(/"signature":"[0-9a-f]{128}"/, '"signature":""')
    relink(lines, 4)
    writeFileSync(f, lines.join('\n') + '\n')
    const r = verify(d, '--key', pubFile)
    assert.equal(r.status, 0, r.stdout + r.stderr)
    assert.equal(
      r.stderr,
      'warning: evidence-proxy-0.jsonl:1: no verified checkpoint signature covers any of the 5 entries (entry seq 0-4): nothing but the entry chain, which has no key, shows they were not rewritten\n' +
        'warning: 1 of 1 checkpoints are unsigned (flight_recorder.sign_checkpoints off): they add no signature over the entry chain\n',
    )
    assert.deepEqual(JSON.parse(verify(d, '--key', pubFile, '--json').stdout).entries.unsignedTail, {entries: 5, firstSeq: '0', lastSeq: '4'})
  })

  test('a crashed run: the entries after its last signed checkpoint are counted as covered by no signature', async () => {
    const d = path.join(dir, 'crashed-tail')
    await recordRun({dir: d, key, clock, run: 1, decisions: [0, 1, 2, 3].map((i) => ({method: 'GET', target: `https://t${i}.example/`, transport: 'fetch', verdict: 'allow'})), checkpointInterval: 3, crash: true})
    const r = verify(d, '--key', pubFile)
    assert.equal(r.status, 0, r.stdout + r.stderr)
    assert.equal(
      r.stderr,
      'warning: evidence-proxy-0.jsonl:1: the last run run-1 (session_open at chain_seq 0) has no session_close: the recorder was not closed cleanly (crash or kill) or is still running\n' +
        'warning: evidence-proxy-0.jsonl:5: the last 2 entries (entry seq 4-5) come after the last signed checkpoint (entry seq 3): no signature covers them, so nothing shows they were not rewritten (a run that crashed or is still running leaves such a tail; a closed run ends with its checkpoint)\n',
    )
    assert.deepEqual(JSON.parse(verify(d, '--key', pubFile, '--json').stdout).entries.unsignedTail, {entries: 2, firstSeq: '4', lastSeq: '5'})
  })

  test('a line cut short in the middle of the first file: CHAIN BROKEN at its file and line, the files after it said to be unchecked, and the packet records where', () => {
    const d = path.join(dir, 'torn-mid')
    cpSync(evidence, d, {recursive: true})
    const files = readdirSync(d).filter((n) => n.endsWith('.jsonl'))
    const f = path.join(d, 'evidence-proxy-0.jsonl')
    const lines = readFileSync(f, 'utf8').split('\n')
    lines[1] = (lines[1] as string).slice(0, 60)
    writeFileSync(f, lines.join('\n'))
    const r = verify(d, '--key', pubFile)
    assert.equal(r.status, 1)
    const error = 'evidence-proxy-0.jsonl: line 2: parsing entry: unexpected end of JSON input (unterminated string) at column 57'
    assert.equal(r.stdout, `CHAIN BROKEN: ${d} (session proxy)\n  Error:    ${error}\n  Line:     evidence-proxy-0.jsonl:2\n`)
    // no "has no session_close", no unsigned tail: the part they would speak of was never checked
    assert.equal(
      r.stderr,
      `extracting receipts: reading entries: ${error}\n` +
        `warning: evidence-proxy-0.jsonl:2: verification stopped at this line: the rest of evidence-proxy-0.jsonl and the ${files.length - 1} files after it were not checked, so nothing is said here of what they hold (receipts, checkpoints, a session_close)\n`,
    )
    const packet = path.join(dir, 'torn-mid-packet')
    const b = runCli(['audit', 'packet', 'build', '--chain', d, '--key', pubFile, '--out', packet])
    assert.equal(b.status, 1)
    assert.equal(b.stderr, `audit packet build: the evidence did not verify (verdict invalid): ${error}\n`)
    assert.equal(JSON.parse(readFileSync(path.join(packet, 'packet.json'), 'utf8')).verifier.error, error)
  })

  test('entries swapped or moved are out of order, named with where the expected one is; one removed is missing', () => {
    const src = path.join(evidence, 'evidence-proxy-0.jsonl')
    const lines = readFileSync(src, 'utf8').trimEnd().split('\n')
    assert.ok(lines.length >= 4)
    const variant = (name: string, ls: string[]): string => {
      const d = path.join(dir, name)
      cpSync(evidence, d, {recursive: true})
      writeFileSync(path.join(d, 'evidence-proxy-0.jsonl'), ls.join('\n') + '\n')
      return d
    }
    const swapped = [...lines]
    ;[swapped[1], swapped[2]] = [swapped[2] as string, swapped[1] as string]
    const s = verify(variant('swapped', swapped), '--key', pubFile)
    assert.equal(s.status, 1)
    assert.equal(s.stdout, `CHAIN BROKEN: ${path.join(dir, 'swapped')} (session proxy)\n  Error:    entries out of order: entry seq 2 where 1 was expected; entry seq 1 comes later, at evidence-proxy-0.jsonl:3\n  Line:     evidence-proxy-0.jsonl:2\n`)
    // moved into the next file: found there, named by file and line
    const next = readdirSync(evidence).filter((n) => n !== 'evidence-proxy-0.jsonl' && n.endsWith('.jsonl')).sort((a, b) => fileNo(a) - fileNo(b))[0] as string
    const d = variant('moved', lines.filter((_, i) => i !== 1))
    const nextLines = readFileSync(path.join(d, next), 'utf8').trimEnd().split('\n')
    writeFileSync(path.join(d, next), [nextLines[0], lines[1], ...nextLines.slice(1)].join('\n') + '\n')
    const m = verify(d, '--key', pubFile, '--json')
    assert.equal(m.status, 1)
    assert.deepEqual(JSON.parse(m.stdout).failure, {
      component: 'entries',
      message: `entries out of order: entry seq 2 where 1 was expected; entry seq 1 comes later, at ${next}:2`,
      file: 'evidence-proxy-0.jsonl',
      line: 2,
    })
    // removed, it is nowhere later: missing, as before
    const r = verify(variant('removed', lines.filter((_, i) => i !== 1)), '--key', pubFile)
    assert.equal(r.status, 1)
    assert.match(r.stdout, /\n {2}Error: {4}entry seq gap: expected 1, got 2 \(entry 1 is missing\)\n {2}Line: {5}evidence-proxy-0\.jsonl:2\n$/)
  })

  test('a duplicated line, and a file present twice, are said to be duplicates, not missing entries', () => {
    const lines = readFileSync(path.join(evidence, 'evidence-proxy-0.jsonl'), 'utf8').trimEnd().split('\n')
    const d = path.join(dir, 'dup-line')
    cpSync(evidence, d, {recursive: true})
    writeFileSync(path.join(d, 'evidence-proxy-0.jsonl'), [lines[0], lines[1], lines[1], ...lines.slice(2)].join('\n') + '\n')
    const r = verify(d, '--key', pubFile)
    assert.equal(r.status, 1)
    assert.equal(r.stdout, `CHAIN BROKEN: ${d} (session proxy)\n  Error:    entry seq gap: expected 2, got 1 (entry 1 appears again: duplicated)\n  Line:     evidence-proxy-0.jsonl:3\n`)

    const f = path.join(dir, 'dup-file')
    cpSync(evidence, f, {recursive: true})
    cpSync(path.join(f, 'evidence-proxy-4.jsonl'), path.join(f, 'evidence-proxy-04.jsonl'))
    const last = parseRecorderEntry(readFileSync(path.join(f, 'evidence-proxy-4.jsonl'), 'utf8').trimEnd().split('\n').at(-1) as string).seq
    const j = verify(f, '--key', pubFile, '--json')
    assert.equal(j.status, 1)
    // the two copies are read one after the other (which one first is the directory's order)
    const {failure} = JSON.parse(j.stdout)
    const [firstCopy, secondCopy] = failure.file === 'evidence-proxy-4.jsonl' ? ['evidence-proxy-04.jsonl', 'evidence-proxy-4.jsonl'] : ['evidence-proxy-4.jsonl', 'evidence-proxy-04.jsonl']
    assert.deepEqual(failure, {
      component: 'entries',
      message: `gap between files: ${firstCopy} ends at entry seq ${last}, ${secondCopy} starts at entry seq 4 (${secondCopy} overlaps the previous file: entries from seq 4 appear twice, duplicated)`,
      file: secondCopy,
      line: 1,
    })
  })

  test('a missing start (first file removed, or a rotated file given alone) is named at its file and line, with what to verify', () => {
    const d = path.join(dir, 'no-start')
    cpSync(evidence, d, {recursive: true})
    rmSync(path.join(d, 'evidence-proxy-0.jsonl'))
    const first = readFileSync(path.join(d, 'evidence-proxy-4.jsonl'), 'utf8').split('\n')[0] as string
    const prev = parseRecorderEntry(first).prevHash
    const seq = /"chain_seq":(\d+)/.exec(readFileSync(path.join(d, 'evidence-proxy-4.jsonl'), 'utf8'))?.[1]
    const entryText = `entry seq 4: first entry PrevHash should be "genesis", got "${prev}"`
    const r = verify(d, '--key', pubFile)
    assert.equal(r.status, 1)
    assert.equal(
      r.stdout,
      `CHAIN BROKEN: ${d} (session proxy)\n  Error:    the evidence starts at entry seq 4 (evidence-proxy-4.jsonl:1): entries 0–3 are missing; its first files were removed, and no retention anchor records that they expired (${entryText}); the receipt chain: seq ${seq}: root receipt segment must start at chain_seq 0\n  Line:     evidence-proxy-4.jsonl:1\n`,
    )
    const alone = path.join(evidence, 'evidence-proxy-4.jsonl')
    const a = verify(alone, '--key', pubFile)
    assert.equal(a.status, 1)
    assert.equal(
      a.stdout,
      `CHAIN BROKEN: ${alone}\n  Error:    the evidence starts at entry seq 4 (${alone}:1): entries 0–3 are missing; this file continues an earlier one: verify the whole recorder directory (--chain DIR) (${entryText}); the receipt chain: seq ${seq}: root receipt segment must start at chain_seq 0\n  Line:     ${alone}:1\n`,
    )
  })

  test('a torn last line after a crash is a warning', async () => {
    const d = path.join(dir, 'torn')
    cpSync(evidence, d, {recursive: true})
    // a fourth run, killed mid-write: its last line is no closing checkpoint (cutting that one fails, above)
    await recordRun({dir: d, key, clock, run: 4, decisions: [0, 1].map((i) => ({method: 'GET', target: `https://r${i}.example/`, transport: 'fetch', verdict: 'allow'})), crash: true, maxEntriesPerFile: 4, checkpointInterval: 5})
    const last = readdirSync(d).sort((a, b) => Number(/-(\d+)\.jsonl$/.exec(a)?.[1]) - Number(/-(\d+)\.jsonl$/.exec(b)?.[1])).at(-1) as string
    const f = path.join(d, last)
    assert.doesNotMatch(readFileSync(f, 'utf8').trimEnd().split('\n').at(-2) as string, /session_close/)
    tearLastLine(f, f, 40)
    const r = verify(d, '--key', pubFile)
    assert.equal(r.status, 0, r.stdout + r.stderr)
    assert.match(r.stderr, new RegExp(`warning: ${last.replace(/\./g, '\\.')}:\\d+: truncated last line \\(40 bytes, no newline, does not parse\\): an interrupted write, not evidence; ignored\\n`))
  })

  test('transcript-root states the root verify-receipt computed, and needs a key', () => {
    const j = JSON.parse(verify(evidence, '--key', pubFile, '--json').stdout)
    const r = runCli(['transcript-root', '--chain', evidence, '--key', pubFile])
    assert.equal(r.status, 0, r.stderr)
    const t0 = j.actionReceipts.startTime.replace(/\.\d+Z$/, 'Z')
    const t1 = j.actionReceipts.endTime.replace(/\.\d+Z$/, 'Z')
    assert.equal(
      r.stdout,
      `Transcript Root: ${evidence} (session proxy)\n  Session:       proxy\n  Root hash:     ${j.actionReceipts.rootHash}\n  Receipt count: 14\n  Final seq:     13\n  Start:         ${t0}\n  End:           ${t1}\n`,
    )
    const nokey = runCli(['transcript-root', '--chain', evidence])
    assert.equal(nokey.status, 2)
    assert.equal(nokey.stderr, '--key is required: transcript roots must be verified against a trusted signer key [USAGE]\n')
  })
})
