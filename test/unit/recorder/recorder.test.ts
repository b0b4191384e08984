import {describe, test} from 'node:test'
import {spawn} from 'node:child_process'
import assert from 'node:assert/strict'
import {appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {endorseRotation, FlightRecorder, nextRotationFile, ReceiptEmitter, classifyHttpMethod, writerLockHolder} from '../../../src/plugins/recorder/index.js'
import {chainFilesInDir, EntryChainVerifier, extractChainItems, parseRecorderEntry, parseRotationEndorsement, readLines, verifyChain} from '../../../src/plugins/receipts/index.js'
import {fixedClock, uuidv7, type Clock} from '../../../src/plugins/canonical/index.js'
import {encodePrivateKeyText, encodePublicKeyText, goPrivateKey, verifyBytes} from '../../../src/plugins/signing/index.js'
import {keyA, keyB, K1} from '../../helpers/receipt-fixtures.js'

function tick(start = '2026-11-22T09:00:00Z'): Clock {
  let ns = fixedClock(start).nowNanos()
  return {nowNanos: () => (ns += 1_000_000n)}
}

function tmp(t: {after: (fn: () => void) => void}): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'pl-rec-'))
  t.after(() => rmSync(dir, {recursive: true, force: true}))
  return dir
}

async function entries(dir: string) {
  const out = []
  for (const f of await chainFilesInDir(dir, 'proxy')) {
    for await (const l of readLines(f)) if (l.text) out.push(parseRecorderEntry(l.text))
  }
  return out
}

let ids = 0
const newId = () => `id-${++ids}`
const run = {runNonce: 'run-1', openNonce: 'open-1', signerKeyEpoch: 'e', heartbeatSeconds: 30}

describe('FlightRecorder', () => {
  test('rotates files, checkpoints on interval and close, and keeps one entry chain across files', async (t) => {
    const dir = tmp(t)
    const rec = await FlightRecorder.open({dir, clock: tick(), maxEntriesPerFile: 4, checkpointInterval: 3, checkpointKey: keyA()})
    for (let i = 0; i < 8; i++) rec.append({ts: '2026-11-22T09:00:00Z', type: 'decision', transport: 'fetch', summary: `s${i}`, detailJson: '{"i":' + i + '}'})
    rec.close()
    const files = readdirSync(dir).sort()
    assert.deepEqual(files, ['evidence-proxy-0.jsonl', 'evidence-proxy-4.jsonl', 'evidence-proxy-8.jsonl'])
    assert.equal(statSync(path.join(dir, files[0]!)).mode & 0o777, 0o600)
    const all = await entries(dir)
    assert.deepEqual(all.map((e) => e.type), ['decision', 'decision', 'decision', 'checkpoint', 'decision', 'decision', 'decision', 'checkpoint', 'decision', 'decision', 'checkpoint'])
    assert.equal(all[3]!.summary, 'checkpoint: 3 entries [seq 0-2]')
    const v = new EntryChainVerifier((prev, sig) => verifyBytes(keyA().publicKey, Buffer.from(prev, 'ascii'), Buffer.from(sig, 'hex')))
    for (const e of all) assert.equal(v.push(e), undefined)
  })

  test('resumes after a restart, cutting a torn last line', async (t) => {
    const dir = tmp(t)
    const a = await FlightRecorder.open({dir, clock: tick(), checkpointInterval: 100})
    a.append({ts: '2026-11-22T09:00:00Z', type: 'decision', summary: 'one', detailJson: 'null'})
    a.close()
    appendFileSync(path.join(dir, 'evidence-proxy-0.jsonl'), '{"v":2,"seq":2,"ts":"2026-11-2') // crash mid-write
    const b = await FlightRecorder.open({dir, clock: tick(), checkpointInterval: 100})
    assert.equal(b.resume.truncatedBytes, 30)
    assert.equal(b.resume.nextSeq, 2n)
    b.append({ts: '2026-11-22T09:00:01Z', type: 'decision', summary: 'two', detailJson: 'null'})
    b.close()
    const v = new EntryChainVerifier()
    const all = await entries(dir)
    assert.deepEqual(all.map((e) => e.seq), ['0', '1', '2', '3'])
    for (const e of all) assert.equal(v.push(e), undefined)
  })

  test('a session whose name extends another\'s (proxy, proxy-2) is never read, resumed or appended as its files', async (t) => {
    const dir = tmp(t)
    const other = await FlightRecorder.open({dir, sessionId: 'proxy-2', clock: tick(), checkpointInterval: 100})
    for (let i = 0; i < 3; i++) other.append({ts: '2026-11-22T09:00:00Z', type: 'decision', summary: `other ${i}`, detailJson: 'null'})
    other.close()
    const a = await FlightRecorder.open({dir, clock: tick(), checkpointInterval: 100})
    a.append({ts: '2026-11-22T09:00:00Z', type: 'decision', summary: 'mine', detailJson: 'null'})
    a.close()
    assert.deepEqual((await chainFilesInDir(dir, 'proxy')).map((f) => path.basename(f)), ['evidence-proxy-0.jsonl'])
    // Reopened, it resumes its own chain (seq 2 after its entry and checkpoint), in its own file.
    const b = await FlightRecorder.open({dir, clock: tick(), checkpointInterval: 100})
    assert.deepEqual([b.resume.nextSeq, path.basename(b.currentFile)], [2n, 'evidence-proxy-0.jsonl'])
    b.close()
    assert.deepEqual((await entries(dir)).map((e) => e.summary), ['mine', 'checkpoint: 1 entries [seq 0-0]'])
    assert.equal(readFileSync(path.join(dir, 'evidence-proxy-2-0.jsonl'), 'utf8').trimEnd().split('\n').length, 4)
  })

  test('never writes through a symlink planted in the evidence directory', async (t) => {
    const dir = tmp(t)
    const target = path.join(dir, 'elsewhere')
    writeFileSync(target, '')
    symlinkSync(target, path.join(dir, 'evidence-proxy-0.jsonl'))
    await assert.rejects(FlightRecorder.open({dir, clock: tick()}), /cannot open|ELOOP/)
    assert.equal(readFileSync(target, 'utf8'), '')
  })

  test('refuses a file mode other than 0600/0640/0660', async (t) => {
    await assert.rejects(FlightRecorder.open({dir: tmp(t), clock: tick(), fileMode: 0o644}), /file_mode must be 0600, 0640 or 0660/)
  })
})

describe('ReceiptEmitter', () => {
  const open = async (dir: string, key = keyA(), r = run) =>
    ReceiptEmitter.open({
      recorder: await FlightRecorder.open({dir, clock: tick(), checkpointInterval: 1000}),
      dir,
      keyPair: key,
      principal: 'org:test',
      actor: 'pipelock',
      policyHash: 'sha256:' + '1'.repeat(64),
      clock: tick(),
      newId,
      run: r,
    })

  test('a run of decisions, a restart and a second run form one verifiable chain', async (t) => {
    const dir = tmp(t)
    const a = await open(dir)
    // emit returns the action_id of the receipt it signed (a block response names it)
    assert.equal(a.emit({method: 'GET', target: 'https://a.example/', transport: 'forward', verdict: 'allow'}), 'id-2') // the test's newId
    assert.notEqual(a.emit({method: 'POST', target: 'https://b.example/x', transport: 'fetch', verdict: 'block', layer: 'dlp', pattern: 'AWS Access Key', agent: 'bot'}), undefined)
    assert.equal(a.heartbeat(), true)
    a.close()
    const b = await open(dir, keyA(), {...run, runNonce: 'run-2', openNonce: 'open-2'})
    assert.equal(b.resumed.tail?.seq, 4n)
    b.emit({method: 'DELETE', target: 'https://c.example/1', transport: 'forward', verdict: 'allow'})
    b.close()
    const r = await verifyChain(extractChainItems(await chainFilesInDir(dir, 'proxy')), {pinnedKey: K1})
    assert.equal(r.valid, true, r.error)
    assert.equal(r.receiptCount, 8)
    assert.equal(r.finalSeq, '7')
  })

  test('a second writer of the same chain is refused while the first runs; a dead writer\'s lock is taken over', async (t) => {
    const dir = tmp(t)
    const a = await FlightRecorder.open({dir, clock: tick()})
    await assert.rejects(FlightRecorder.open({dir, clock: tick()}), (e: Error & {code?: string}) => e.code === 'RECORDER_LOCKED' && /is being written by process \d+/.test(e.message))
    a.close()
    writeFileSync(path.join(dir, '.proxy.writer.lock'), '999999999\n')
    const b = await FlightRecorder.open({dir, clock: tick()})
    b.close()
  })

  test('a lock naming a reused pid is stale: this process\'s own pid, or a live pid started at another time or boot (a container restarted hard)', async (t) => {
    const dir = tmp(t)
    const lock = path.join(dir, '.proxy.writer.lock')
    const a = await FlightRecorder.open({dir, clock: tick()})
    const written = readFileSync(lock, 'utf8')
    a.close()
    if (process.platform === 'linux') assert.match(written, new RegExp(`^\\{"pid":${process.pid},"start":"\\d+","boot":"[0-9a-f-]+"\\}\\n$`))
    // Left by an earlier run that had this very pid (pid 1 in a container, every start).
    writeFileSync(lock, `${process.pid}\n`)
    assert.equal(writerLockHolder(dir, 'proxy'), undefined)
    ;(await FlightRecorder.open({dir, clock: tick()})).close()
    // A live process (a child) named by pid with the start time it really has: held, refused.
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], {stdio: 'ignore'})
    t.after(() => child.kill('SIGKILL'))
    const pid = child.pid!
    if (process.platform === 'linux') {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!
      const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()
      writeFileSync(lock, `${JSON.stringify({pid, start, boot})}\n`)
      assert.equal(writerLockHolder(dir, 'proxy'), pid)
      await assert.rejects(FlightRecorder.open({dir, clock: tick()}), (e: Error & {code?: string}) => e.code === 'RECORDER_LOCKED' && e.message.includes(`process ${pid} `))
      // The same pid, another start time: the pid was reused; the lock is taken over.
      writeFileSync(lock, `${JSON.stringify({pid, start: String(Number(start) + 1), boot})}\n`)
      assert.equal(writerLockHolder(dir, 'proxy'), undefined)
      ;(await FlightRecorder.open({dir, clock: tick()})).close()
      // Written in another boot of the machine.
      writeFileSync(lock, `${JSON.stringify({pid, start, boot: '00000000-0000-0000-0000-000000000000'})}\n`)
      assert.equal(writerLockHolder(dir, 'proxy'), undefined)
    }
    // A lock of the pid alone (a system without /proc, or an earlier version) trusts the pid's liveness.
    writeFileSync(lock, `${pid}\n`)
    assert.equal(writerLockHolder(dir, 'proxy'), pid)
    await assert.rejects(FlightRecorder.open({dir, clock: tick()}), (e: Error & {code?: string}) => e.code === 'RECORDER_LOCKED')
  })

  test('a tail signed by another key continues as a rotated segment when an endorsement in the directory hands it over', async (t) => {
    const dir = tmp(t)
    const a = await open(dir, keyA())
    a.emit({target: 'https://x/', transport: 'forward', verdict: 'allow'})
    a.close()
    const keys = tmp(t)
    writeFileSync(path.join(keys, 'a.key'), encodePrivateKeyText(goPrivateKey(keyA())), {mode: 0o600})
    writeFileSync(path.join(keys, 'b.pub'), encodePublicKeyText(keyB().publicKey))
    const written = await endorseRotation({dir, session: 'proxy', retiringKeyFile: path.join(keys, 'a.key'), newKey: path.join(keys, 'b.pub'), clock: tick('2026-11-22T10:00:00Z')})
    assert.equal(written.file, path.join(dir, 'rotation-1.json'))
    assert.equal(written.prior_final_seq, '2')
    assert.equal(written.rotated_at, '2026-11-22T10:00:00.001Z')
    assert.equal(await nextRotationFile(dir), path.join(dir, 'rotation-2.json'))

    const b = await open(dir, keyB(), {...run, runNonce: 'run-2', openNonce: 'open-2'})
    assert.equal(b.resumed.error, undefined)
    assert.equal(b.resumed.rotation?.endorsementFile, written.file)
    b.emit({target: 'https://y/', transport: 'forward', verdict: 'block'})
    b.close()
    const files = await chainFilesInDir(dir, 'proxy')
    const endorsement = parseRotationEndorsement(readFileSync(written.file))
    const ok = await verifyChain(extractChainItems(files), {pinnedKey: K1, sessionId: 'proxy', endorsements: [endorsement]})
    assert.equal(ok.valid, true, ok.error)
    assert.equal((await verifyChain(extractChainItems(files), {pinnedKey: K1, sessionId: 'proxy'})).error, 'seq 0: rotation endorsement does not match receipt boundary')

    // The next restart with B resumes B's segment; with A it is refused (A's tail is no longer the tail).
    const b2 = await open(dir, keyB(), {...run, runNonce: 'run-3', openNonce: 'open-3'})
    assert.equal(b2.resumed.rotation, undefined)
    assert.equal(b2.resumed.error, undefined)
    b2.close()
    const a2 = await open(dir, keyA(), {...run, runNonce: 'run-4', openNonce: 'open-4'})
    assert.match(a2.resumed.error ?? '', /tail receipt signature invalid/)
    assert.match(a2.resumed.rotation?.problems.join() ?? '', /rotation-1\.json: retires key 4655a7e605c12ebb…, but the tail is signed by bc73a1170035cbad…/)
    a2.close()
  })

  test('a tail signed by another key disables emission instead of forking the chain', async (t) => {
    const dir = tmp(t)
    const a = await open(dir, keyB())
    a.close()
    const b = await open(dir, keyA())
    assert.match(b.resumed.error ?? '', /^resume receipt chain: tail receipt signature invalid \(seq 1\): signer_key bc73/)
    assert.equal(b.emit({target: 'https://x/', transport: 'forward', verdict: 'allow'}), undefined)
    assert.equal(b.failures, 2)
    b.close()
  })
})

test('HTTP method classification (receipts.md §8)', () => {
  assert.deepEqual(classifyHttpMethod('CONNECT'), {actionType: 'read', sideEffectClass: 'external_read', reversibility: 'full'})
  assert.deepEqual(classifyHttpMethod('DELETE'), {actionType: 'write', sideEffectClass: 'external_write', reversibility: 'irreversible'})
  assert.deepEqual(classifyHttpMethod('get'), {actionType: 'unclassified', sideEffectClass: 'none', reversibility: 'unknown'})
  assert.equal(classifyHttpMethod(undefined).actionType, 'unclassified')
})

test('uuidv7 layout: time prefix, version 7, variant 10', () => {
  // 1776254400123 ms = 0x019d9103367b
  const id = uuidv7(1_776_254_400_123_000_000n, (n) => new Uint8Array(n).fill(0xff))
  assert.match(id, /^019d9103-367b-7fff-bfff-ffffffffffff$/)
})
