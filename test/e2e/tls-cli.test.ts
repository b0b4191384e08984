import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {X509Certificate} from 'node:crypto'
import {repoPath} from '../helpers/vectors.js'
import {caWithUnreadableNotAfter} from '../helpers/tls-ca.js'

// `pipelock tls init|install-ca|show-ca` through the built CLI: exact stdout/stderr, modes, exits.

function pipelock(args: string[], env: Record<string, string> = {}): {code: number | null; stdout: string; stderr: string} {
  const home = mkdtempSync(path.join(tmpdir(), 'pl-tls-home-'))
  const r = spawnSync(process.execPath, [repoPath('bin', 'run.js'), ...args], {encoding: 'utf8', env: {...process.env, HOME: home, PIPELOCK_HOME: '', NO_COLOR: '1', ...env}})
  return {code: r.status, stdout: r.stdout, stderr: r.stderr}
}
const mode = (p: string): number => statSync(p).mode & 0o777

describe('pipelock tls', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pl-tls-cli-'))
  const out = path.join(dir, 'nested', 'ca')
  const cert = path.join(out, 'ca.pem')
  const key = path.join(out, 'ca-key.pem')

  it('init: exact output, 0600 files, 0750 directories, refusal without --force', () => {
    const r = pipelock(['tls', 'init', '--out', out])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, `CA certificate: ${cert}\nCA private key: ${key}\n\nNext: run 'pipelock tls install-ca' to add the CA to your system trust store.\n`)
    assert.equal(r.stderr, '')
    assert.equal(mode(cert), 0o600)
    assert.equal(mode(key), 0o600)
    assert.equal(mode(out), 0o750)
    assert.equal(mode(path.dirname(out)), 0o750)
    const again = pipelock(['tls', 'init', '--out', out])
    assert.equal(again.code, 1)
    assert.equal(again.stdout, '')
    assert.equal(again.stderr, `CA cert already exists at ${cert} (use --force to overwrite) [TLS_CA_EXISTS]\n`)
  })

  it('init --force rewrites both files at 0600 even over a 0644 key; --org and --validity shape the CA', () => {
    const before = readFileSync(cert, 'utf8')
    chmodSync(key, 0o644)
    const r = pipelock(['tls', 'init', '--out', out, '--force', '--org', 'Acme Agents', '--validity', '720h'])
    assert.equal(r.code, 0, r.stderr)
    assert.notEqual(readFileSync(cert, 'utf8'), before)
    assert.equal(mode(key), 0o600)
    const c = new X509Certificate(readFileSync(cert))
    assert.equal(c.subject, 'O=Acme Agents\nCN=Pipelock CA')
    const span = Date.parse(c.validTo) - Date.parse(c.validFrom)
    assert.equal(span, 721 * 3_600_000)
  })

  it('init --force that cannot write the key keeps the existing CA pair (nothing replaced, no temp files)', () => {
    const own = path.join(dir, 'keep')
    assert.equal(pipelock(['tls', 'init', '--out', own]).code, 0)
    const ownCert = path.join(own, 'ca.pem')
    const ownKey = path.join(own, 'ca-key.pem')
    const before = readFileSync(ownCert)
    // a key path that cannot take the new key (here a directory in its place)
    rmSync(ownKey)
    mkdirSync(ownKey)
    const r = pipelock(['tls', 'init', '--out', own, '--force'])
    assert.equal(r.code, 1)
    assert.equal(r.stdout, '')
    assert.equal(r.stderr, `write CA key: open ${ownKey}: is a directory [WRITE_FAILED]\n`)
    assert.deepEqual(readFileSync(ownCert), before)
    assert.deepEqual(readdirSync(own).sort(), ['ca-key.pem', 'ca.pem'])
  })

  it('init: bad and non-positive --validity', () => {
    const bad = pipelock(['tls', 'init', '--out', path.join(dir, 'x'), '--validity', 'abc'])
    assert.equal(bad.code, 2)
    assert.equal(bad.stderr, 'invalid validity: time: invalid duration "abc" [USAGE]\n')
    const neg = pipelock(['tls', 'init', '--out', path.join(dir, 'y'), '--validity', '-1h'])
    assert.equal(neg.code, 1)
    assert.equal(neg.stderr, 'generate CA: CA validity must be positive [TLS_CA_INVALID]\n')
  })

  it('init: a --validity beyond a Go duration (2^63 ns) is refused as Go refuses it; the longest Go reads makes a CA every parser reads', () => {
    const target = path.join(dir, 'far')
    const big = pipelock(['tls', 'init', '--out', target, '--validity', '2562048h'])
    assert.deepEqual([big.code, big.stdout, big.stderr], [2, '', 'invalid validity: time: invalid duration "2562048h" [USAGE]\n'])
    assert.ok(!readdirSync(dir).includes('far'))
    const ok = pipelock(['tls', 'init', '--out', target, '--validity', '2562047h'])
    assert.equal(ok.code, 0, ok.stderr)
    const end = spawnSync('openssl', ['x509', '-in', path.join(target, 'ca.pem'), '-noout', '-enddate'], {encoding: 'utf8'})
    const year = new Date(Date.now() + 2562047 * 3_600_000).getUTCFullYear()
    assert.match(end.stdout, new RegExp(`^notAfter=\\w{3} [ \\d]\\d \\d\\d:\\d\\d:\\d\\d ${year} GMT\\n$`))
    assert.equal(pipelock(['tls', 'show-ca', '--cert', path.join(target, 'ca.pem')]).code, 0)
  })

  it('show-ca and install-ca refuse a CA certificate whose notAfter cannot be read', () => {
    const bad = path.join(dir, 'bad-date.pem')
    writeFileSync(bad, caWithUnreadableNotAfter(Date.now()).certPem)
    for (const cmd of [['tls', 'show-ca'], ['tls', 'install-ca', '--platform', 'linux']]) {
      const r = pipelock([...cmd, '--cert', bad])
      assert.deepEqual([r.code, r.stdout, r.stderr], [1, '', `${bad}: the CA certificate's notAfter cannot be read ("Bad time value"); no client would accept it [TLS_CA_INVALID]; hint: generate a new CA with 'pipelock tls init --force' and install that one\n`])
    }
  })

  it('init without --out writes to $PIPELOCK_HOME (the place run looks)', () => {
    const h = path.join(dir, 'plhome')
    const r = pipelock(['tls', 'init'], {PIPELOCK_HOME: h})
    assert.equal(r.code, 0, r.stderr)
    assert.ok(r.stdout.startsWith(`CA certificate: ${path.join(h, 'ca.pem')}\nCA private key: ${path.join(h, 'ca-key.pem')}\n`))
    const show = pipelock(['tls', 'show-ca'], {PIPELOCK_HOME: h})
    assert.equal(show.stdout, readFileSync(path.join(h, 'ca.pem'), 'utf8'))
  })

  it('show-ca: the file bytes verbatim (no added newline); a missing file is one line', () => {
    const odd = path.join(dir, 'odd.pem')
    writeFileSync(odd, readFileSync(cert, 'utf8').trimEnd())
    assert.equal(pipelock(['tls', 'show-ca', '--cert', odd]).stdout, readFileSync(cert, 'utf8').trimEnd())
    assert.equal(pipelock(['tls', 'show-ca', '--cert', cert]).stdout, readFileSync(cert, 'utf8'))
    const miss = pipelock(['tls', 'show-ca', '--cert', path.join(dir, 'missing.pem')])
    assert.equal(miss.code, 1)
    assert.equal(miss.stdout, '')
    assert.equal(miss.stderr, `CA cert not found at ${path.join(dir, 'missing.pem')} [TLS_CA_NOT_FOUND]; hint: pipelock tls init --out DIR creates a CA as DIR/ca.pem (and DIR/ca-key.pem); pass that file as --cert\n`)
  })

  it('show-ca with no CA in the pipelock home: TLS_CA_NOT_FOUND and the tls init that creates it (which show-ca then prints)', () => {
    const h = mkdtempSync(path.join(tmpdir(), 'pl-tls-none-'))
    const none = pipelock(['tls', 'show-ca'], {PIPELOCK_HOME: h})
    assert.equal(none.code, 1)
    assert.equal(none.stdout, '')
    assert.equal(none.stderr, `CA cert not found at ${path.join(h, 'ca.pem')} [TLS_CA_NOT_FOUND]; hint: create the CA with: pipelock tls init --out ${h}\n`)
    assert.equal(pipelock(['tls', 'init', '--out', h]).code, 0)
    const shown = pipelock(['tls', 'show-ca'], {PIPELOCK_HOME: h})
    assert.equal(shown.code, 0, shown.stderr)
    assert.equal(shown.stdout, readFileSync(path.join(h, 'ca.pem'), 'utf8'))
  })

  it('show-ca and install-ca refuse a private key, a non-certificate and a certificate that is no CA: nothing printed', () => {
    const garbage = path.join(dir, 'garbage.pem')
    writeFileSync(garbage, 'garbage\n')
    const leafKey = path.join(dir, 'leaf-key.pem')
    const leaf = path.join(dir, 'leaf.pem')
    const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', leafKey, '-out', leaf, '-days', '1', '-subj', '/CN=leaf.example', '-addext', 'basicConstraints=critical,CA:FALSE'], {encoding: 'utf8'})
    assert.equal(made.status, 0, made.stderr)
    for (const cmd of [['tls', 'show-ca'], ['tls', 'install-ca', '--platform', 'linux']]) {
      const k = pipelock([...cmd, '--cert', key])
      assert.deepEqual([k.code, k.stdout, k.stderr], [1, '', `${key} holds a private key, not a CA certificate: refusing to show or install it [TLS_CA_INVALID]; hint: pass the certificate (ca.pem), never ca-key.pem\n`])
      const g = pipelock([...cmd, '--cert', garbage])
      assert.deepEqual([g.code, g.stdout], [1, ''])
      assert.match(g.stderr, /^.*garbage\.pem is not a PEM certificate: .* \[TLS_CA_INVALID\]\n$/)
      const l = pipelock([...cmd, '--cert', leaf])
      assert.deepEqual([l.code, l.stdout, l.stderr], [1, '', `${leaf} is a certificate for "CN=leaf.example" but not a CA (basicConstraints CA:FALSE or absent) [TLS_CA_INVALID]\n`])
    }
  })

  const hints = (p: string): string =>
    `\nAgent runtimes that do not read the system store:\n  Node.js:          NODE_EXTRA_CA_CERTS=${p}\n  Python requests:  REQUESTS_CA_BUNDLE=${p}\n  curl:             --cacert ${p} (or CURL_CA_BUNDLE=${p})\n  Go:               the system store, or SSL_CERT_FILE=${p}\n`

  it('install-ca prints (installs nothing) per platform, path in Go %q quoting', () => {
    const q = JSON.stringify(cert)
    const linux = pipelock(['tls', 'install-ca', '--cert', cert, '--platform', 'linux'])
    assert.equal(linux.code, 0, linux.stderr)
    assert.equal(
      linux.stdout,
      `How to trust the CA certificate on Linux (nothing was installed; --apply runs these commands):\n\nRun one of the following (requires root):\n\n  # Debian/Ubuntu:\n  sudo cp ${q} /usr/local/share/ca-certificates/pipelock-ca.crt\n  sudo update-ca-certificates\n\n  # RHEL/Fedora:\n  sudo cp ${q} /etc/pki/ca-trust/source/anchors/pipelock-ca.crt\n  sudo update-ca-trust extract\n` + hints(cert),
    )
    assert.equal(
      pipelock(['tls', 'install-ca', '--cert', cert, '--platform', 'darwin']).stdout,
      `How to trust the CA certificate on macOS (nothing was installed; --apply runs this command):\n\nRun (requires admin password):\n\n  sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain ${q}\n` + hints(cert),
    )
    assert.equal(
      pipelock(['tls', 'install-ca', '--cert', cert, '--platform', 'win32']).stdout,
      `How to trust the CA certificate on Windows (nothing was installed):\n\nRun in elevated Command Prompt:\n\n  certutil -addstore -f "ROOT" ${q}\n` + hints(cert),
    )
    assert.equal(pipelock(['tls', 'install-ca', '--cert', cert, '--platform', 'plan9']).stdout, `Unsupported OS: plan9\nManually add ${q} to your system trust store.\n` + hints(cert))
  })

  it('install-ca: a path sh would expand inside double quotes is single-quoted; pasted, the commands run nothing else', () => {
    const odd = path.join(dir, `t$(touch PWNED)"x'y!z`)
    mkdirSync(odd)
    const p = path.join(odd, 'ca.pem')
    writeFileSync(p, readFileSync(cert))
    const w = `'${p.replaceAll("'", `'\\''`)}'`
    const linux = pipelock(['tls', 'install-ca', '--cert', p, '--platform', 'linux'])
    assert.equal(linux.code, 0, linux.stderr)
    assert.equal(
      linux.stdout,
      `How to trust the CA certificate on Linux (nothing was installed; --apply runs these commands):\n\nRun one of the following (requires root):\n\n  # Debian/Ubuntu:\n  sudo cp ${w} /usr/local/share/ca-certificates/pipelock-ca.crt\n  sudo update-ca-certificates\n\n  # RHEL/Fedora:\n  sudo cp ${w} /etc/pki/ca-trust/source/anchors/pipelock-ca.crt\n  sudo update-ca-trust extract\n` + hints(w),
    )
    assert.equal(pipelock(['tls', 'install-ca', '--cert', p, '--platform', 'darwin']).stdout.split('\n')[4], `  sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain ${w}`)
    // Every printed command line, pasted into sh with sudo swapped for printf: the path comes back whole, nothing runs.
    const pasted = linux.stdout.split('\n').filter((l) => l.startsWith('  sudo cp ')).map((l) => l.replace('  sudo cp ', "printf '%s\\n' "))
    pasted.push(`NODE_EXTRA_CA_CERTS=${w} sh -c 'printf "%s\\n" "$NODE_EXTRA_CA_CERTS"'`)
    const sh = spawnSync('sh', ['-c', pasted.join('\n')], {cwd: dir, encoding: 'utf8'})
    assert.equal(sh.status, 0, sh.stderr)
    assert.equal(sh.stdout, `${p}\n/usr/local/share/ca-certificates/pipelock-ca.crt\n${p}\n/etc/pki/ca-trust/source/anchors/pipelock-ca.crt\n${p}\n`)
    assert.ok(!readdirSync(dir).includes('PWNED'))
  })

  it('install-ca: a path no printed command can carry is refused', () => {
    const ctl = path.join(dir, 'a\u001b[2Jb.pem')
    writeFileSync(ctl, readFileSync(cert))
    const c = pipelock(['tls', 'install-ca', '--cert', ctl, '--platform', 'linux'])
    assert.deepEqual([c.code, c.stdout, c.stderr], [2, '', `the CA certificate path "${dir}/a\\x1b[2Jb.pem" holds a control character, which a printed command cannot carry [USAGE]; hint: copy or link the certificate to a plain path and pass it with --cert\n`])
    const pct = path.join(dir, '%PATH%.pem')
    writeFileSync(pct, readFileSync(cert))
    const win = pipelock(['tls', 'install-ca', '--cert', pct, '--platform', 'win32'])
    assert.deepEqual([win.code, win.stdout, win.stderr], [2, '', `the CA certificate path "${pct}" holds " or %, which a Command Prompt command line cannot carry [USAGE]; hint: copy or link the certificate to a plain path and pass it with --cert\n`])
    assert.equal(pipelock(['tls', 'install-ca', '--cert', pct, '--platform', 'linux']).code, 0)
  })

  it('install-ca: missing cert; --apply refuses where it has no commands', () => {
    const m = path.join(dir, 'none.pem')
    const miss = pipelock(['tls', 'install-ca', '--cert', m])
    assert.equal(miss.code, 1)
    assert.equal(miss.stderr, `CA cert not found at ${m} (run 'pipelock tls init' first): stat ${m}: no such file or directory [TLS_CA_NOT_FOUND]\n`)
    const w = pipelock(['tls', 'install-ca', '--cert', cert, '--platform', 'win32', '--apply'])
    assert.equal(w.code, 1)
    assert.equal(w.stdout, '')
    assert.equal(w.stderr, `--apply is not supported on windows; add ${cert} to the trust store by hand [NOT_IMPLEMENTED]; hint: run without --apply to see the instructions\n`)
  })
})
