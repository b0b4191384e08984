import {before, describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {appendFileSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {encodePublicKeyText, keyPairFromSeed, sha256} from '../../src/plugins/signing/index.js'
import {runCli} from '../helpers/cli.js'
import {tearLastLine} from '../helpers/evidence-mutations.js'
import {recordRun, steppingClock} from '../helpers/recorder-fixture.js'

// `audit packet verify` proves the whole directory `audit packet build` wrote, not only
// packet.json and the signatures in evidence.jsonl: summary.md and verifier.txt are rendered
// again and compared, nothing else may lie in the directory, and evidence.jsonl must be the whole
// file the packet was built over. The evidence is a flight-recorder directory as `pipelock run`
// leaves it (rotated files, signed checkpoints; the last run killed, so the chain ends with a
// checkpoint and no session_close, and cutting it leaves a chain that still verifies).

const key = keyPairFromSeed(sha256('pipelock-audit-packet-whole-test'))
const dir = mkdtempSync(path.join(tmpdir(), 'pl-audit-packet-whole-'))
const recorder = path.join(dir, 'recorder')
const pubFile = path.join(dir, 'receipt.pub')
const packet = path.join(dir, 'packet')

const CHECKS = ['schema', 'files', 'evidence', 'evidence_whole', 'summary', 'verifier_output']
const FILES = 'packet.json, summary.md, evidence.jsonl, verifier.txt'

const verify = (d: string) => runCli(['audit', 'packet', 'verify', d, '--key', pubFile])
/** The verdict and its problems, before the list of checks. */
const verdictOf = (stdout: string): string => stdout.slice(0, stdout.indexOf('checks:\n'))
/** Each check's status, from the --json verdict. */
const statuses = (d: string): Record<string, string> => {
  const r = runCli(['audit', 'packet', 'verify', d, '--key', pubFile, '--json'])
  return Object.fromEntries((JSON.parse(r.stdout).checks as {check: string; status: string}[]).map((c) => [c.check, c.status]))
}
const allPassedBut = (failed: Record<string, string>): Record<string, string> => ({...Object.fromEntries(CHECKS.map((c) => [c, 'passed'])), ...failed})

/** A copy of the untampered packet to damage. */
function copy(name: string): string {
  const d = path.join(dir, name)
  cpSync(packet, d, {recursive: true})
  return d
}

/** The packet_id build gives an evidence.jsonl: ap- and the first 16 hex digits of its SHA-256. */
const idOf = (file: string): string => `ap-${sha256(readFileSync(file)).toString('hex').slice(0, 16)}`
const recordedId = (): string => JSON.parse(readFileSync(path.join(packet, 'packet.json'), 'utf8')).packet_id
const fileNo = (name: string): number => Number(/(\d+)\.jsonl$/.exec(name)?.[1] ?? 0)

function lines(file: string): string[] {
  return readFileSync(file, 'utf8').split('\n')
}

before(async () => {
  writeFileSync(pubFile, encodePublicKeyText(key.publicKey))
  const clock = steppingClock(1_790_000_000_000_000_000n, 1_000_000_000n)
  // run 2 is killed after two decisions, just after a periodic signed checkpoint
  for (const [run, crash, n] of [
    [1, false, 4],
    [2, true, 2],
  ] as const) {
    const decisions = [0, 1, 2, 3].slice(0, n).map((i) => ({method: 'GET', target: `https://h${i}.example/x`, transport: 'fetch', verdict: i === 1 ? 'block' : 'allow', ...(i === 1 ? {layer: 'blocklist'} : {})}))
    await recordRun({dir: recorder, key, clock, run, decisions, crash, maxEntriesPerFile: 4, checkpointInterval: 3})
  }
  const b = runCli(['audit', 'packet', 'build', '--chain', recorder, '--key', pubFile, '--out', packet])
  assert.equal(b.status, 0, b.stdout + b.stderr)
})

describe('audit packet verify proves the whole packet directory', () => {
  test('an untampered packet is valid, and the verdict lists every check it rests on', () => {
    const r = verify(packet)
    assert.equal(r.status, 0, r.stdout + r.stderr)
    assert.equal(
      r.stdout,
      [
        `PACKET VALID: ${packet} (verdict valid, 9 receipts)`,
        'checks:',
        '  passed  schema: packet.json has the v0 shape and keeps the format invariants',
        '  passed  files: the directory holds packet.json, summary.md, evidence.jsonl and verifier.txt, each a regular file, and nothing else',
        '  passed  evidence: evidence.jsonl verifies again with the recorded verdict, receipt count, root hash, signer and derived fields',
        '  passed  evidence_whole: evidence.jsonl ends with a whole line and is the file the packet was built over (packet_id is its SHA-256)',
        '  passed  summary: summary.md is what build renders from packet.json and evidence.jsonl',
        '  passed  verifier_output: verifier.txt is what build renders from evidence.jsonl',
        '',
      ].join('\n'),
    )
    assert.deepEqual(statuses(packet), allPassedBut({}))
    // nothing in summary.md or verifier.txt depends on where the evidence or the packet lay
    const moved = copy('moved')
    assert.equal(verify(moved).status, 0)
    assert.equal(lines(path.join(packet, 'verifier.txt'))[0], 'CHAIN VALID: evidence.jsonl')
  })

  test('an edited summary.md fails, naming the file and its first differing line', () => {
    const d = copy('edited-summary')
    const file = path.join(d, 'summary.md')
    const ls = lines(file)
    const i = ls.findIndex((l) => l.startsWith('- Decisions:'))
    const was = ls[i] as string
    ls[i] = was.replace('block 2', 'block 0').replace('allow 6', 'allow 8')
    writeFileSync(file, ls.join('\n'))
    const r = verify(d)
    assert.equal(r.status, 1)
    assert.equal(verdictOf(r.stdout), `PACKET INVALID: ${d}\n  summary.md:${i + 1}: ${JSON.stringify(ls[i])}, build renders ${JSON.stringify(was)}\n`)
    assert.deepEqual(statuses(d), allPassedBut({summary: 'failed'}))
  })

  test('an edited verifier.txt fails, naming the file and its first differing line', () => {
    const d = copy('edited-verifier')
    const file = path.join(d, 'verifier.txt')
    const ls = lines(file)
    ls[0] = 'CHAIN VALID: everything'
    writeFileSync(file, ls.join('\n'))
    const r = verify(d)
    assert.equal(r.status, 1)
    assert.equal(verdictOf(r.stdout), `PACKET INVALID: ${d}\n  verifier.txt:1: "CHAIN VALID: everything", build renders "CHAIN VALID: evidence.jsonl"\n`)
    assert.deepEqual(statuses(d), allPassedBut({verifier_output: 'failed'}))
    // a line added at the end
    const more = copy('longer-verifier')
    appendFileSync(path.join(more, 'verifier.txt'), 'all good\n')
    const n = lines(file).length
    assert.equal(verdictOf(verify(more).stdout), `PACKET INVALID: ${more}\n  verifier.txt:${n}: "all good" where build's rendering ends\n`)
  })

  test('an extra file, subdirectory or symbolic link in the directory fails, named', () => {
    const extra = 'that audit packet build does not write: a packet holds ' + FILES + ' and nothing else'
    const f = copy('extra-file')
    writeFileSync(path.join(f, 'notes.txt'), 'trust me\n')
    assert.equal(verdictOf(verify(f).stdout), `PACKET INVALID: ${f}\n  notes.txt: a file ${extra}\n`)
    assert.deepEqual(statuses(f), allPassedBut({files: 'failed'}))

    const s = copy('extra-dir')
    mkdirSync(path.join(s, 'more'))
    writeFileSync(path.join(s, 'more', 'evidence.jsonl'), '')
    assert.equal(verdictOf(verify(s).stdout), `PACKET INVALID: ${s}\n  more: a directory ${extra}\n`)

    const l = copy('extra-link')
    symlinkSync('summary.md', path.join(l, 'summary-link.md'))
    assert.equal(verdictOf(verify(l).stdout), `PACKET INVALID: ${l}\n  summary-link.md: a symbolic link ${extra}\n`)

    // packet.json pointing an artifact elsewhere: one problem, said once, whether the path exists or not
    const moved = copy('moved-artifact')
    const pj = JSON.parse(readFileSync(path.join(moved, 'packet.json'), 'utf8'))
    pj.artifacts.summary = 'report.md'
    writeFileSync(path.join(moved, 'packet.json'), JSON.stringify(pj, null, 2) + '\n')
    assert.equal(verdictOf(verify(moved).stdout), `PACKET INVALID: ${moved}\n  packet.json artifacts.summary is "report.md", which does not exist: build writes summary.md\n`)
    pj.artifacts.summary = 'verifier.txt'
    writeFileSync(path.join(moved, 'packet.json'), JSON.stringify(pj, null, 2) + '\n')
    assert.equal(verdictOf(verify(moved).stdout), `PACKET INVALID: ${moved}\n  packet.json artifacts.summary is "verifier.txt": build writes summary.md\n`)

    // one of the four replaced by a symbolic link to an identical copy elsewhere
    const r = copy('linked-summary')
    cpSync(path.join(r, 'summary.md'), path.join(dir, 'outside-summary.md'))
    rmSync(path.join(r, 'summary.md'))
    symlinkSync(path.join(dir, 'outside-summary.md'), path.join(r, 'summary.md'))
    const rr = verify(r)
    assert.equal(rr.status, 1)
    assert.equal(verdictOf(rr.stdout), `PACKET INVALID: ${r}\n  summary.md is a symbolic link, not the regular file build writes\n`)
    assert.deepEqual(statuses(r), allPassedBut({files: 'failed', summary: 'not_run'}))
  })

  /** What verify says of an evidence.jsonl whose last entry is gone (cut mid-line or at a newline): its id, and the entry count summary.md shows. */
  const lastEntryGone = (file: string): string[] => [
    `  evidence.jsonl gives packet_id ${idOf(file)}, packet.json records ${recordedId()}: it is not the evidence.jsonl the packet was built over (cut, extended or edited)`,
    '  summary.md:6: "- Evidence: evidence.jsonl, 12 recorder entries, 9 receipts", build renders "- Evidence: evidence.jsonl, 11 recorder entries, 9 receipts"',
  ]

  test('evidence.jsonl with its last line cut mid-line fails: a packet has no torn tail', () => {
    const d = copy('torn-tail')
    const file = path.join(d, 'evidence.jsonl')
    tearLastLine(path.join(packet, 'evidence.jsonl'), file, 40)
    const r = verify(d)
    assert.equal(r.status, 1)
    // the receipts are all there: only the whole-evidence check, and the texts build rendered, see it
    assert.equal(
      verdictOf(r.stdout),
      [
        `PACKET INVALID: ${d}`,
        `  evidence.jsonl: the last line is cut (no newline after byte ${statSync(file).size}): a packet's evidence ends with a whole line`,
        ...lastEntryGone(file),
        '  verifier.txt:7: "warning: evidence.jsonl:9: the last run run-2 (session_open at chain_seq 6) has no session_close: the recorder was not closed cleanly (crash or kill) or is still running", build renders "warning: evidence.jsonl:12: truncated last line (40 bytes, no newline, does not parse): an interrupted write, not evidence; ignored"',
        '',
      ].join('\n'),
    )
    assert.deepEqual(statuses(d), allPassedBut({evidence_whole: 'failed', summary: 'failed', verifier_output: 'failed'}))
  })

  test('evidence.jsonl with its last line (the final signed checkpoint) removed at a newline fails', () => {
    const d = copy('cut-checkpoint')
    const file = path.join(d, 'evidence.jsonl')
    const ls = lines(file)
    assert.equal(ls.pop(), '')
    const last = ls.pop() as string
    assert.match(last, /"type":"checkpoint"/)
    writeFileSync(file, ls.map((l) => l + '\n').join(''))
    // what made it pass before: the receipts, their count and root hash are unchanged
    const chain = runCli(['verify-receipt', file, '--key', pubFile])
    assert.equal(chain.status, 0, chain.stdout + chain.stderr)
    const r = verify(d)
    assert.equal(r.status, 1)
    assert.equal(
      verdictOf(r.stdout),
      [
        `PACKET INVALID: ${d}`,
        ...lastEntryGone(file),
        '  verifier.txt:8: ends here; build renders more: "warning: evidence.jsonl:9: the last 3 entries (entry seq 8-10) come after the last signed checkpoint (entry seq 7): no signature covers them, so nothing shows they were not rewritten (a run that crashed or is still running leaves such a tail; a closed run ends with its checkpoint)"',
        '',
      ].join('\n'),
    )
    assert.deepEqual(statuses(d), allPassedBut({evidence_whole: 'failed', summary: 'failed', verifier_output: 'failed'}))
  })

  test('build copies whole lines: the torn tail of a crashed recorder is not evidence, and the packet verifies', async () => {
    const src = path.join(dir, 'torn-recorder')
    cpSync(recorder, src, {recursive: true})
    const last = readdirSync(src).filter((f) => f.endsWith('.jsonl')).sort((a, b) => fileNo(a) - fileNo(b)).at(-1) as string
    appendFileSync(path.join(src, last), '{"v":2,"seq":11,"ts":"2026-')
    const out = path.join(dir, 'from-torn')
    const b = runCli(['audit', 'packet', 'build', '--chain', src, '--key', pubFile, '--out', out])
    assert.equal(b.status, 0, b.stdout + b.stderr)
    assert.deepEqual(readFileSync(path.join(out, 'evidence.jsonl')), readFileSync(path.join(packet, 'evidence.jsonl')))
    assert.equal(verify(out).status, 0)
  })

  test('a packet built by the previous layout (the input path in verifier.txt and summary.md) no longer verifies: rebuild it', () => {
    const d = copy('previous-layout')
    const v = path.join(d, 'verifier.txt')
    const vs = lines(v)
    vs[0] = `CHAIN VALID: ${recorder} (session proxy)`
    writeFileSync(v, vs.join('\n'))
    const r = verify(d)
    assert.equal(r.status, 1)
    assert.equal(verdictOf(r.stdout), `PACKET INVALID: ${d}\n  verifier.txt:1: ${JSON.stringify(vs[0])}, build renders "CHAIN VALID: evidence.jsonl"\n`)
    // its evidence and packet.json still check out: the checks say which part failed
    assert.deepEqual(statuses(d), allPassedBut({verifier_output: 'failed'}))
  })
})
