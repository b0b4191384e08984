import {test} from 'node:test'
import assert from 'node:assert/strict'
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {runCli} from '../helpers/cli.js'
import {repoPath, vectorPath} from '../helpers/vectors.js'

// Exact output of the CLI's error paths (docs/errors.md): one line with [CODE] and a hint on
// stderr, or one JSON object on stdout under --json, with the same exit status.

test('missing required flag: the real message, the code and a hint, exit 2', () => {
  const r = runCli(['learn', 'shadow'])
  assert.equal(r.status, 2)
  assert.equal(r.stdout, '')
  assert.equal(r.stderr, 'missing required flag --contract [USAGE]; hint: see pipelock learn shadow --help\n')
})

test('missing required flag under --json: one JSON object on stdout, same exit', () => {
  const r = runCli(['learn', 'shadow', '--json'])
  assert.equal(r.status, 2)
  assert.equal(r.stderr, '')
  assert.deepEqual(JSON.parse(r.stdout), {error: {code: 'USAGE', message: 'missing required flag --contract', exit: 2, hint: 'see pipelock learn shadow --help'}})
})

test('missing argument and invalid option value: one line each', () => {
  const a = runCli(['learn', 'review'])
  assert.equal(a.status, 2)
  assert.equal(a.stderr, 'missing required argument CANDIDATE [USAGE]; hint: see pipelock learn review --help\n')
  const b = runCli(['generate', 'config', '--preset', 'nope'])
  assert.equal(b.status, 2)
  assert.equal(b.stderr, 'Expected --preset=nope to be one of: balanced, strict, audit, claude-code, cursor, generic-agent, hostile-model [USAGE]; hint: see pipelock generate config --help\n')
})

test('a flag value its parser refuses (not an integer, below the minimum): the USAGE line, exit 2, no stack under --json', () => {
  const a = runCli(['signing', 'roster', 'build', '--root', '/k/root.json', '--include', 'id=a', '--out', '/k/roster.json', '--schema-version', 'abc'])
  assert.equal(a.status, 2)
  assert.equal(a.stdout, '')
  assert.equal(a.stderr, '--schema-version: Expected an integer but received: abc [USAGE]; hint: see pipelock signing roster build --help\n')
  const j = runCli(['learn', 'split', '--candidate', '/c.yaml', '--rule', 'r-1', '--index', '-1', '--json'])
  assert.equal(j.status, 2)
  assert.equal(j.stderr, '')
  assert.deepEqual(JSON.parse(j.stdout), {error: {code: 'USAGE', message: '--index: Expected an integer greater than or equal to 0 but received: -1', exit: 2, hint: 'see pipelock learn split --help'}})
})

test('mcp integrity manifest commands (their own --json flag): a failure under --json is the JSON object on stdout', () => {
  const u = runCli(['mcp', 'integrity', 'manifest', 'generate', '--json', '--', 'node', '/srv/mcp.mjs'])
  assert.equal(u.status, 2)
  assert.equal(u.stderr, '')
  assert.deepEqual(JSON.parse(u.stdout), {error: {code: 'USAGE', message: '--output is required', exit: 2}})
  const f = runCli(['mcp', 'integrity', 'manifest', 'verify', '--manifest', '/nonexistent/manifest.json', '--json', '--', 'node', '/srv/mcp.mjs'])
  assert.equal(f.status, 1)
  assert.equal(f.stderr, '')
  assert.deepEqual(JSON.parse(f.stdout), {error: {code: 'FILE_NOT_FOUND', message: 'reading manifest /nonexistent/manifest.json: no such file or directory', exit: 1, hint: 'write one with: pipelock mcp integrity manifest generate --output FILE -- COMMAND'}})
  // --json after -- belongs to the wrapped command: the text line
  const w = runCli(['mcp', 'integrity', 'manifest', 'verify', '--manifest', '/nonexistent/manifest.json', '--', 'node', '/srv/mcp.mjs', '--json'])
  assert.equal(w.status, 1)
  assert.equal(w.stdout, '')
  assert.equal(w.stderr, 'reading manifest /nonexistent/manifest.json: no such file or directory [FILE_NOT_FOUND]; hint: write one with: pipelock mcp integrity manifest generate --output FILE -- COMMAND\n')
})

test('every command exits 2 on a usage error (an unknown flag), with the USAGE line', () => {
  const manifest = JSON.parse(readFileSync(repoPath('oclif.manifest.json'), 'utf8')) as {commands: Record<string, unknown>}
  const ids = Object.keys(manifest.commands).sort()
  assert.ok(ids.length > 40, ids.join(' '))
  const wrong: string[] = []
  for (const id of ids) {
    const words = id.split(':')
    const r = runCli([...words, '--no-such-flag-for-the-usage-test'])
    const want = `Nonexistent flag: --no-such-flag-for-the-usage-test [USAGE]; hint: see pipelock ${words.join(' ')} --help\n`
    if (r.status !== 2 || r.stderr !== want) wrong.push(`${words.join(' ')}: exit ${r.status}, stderr ${JSON.stringify(r.stderr.slice(0, 200))}`)
  }
  assert.deepEqual(wrong, [])
})

test('an unknown flag that misspells one of the command\'s own: did you mean, in the line and under --json; none for a short flag or nothing near', () => {
  const r = runCli(['check', '--confg', '/etc/pipelock.yaml'])
  assert.equal(r.status, 2)
  assert.equal(r.stderr, 'Nonexistent flag: --confg (did you mean --config?) [USAGE]; hint: see pipelock check --help\n')
  const s = runCli(['learn', 'shadow', '--contrct', '/c.yaml'])
  assert.equal(s.stderr, 'Nonexistent flag: --contrct (did you mean --contract?) [USAGE]; hint: see pipelock learn shadow --help\n')
  // oclif's own --json (enableJsonFlag) is one of the command's flags too; each unknown flag gets its own guess
  const j = runCli(['verify-receipt', '--jsno', '--ky', 'abc'])
  assert.equal(j.stderr, 'Nonexistent flags: --jsno (did you mean --json?), --ky (did you mean --key?) [USAGE]; hint: see pipelock verify-receipt --help\n')
  // a value given with = or joined to a short flag is not echoed: it may be a token
  const v = runCli(['session', 'list', '--api-tokn=sk-live-0123456789abcdef', '--json'])
  assert.equal(v.status, 2)
  assert.deepEqual(JSON.parse(v.stdout), {error: {code: 'USAGE', message: 'Nonexistent flag: --api-tokn (did you mean --api-token?)', exit: 2, hint: 'see pipelock session list --help'}})
  assert.ok(!v.stdout.includes('sk-live'), v.stdout)
  const short = runCli(['check', '-Tsk-live-0123456789abcdef'])
  assert.equal(short.stderr, 'Nonexistent flag: -T [USAGE]; hint: see pipelock check --help\n')
  // `run` parses its own flags, and hands a flag it does not know to the same path
  assert.equal(runCli(['run', '--lsten', '127.0.0.1:0']).stderr, 'Nonexistent flag: --lsten (did you mean --listen?) [USAGE]; hint: see pipelock run --help\n')
  assert.equal(runCli(['check', '-z']).stderr, 'Nonexistent flag: -z [USAGE]; hint: see pipelock check --help\n')
  assert.equal(runCli(['check', '--zzzzzz']).stderr, 'Nonexistent flag: --zzzzzz [USAGE]; hint: see pipelock check --help\n')
})

test('session and adaptive commands: exit 2 for usage errors, also under --json', () => {
  const r = runCli(['session', 'inspect', '--json'])
  assert.equal(r.status, 2)
  assert.deepEqual(JSON.parse(r.stdout), {error: {code: 'USAGE', message: 'missing required argument KEY', exit: 2, hint: 'see pipelock session inspect --help'}})
})

test('a PipelockError under --json carries its code and exit', () => {
  const env = {PIPELOCK_KILLSWITCH_API_TOKEN: '', PIPELOCK_API_URL: '', PIPELOCK_CONFIG: '/nonexistent/pipelock.yaml', HOME: '/nonexistent'}
  const r = runCli(['session', '--api-url', 'http://127.0.0.1:1', 'list', '--json'], {env})
  assert.equal(r.status, 2)
  const e = (JSON.parse(r.stdout) as {error: {code: string; exit: number}}).error
  assert.equal(e.code, 'ADMIN_API_CONFIG_INVALID')
  assert.equal(e.exit, 2)
})

test('unknown command: did-you-mean on one line, exit 127, JSON under --json', () => {
  const r = runCli(['learn', 'compil'])
  assert.equal(r.status, 127)
  assert.equal(r.stderr, '"learn compil" is not a pipelock command; did you mean "learn compile"? [COMMAND_NOT_FOUND]; hint: run pipelock help for the list of commands\n')
  const t = runCli(['lern'])
  assert.match(t.stderr, /did you mean "learn"\?/)
  const j = runCli(['verfy-receipt', '--json'])
  assert.equal(j.status, 127)
  assert.equal((JSON.parse(j.stdout) as {error: {code: string}}).error.code, 'COMMAND_NOT_FOUND')
  // A reference command with no counterpart says why instead of suggesting a look-alike.
  const l = runCli(['license', 'keygen'])
  assert.equal(l.status, 127)
  assert.equal(l.stderr, '"license keygen" is not a pipelock command: no licence is needed; every feature, agent profiles included, is in every build [COMMAND_NOT_FOUND]; hint: license_key, license_file and PIPELOCK_LICENSE_KEY are accepted and ignored (docs/compatibility.md)\n')
  // The arguments after the command words are not echoed: a licence token, a key, a URL.
  const token = runCli(['license', 'install', 'pipelock_lic_v1_eyJzZWNyZXQiOjF9.c2ln'])
  assert.equal(token.status, 127)
  assert.ok(token.stderr.startsWith('"license install …" is not a pipelock command: no licence is needed'), token.stderr)
  assert.ok(!token.stderr.includes('pipelock_lic_v1'), token.stderr)
  // --help of an unknown command (or `help <unknown>`) is answered the same way, not with oclif's bare "Command … not found."
  for (const argv of [['license', 'install', '--help'], ['help', 'licence', 'install']]) {
    const h = runCli(argv)
    assert.equal(h.status, 127, argv.join(' '))
    assert.ok(h.stderr.startsWith(`"${argv.filter((a) => a !== '--help' && a !== 'help').join(' ')}" is not a pipelock command: no licence is needed`), h.stderr)
  }
  const helpTypo = runCli(['learn', 'compil', '--help'])
  assert.equal(helpTypo.status, 127)
  assert.equal(helpTypo.stderr, '"learn compil" is not a pipelock command; did you mean "learn compile"? [COMMAND_NOT_FOUND]; hint: run pipelock help for the list of commands\n')
  const typo = runCli(['verfy-receipt', 'https://user:hunter2@example.com/x'])
  assert.ok(typo.stderr.startsWith('"verfy-receipt …" is not a pipelock command; did you mean "verify-receipt"?'), typo.stderr)
  assert.ok(!typo.stderr.includes('hunter2'), typo.stderr)
})

test('an argument after a command that takes none: USAGE, exit 2, the value not shown; text and --json', () => {
  // oclif folds the word into the command id (`check:pipelock.yaml`); it is a usage error of the command, not an unknown one.
  const cases: Array<[string[], string]> = [
    [['check', 'pipelock.yaml'], 'check'],
    [['audit', 'score', 'pipelock.yaml'], 'audit score'],
    [['learn', 'compile', 'sk-ant-api03-secretvalue'], 'learn compile'],
    [['healthcheck', '127.0.0.1:8888'], 'healthcheck'],
    [['check', 'a', 'b'], 'check'],
  ]
  for (const [argv, name] of cases) {
    const r = runCli(argv)
    assert.equal(r.status, 2, argv.join(' '))
    assert.equal(r.stdout, '')
    assert.equal(r.stderr, `Unexpected argument: ${name} takes no arguments [USAGE]; hint: see pipelock ${name} --help\n`)
    const j = runCli([...argv, '--json'])
    assert.equal(j.status, 2, argv.join(' '))
    assert.equal(j.stderr, '')
    assert.equal(j.stdout, JSON.stringify({error: {code: 'USAGE', message: `Unexpected argument: ${name} takes no arguments`, exit: 2, hint: `see pipelock ${name} --help`}}) + '\n')
  }
  // The same mistake with the flag first is the parser's (the same code, exit and hint).
  const first = runCli(['check', '--json', 'extra'])
  assert.equal(first.status, 2)
  assert.deepEqual(JSON.parse(first.stdout), {error: {code: 'USAGE', message: 'Unexpected argument: more arguments than the command takes (their values are not shown)', exit: 2, hint: 'see pipelock check --help'}})
  // A command that takes arguments, given one too many: the parser's refusal, the value not shown either.
  const extra = runCli(['keygen', 'alpha', 'sk-ant-api03-secretvalue'])
  assert.equal(extra.status, 2)
  assert.equal(extra.stderr, 'Unexpected argument: more arguments than the command takes (their values are not shown) [USAGE]; hint: see pipelock keygen --help\n')
  // --help (or help) with the stray argument shows the command's help, as `keygen a b --help` does.
  const help = runCli(['check', 'pipelock.yaml', '--help'])
  assert.equal(help.status, 0, help.stderr)
  assert.equal(help.stdout, runCli(['check', '--help']).stdout)
  assert.equal(runCli(['help', 'audit', 'score', 'x']).stdout, runCli(['audit', 'score', '--help']).stdout)
  // A typo of the command itself is still an unknown command, its next word not shown.
  const typo = runCli(['lern', 'compile'])
  assert.equal(typo.status, 127)
  assert.equal(typo.stderr, '"lern …" is not a pipelock command; did you mean "learn"? [COMMAND_NOT_FOUND]; hint: run pipelock help for the list of commands\n')
  const typoJson = runCli(['lern', 'compile', 'sk-ant-api03-secretvalue', '--json'])
  assert.equal(typoJson.status, 127)
  assert.equal(typoJson.stdout, JSON.stringify({error: {code: 'COMMAND_NOT_FOUND', message: '"lern …" is not a pipelock command; did you mean "learn"?', exit: 127, hint: 'run pipelock help for the list of commands'}}) + '\n')
  // --json after an argument holding a colon (oclif counts its parts as command words) is still seen.
  const colon = runCli(['verfy-receipt', 'https://user:hunter2@example.com/x', '--json'])
  assert.equal(colon.status, 127)
  assert.equal(colon.stdout, JSON.stringify({error: {code: 'COMMAND_NOT_FOUND', message: '"verfy-receipt …" is not a pipelock command; did you mean "verify-receipt"?', exit: 127, hint: 'run pipelock help for the list of commands'}}) + '\n')
})

test('exit 1 of a gate under --json: a result object when the check ran and failed, the error object when the input could not be read (errors.md)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-e2e-gate-'))
  try {
    const receipts = vectorPath('receipts')
    const key = (JSON.parse(readFileSync(path.join(receipts, 'test-key.json'), 'utf8')) as {public_key_hex: string}).public_key_hex
    const gates: Array<[string, string[], string[], (out: Record<string, unknown>) => void]> = [
      ['verify-receipt', ['verify-receipt', path.join(receipts, 'broken-chain.jsonl'), '--key', key, '--json'], ['verify-receipt', path.join(dir, 'nope.jsonl'), '--key', key, '--json'], (o) => assert.equal(o.verdict, 'invalid')],
      ['audit packet verify', ['audit', 'packet', 'verify', path.join(dir, 'pkt'), '--key', key, '--json'], ['audit', 'packet', 'verify', path.join(dir, 'nope'), '--json'], (o) => assert.equal((o.evidenceFailure as {verdict: string}).verdict, 'invalid')],
      ['check', ['check', '--config', path.join(dir, 'ok.yaml'), '--url', 'https://pastebin.com/x', '--json'], ['check', '--config', path.join(dir, 'nope.yaml'), '--json'], (o) => assert.equal((o.url as {allowed: boolean}).allowed, false)],
    ]
    writeFileSync(path.join(dir, 'ok.yaml'), 'mode: balanced\n')
    assert.equal(runCli(['audit', 'packet', 'build', '--chain', path.join(receipts, 'broken-chain.jsonl'), '--key', key, '--out', path.join(dir, 'pkt')]).status, 1)
    for (const [name, failed, unread, says] of gates) {
      const f = runCli(failed)
      assert.equal(f.status, 1, `${name}: ${f.stderr}`)
      const result = JSON.parse(f.stdout) as Record<string, unknown>
      assert.equal(result.error, undefined, name)
      says(result)
      const u = runCli(unread)
      assert.equal(u.status, 1, `${name}: ${u.stderr}`)
      assert.equal((JSON.parse(u.stdout) as {error: {code: string; exit: number}}).error.code, 'FILE_NOT_FOUND', name)
    }
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('session --api-url X list: the flag before the subcommand reaches the command', () => {
  const r = runCli(['session', '--api-url', 'http://127.0.0.1:1', '--api-token', 't', 'list'])
  // the flags were parsed by `session list` (not the topic help): it tried the URL and failed
  assert.equal(r.status, 1)
  assert.match(r.stderr, /\[ADMIN_API_UNREACHABLE\]/)
})

test('oclif\'s own commands (help, version, autocomplete) report a usage error as pipelock\'s do: one line or one JSON object, exit 2, no flag value, no config dump', () => {
  for (const words of [['version'], ['help'], ['autocomplete']]) {
    const r = runCli([...words, '--token=SECRETVALUE'])
    assert.equal(r.status, 2, r.stderr)
    assert.equal(r.stderr, `Nonexistent flag: --token [USAGE]; hint: see pipelock ${words[0]} --help\n`)
    const j = runCli([...words, '--token=SECRETVALUE', '--json'])
    assert.equal(j.status, 2, j.stderr)
    // `help` takes no --json: it is named as unknown too, and the answer is JSON all the same.
    const message = words[0] === 'version' ? 'Nonexistent flag: --token' : 'Nonexistent flags: --token, --json'
    assert.equal(j.stdout, `{"error":{"code":"USAGE","message":"${message}","exit":2,"hint":"see pipelock ${words[0]} --help"}}\n`)
    assert.ok(!(j.stdout + j.stderr).includes('SECRETVALUE'))
  }
  const extra = runCli(['autocomplete', 'bash', 'sk-secret'])
  assert.equal(extra.status, 2)
  assert.equal(extra.stderr, 'Unexpected argument: more arguments than the command takes (their values are not shown) [USAGE]; hint: see pipelock autocomplete --help\n')
  const shell = runCli(['autocomplete', 'fish'])
  assert.equal(shell.status, 2)
  assert.equal(shell.stderr, 'Expected fish to be one of: zsh, bash, powershell [USAGE]; hint: see pipelock autocomplete --help\n')
})

test('a single-value flag given twice is a usage error in every form: the USAGE line, exit 2, no stack under --json', () => {
  const r = runCli(['check', '-c', 'a.yaml', '-c', 'b.yaml'])
  assert.equal(r.status, 2)
  assert.equal(r.stderr, 'Flag --config can only be specified once [USAGE]; hint: see pipelock check --help\n')
  const j = runCli(['audit', 'score', '-c', 'a.yaml', '-c', 'b.yaml', '--json'])
  assert.equal(j.status, 2)
  assert.equal(j.stdout, '{"error":{"code":"USAGE","message":"Flag --config can only be specified once","exit":2,"hint":"see pipelock audit score --help"}}\n')
  assert.equal(j.stderr, '')
  // A flag given last with no value: the same.
  const last = runCli(['healthcheck', '--addr', '--json'])
  assert.equal(last.status, 2)
  assert.equal(last.stdout, '{"error":{"code":"USAGE","message":"Flag --addr expects a value","exit":2,"hint":"see pipelock healthcheck --help"}}\n')
  assert.equal(last.stderr, '')
})

test('pipelock help, pipelock version, autocomplete', () => {
  const h = runCli(['help'])
  assert.equal(h.status, 0)
  assert.match(h.stdout, /^USAGE\n {2}\$ pipelock \[COMMAND\]$/m)
  assert.match(h.stdout, /^ {2}learn +Turn observed traffic/m)
  const v = runCli(['version'])
  assert.equal(v.status, 0)
  assert.match(v.stdout, /^pipelock\/0\.1\.0 \S+ node-v\d+\.\d+\.\d+\n$/)
  const a = runCli(['autocomplete', 'script', 'bash'])
  assert.equal(a.status, 0)
  assert.match(a.stdout, /PIPELOCK_AC_BASH_SETUP_PATH/)
})

test('relative paths: learn review FILE and learn shadow --contract/--sessions resolve against the working directory', () => {
  const dir = repoPath('goldens', 'tail-block')
  const abs = runCli(['learn', 'review', path.join(dir, 'contract.yaml')])
  const rel = runCli(['learn', 'review', 'contract.yaml'], {cwd: dir})
  assert.equal(rel.status, 0, rel.stderr)
  assert.equal(rel.stdout, abs.stdout)
  const shadow = runCli(['learn', 'shadow', '--contract', 'contract.yaml', '--allow-unsigned-contract-for-diagnostics', '--sessions', 'input', '--deterministic', '--json'], {cwd: dir})
  assert.equal(shadow.status, 0, shadow.stderr)
  assert.deepEqual(JSON.parse(shadow.stdout).contract, path.join(dir, 'contract.yaml'))
  assert.ok((JSON.parse(shadow.stdout) as {report: {total_records: number}}).report.total_records > 0)
})

test('learn compile --fixture takes only --input, --out-dir and --json: a flag of the capture form is refused, not ignored, its value not echoed', () => {
  const key = 'ab'.repeat(32)
  const r = runCli(['learn', 'compile', '--fixture', 'f.json', '--input', 'in.jsonl', '--out-dir', '/tmp/none', '--escrow-private-key', key])
  assert.equal(r.status, 2)
  assert.equal(r.stdout, '')
  assert.equal(r.stderr, 'Only the following can be provided when using --fixture: --input, --out-dir, --json [USAGE]; hint: see pipelock learn compile --help\n')
  for (const extra of [['--agent', 'a'], ['--deterministic'], ['--since', '1h'], ['--include-mcp']]) {
    const e = runCli(['learn', 'compile', '--fixture', 'f.json', '--input', 'in.jsonl', '--out-dir', '/tmp/none', ...extra, '--json'])
    assert.equal(e.status, 2, extra.join(' '))
    assert.deepEqual(JSON.parse(e.stdout).error.message, 'Only the following can be provided when using --fixture: --input, --out-dir, --json')
  }
  const o = runCli(['learn', 'compile', '--agent', 'a', '--out-dir', '/tmp/none'])
  assert.equal(o.status, 2)
  assert.equal(o.stderr, 'All of the following must be provided when using --out-dir: --fixture [USAGE]; hint: see pipelock learn compile --help\n')
})

test('learn compile --fixture naming a directory is FILE_UNREADABLE "is a directory"; a missing one FILE_NOT_FOUND, in words', () => {
  const golden = repoPath('goldens', 'multi-hour')
  const out = path.join(mkdtempSync(path.join(tmpdir(), 'pl-fixture-dir-')), 'out')
  const input = path.join(golden, 'input', '*', '*.jsonl')
  const d = runCli(['learn', 'compile', '--fixture', golden, '--input', input, '--out-dir', out])
  assert.equal(d.status, 1)
  assert.equal(d.stdout, '')
  assert.equal(d.stderr, `${golden}: cannot read fixture: is a directory [FILE_UNREADABLE]\n`)
  const j = runCli(['learn', 'compile', '--fixture', golden, '--input', input, '--out-dir', out, '--json'])
  assert.deepEqual(JSON.parse(j.stdout), {error: {code: 'FILE_UNREADABLE', message: `${golden}: cannot read fixture: is a directory`, exit: 1, file: golden}})
  const missing = path.join(golden, 'no-fixture.json')
  const m = runCli(['learn', 'compile', '--fixture', missing, '--input', input, '--out-dir', out])
  assert.equal(m.status, 1)
  assert.equal(m.stderr, `${missing}: cannot read fixture: no such file or directory [FILE_NOT_FOUND]\n`)
  assert.ok(!existsSync(out))
})

test('two exclusive flags: named without the value given (a key on the command line is not echoed)', () => {
  const r = runCli(['learn', 'ratify', '--candidate', 'c.yaml', '--interactive', '--redo-decisions'])
  assert.equal(r.status, 2)
  assert.doesNotMatch(r.stderr, /=/)
  assert.match(r.stderr, /^--[a-z-]+ cannot also be provided when using --[a-z-]+.* \[USAGE\]; hint: see pipelock learn ratify --help\n$/)
})
