import {test} from 'node:test'
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {parseAllDocuments} from 'yaml'
import {z} from 'zod'
import {runCli} from '../helpers/cli.js'
import {repoPath} from '../helpers/vectors.js'

// The deployment kit: deploy/ holds the generator's output for the balanced preset; each file is
// parsed by the tool that would run it (systemd-analyze verify) or checked against a schema of
// the Kubernetes fields it uses (Debian's kubectl needs an API server even for a client dry run).

const hasSystemdAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0

test('deploy/: the checked-in files are what generate config/systemd/kubernetes write for the balanced preset', () => {
  assert.equal(runCli(['generate', 'config', '--preset', 'balanced']).stdout, readFileSync(repoPath('deploy', 'pipelock.yaml'), 'utf8'))
  const unit = runCli(['generate', 'systemd', '--config', 'deploy/pipelock.yaml'])
  assert.equal(unit.status, 0, unit.stderr)
  assert.equal(unit.stdout, readFileSync(repoPath('deploy', 'systemd', 'pipelock.service'), 'utf8'))
  const k8s = runCli(['generate', 'kubernetes', '--config', 'deploy/pipelock.yaml'])
  assert.equal(k8s.status, 0, k8s.stderr)
  assert.equal(k8s.stdout, readFileSync(repoPath('deploy', 'kubernetes', 'pipelock-sidecar.yaml'), 'utf8'))
})

test('systemd unit: hardened shape, and systemd-analyze verify accepts it', {skip: hasSystemdAnalyze ? false : 'systemd-analyze not installed (Debian package systemd)'}, () => {
  const unit = readFileSync(repoPath('deploy', 'systemd', 'pipelock.service'), 'utf8')
  for (const line of ['DynamicUser=yes', 'ProtectSystem=strict', 'ExecReload=/bin/kill -HUP $MAINPID', 'StateDirectory=pipelock pipelock/capture pipelock/recorder', 'Environment=PIPELOCK_HOME=/var/lib/pipelock', 'NoNewPrivileges=yes', 'CapabilityBoundingSet=']) {
    assert.ok(unit.split('\n').includes(line), line)
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pipelock-unit-'))
  try {
    // verify checks that ExecStart's binary exists: point it at this node for the check
    const file = path.join(dir, 'pipelock.service')
    const g = runCli(['generate', 'systemd', '--config', 'deploy/pipelock.yaml', '--bin', process.execPath, '--output', file])
    assert.equal(g.status, 0, g.stderr)
    const v = spawnSync('systemd-analyze', ['verify', file], {encoding: 'utf8'})
    assert.equal(v.status, 0, v.stderr)
    assert.equal(v.stderr, '')
    // and the check is real: an unknown key is reported
    writeFileSync(file, readFileSync(file, 'utf8').replace('[Service]\n', '[Service]\nProtectSytem=strict\n'))
    assert.match(spawnSync('systemd-analyze', ['verify', file], {encoding: 'utf8'}).stderr, /Unknown key 'ProtectSytem'/)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('systemd unit: paths with spaces, % and $ are quoted and escaped as systemd reads them; a relative path is refused', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pipelock-unit-'))
  try {
    const cfg = path.join(dir, 'w.yaml')
    writeFileSync(cfg, 'logging:\n  output: file\n  file: "/var/log/pipe lock/audit.log"\n')
    const file = path.join(dir, 'w.service')
    const g = runCli(['generate', 'systemd', '--config', cfg, '--bin', process.execPath, '--install-path', '/etc/pipe lock/p%h$X.yaml', '--output', file])
    assert.equal(g.status, 0, g.stderr)
    const unit = readFileSync(file, 'utf8').split('\n')
    assert.ok(unit.includes(`ExecStart=${process.execPath} run --config "/etc/pipe lock/p%%h$$X.yaml"`), unit.join('\n'))
    assert.ok(unit.includes('ReadWritePaths="/var/log/pipe lock"'))
    if (hasSystemdAnalyze) assert.equal(spawnSync('systemd-analyze', ['verify', file], {encoding: 'utf8'}).stderr, '')
    writeFileSync(cfg, 'flight_recorder:\n  enabled: true\n  dir: relative/evidence\n')
    const rel = runCli(['generate', 'systemd', '--config', cfg])
    assert.equal(rel.status, 2)
    assert.equal(rel.stderr, 'generate systemd: "relative/evidence" is not an absolute path; a unit needs absolute paths (make it absolute in the config or the flag) [USAGE]\n')
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('generate kubernetes refuses a --name Kubernetes would refuse at apply time', () => {
  const r = runCli(['generate', 'kubernetes', '--config', 'deploy/pipelock.yaml', '--name', 'My_Agent x'])
  assert.equal(r.status, 2)
  assert.equal(r.stdout, '')
  assert.match(r.stderr, /^generate kubernetes: --name "My_Agent x" must be lowercase letters, digits and '-', .* \[USAGE\]\n$/)
  assert.equal(runCli(['generate', 'kubernetes', '--config', 'deploy/pipelock.yaml', '--name', 'shop-agent-2']).status, 0)
})

test('generate kubernetes refuses an empty --image or --agent-image (a container with image "" is refused at apply time): USAGE, nothing written', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pl-k8s-image-'))
  try {
    const out = path.join(dir, 'agent.yaml')
    for (const [flag, value] of [['--image', ''], ['--agent-image', ''], ['--image', 'pipelock :0.1.0']] as const) {
      const r = runCli(['generate', 'kubernetes', '--config', 'deploy/pipelock.yaml', flag, value, '--output', out])
      assert.equal(r.status, 2, r.stderr)
      assert.equal(r.stdout, '')
      assert.equal(r.stderr, `generate kubernetes: ${flag} ${JSON.stringify(value)} is not an image reference: it must be non-empty, without white space (as registry.example.com/name:tag) [USAGE]\n`)
      assert.ok(!existsSync(out))
    }
    const j = runCli(['generate', 'kubernetes', '--config', 'deploy/pipelock.yaml', '--image', '', '--json'])
    assert.equal(j.status, 2)
    assert.equal((JSON.parse(j.stdout) as {error: {code: string}}).error.code, 'USAGE')
    const ok = runCli(['generate', 'kubernetes', '--config', 'deploy/pipelock.yaml', '--image', 'registry.example.com/pipelock:0.1.0'])
    assert.equal(ok.status, 0, ok.stderr)
    assert.ok(ok.stdout.includes('image: registry.example.com/pipelock:0.1.0\n'))
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

const meta = z.strictObject({name: z.string().min(1), labels: z.record(z.string(), z.string()).optional()})
const probe = z.strictObject({exec: z.strictObject({command: z.array(z.string()).min(1)}), periodSeconds: z.number().int(), timeoutSeconds: z.number().int(), initialDelaySeconds: z.number().int().optional()})
const envName = z.string().regex(/^[A-Z_][A-Z0-9_]*$/)
const env = z.array(
  z.union([
    z.strictObject({name: envName, value: z.string()}),
    z.strictObject({name: envName, valueFrom: z.strictObject({secretKeyRef: z.strictObject({name: z.string(), key: z.string()})})}),
  ]),
)
const mount = z.strictObject({name: z.string(), mountPath: z.string().startsWith('/'), readOnly: z.boolean().optional()})
const container = z.strictObject({
  name: z.string(),
  image: z.string().min(1),
  args: z.array(z.string()).optional(),
  env: env.optional(),
  ports: z.array(z.strictObject({name: z.string().max(15), containerPort: z.number().int().min(1).max(65535)})).optional(),
  readinessProbe: probe.optional(),
  livenessProbe: probe.optional(),
  securityContext: z.strictObject({allowPrivilegeEscalation: z.literal(false), readOnlyRootFilesystem: z.literal(true), capabilities: z.strictObject({drop: z.tuple([z.literal('ALL')])})}).optional(),
  resources: z.strictObject({requests: z.record(z.string(), z.string()), limits: z.record(z.string(), z.string())}).optional(),
  volumeMounts: z.array(mount).optional(),
})
const volume = z.union([
  z.strictObject({name: z.string(), configMap: z.strictObject({name: z.string()})}),
  z.strictObject({name: z.string(), emptyDir: z.strictObject({})}),
  z.strictObject({name: z.string(), persistentVolumeClaim: z.strictObject({claimName: z.string(), readOnly: z.literal(true)})}),
])
const configMap = z.strictObject({apiVersion: z.literal('v1'), kind: z.literal('ConfigMap'), metadata: meta, data: z.record(z.string(), z.string())})
const secret = z.strictObject({apiVersion: z.literal('v1'), kind: z.literal('Secret'), metadata: meta, type: z.literal('Opaque'), stringData: z.record(z.string(), z.string())})
const deployment = z.strictObject({
  apiVersion: z.literal('apps/v1'),
  kind: z.literal('Deployment'),
  metadata: meta,
  spec: z.strictObject({
    replicas: z.number().int(),
    selector: z.strictObject({matchLabels: z.record(z.string(), z.string())}),
    template: z.strictObject({
      metadata: z.strictObject({labels: z.record(z.string(), z.string())}),
      spec: z.strictObject({
        securityContext: z.strictObject({runAsNonRoot: z.literal(true), seccompProfile: z.strictObject({type: z.literal('RuntimeDefault')})}),
        containers: z.array(container).min(2),
        volumes: z.array(volume),
      }),
    }),
  }),
})

test('kubernetes sidecar: ConfigMap + Deployment match the schema; HTTPS_PROXY wired; every mount has a volume', () => {
  const docs = parseAllDocuments(readFileSync(repoPath('deploy', 'kubernetes', 'pipelock-sidecar.yaml'), 'utf8')).map((d) => {
    assert.deepEqual(d.errors, [])
    return d.toJS() as unknown
  })
  assert.equal(docs.length, 2)
  const cm = configMap.parse(docs[0])
  assert.equal(cm.data['pipelock.yaml'], readFileSync(repoPath('deploy', 'pipelock.yaml'), 'utf8'))
  const dep = deployment.parse(docs[1])
  const [agent, sidecar] = dep.spec.template.spec.containers
  assert.deepEqual(agent!.env!.find((e) => e.name === 'HTTPS_PROXY'), {name: 'HTTPS_PROXY', value: 'http://127.0.0.1:8888'})
  assert.deepEqual(sidecar!.args, ['run', '--config', '/etc/pipelock/pipelock.yaml'])
  assert.deepEqual(sidecar!.readinessProbe!.exec.command, ['pipelock', 'healthcheck', '--addr', '127.0.0.1:8888'])
  const volumes = new Set(dep.spec.template.spec.volumes.map((v) => v.name))
  for (const m of sidecar!.volumeMounts ?? []) assert.ok(volumes.has(m.name), m.name)
  assert.deepEqual(dep.spec.selector.matchLabels, dep.spec.template.metadata.labels)
})

test('generate systemd/kubernetes for a config with recorder, capture and a contract store', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pipelock-deploy-'))
  try {
    const cfg = path.join(dir, 'p.yaml')
    writeFileSync(cfg, 'fetch_proxy:\n  listen: 127.0.0.1:9911\nforward_proxy:\n  enabled: true\nflight_recorder:\n  enabled: true\n  dir: /srv/pipelock/recorder\nlearn:\n  capture_dir: /var/lib/pipelock/capture\n')
    const unit = runCli(['generate', 'systemd', '--config', cfg, '--json'])
    assert.equal(unit.status, 0, unit.stderr)
    const text = (JSON.parse(unit.stdout) as {text: string}).text
    assert.ok(text.includes('\nReadWritePaths=/srv/pipelock/recorder\n'), text)
    const k = runCli(['generate', 'kubernetes', '--config', cfg])
    assert.equal(k.status, 0, k.stderr)
    const dep = deployment.parse(parseAllDocuments(k.stdout)[1]!.toJS())
    const sidecar = dep.spec.template.spec.containers[1]!
    assert.deepEqual(sidecar.ports, [{name: 'proxy', containerPort: 9911}])
    assert.ok(sidecar.volumeMounts!.some((m) => m.mountPath === '/srv/pipelock/recorder'))
    const bad = runCli(['generate', 'systemd', '--config', path.join(dir, 'missing.yaml')])
    assert.equal(bad.status, 1)
    assert.match(bad.stderr, /\[FILE_NOT_FOUND\]/)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('generate kubernetes: the admin API token and a literal capture salt go into a Secret, not the ConfigMap', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pipelock-deploy-'))
  try {
    const cfg = path.join(dir, 'p.yaml')
    writeFileSync(
      cfg,
      '# admin API\nkill_switch:\n  # the token\n  api_token: "s3cret-admin-token #1"\n  api_listen: 127.0.0.1:9090\n' +
        'forward_proxy:\n  enabled: true\nlearn:\n  capture_dir: /var/lib/pipelock/capture\n  privacy:\n    salt_source: pepper-0123456789 # literal\n',
    )
    const k = runCli(['generate', 'kubernetes', '--config', cfg, '--name', 'shop'])
    assert.equal(k.status, 0, k.stderr)
    assert.equal(k.stderr, '')
    assert.ok(
      k.stdout.split('\n').includes('# kill_switch.api_token and learn.privacy.salt_source: in the Secret shop-pipelock-secret (not the ConfigMap), read by pipelock as PIPELOCK_KILLSWITCH_API_TOKEN and PIPELOCK_CAPTURE_SALT. Keep this file private.'),
      k.stdout,
    )
    const docs = parseAllDocuments(k.stdout).map((d) => d.toJS() as unknown)
    assert.equal(docs.length, 3)
    const cm = configMap.parse(docs[0])
    // The rest of the file, comments included, is kept as written.
    assert.equal(cm.data['pipelock.yaml'], '# admin API\nkill_switch:\n  # the token\n  api_listen: 127.0.0.1:9090\nforward_proxy:\n  enabled: true\nlearn:\n  capture_dir: /var/lib/pipelock/capture\n  privacy:\n    salt_source: ${PIPELOCK_CAPTURE_SALT} # literal\n')
    assert.deepEqual(secret.parse(docs[1]), {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {name: 'shop-pipelock-secret', labels: {app: 'shop'}},
      type: 'Opaque',
      stringData: {'api-token': 's3cret-admin-token #1', 'capture-salt': 'pepper-0123456789'},
    })
    const [agent, sidecar] = deployment.parse(docs[2]).spec.template.spec.containers
    // Only the pipelock container gets them; the agent's environment stays without.
    assert.deepEqual(sidecar!.env, [
      {name: 'PIPELOCK_HOME', value: '/var/lib/pipelock'},
      {name: 'PIPELOCK_KILLSWITCH_API_TOKEN', valueFrom: {secretKeyRef: {name: 'shop-pipelock-secret', key: 'api-token'}}},
      {name: 'PIPELOCK_CAPTURE_SALT', valueFrom: {secretKeyRef: {name: 'shop-pipelock-secret', key: 'capture-salt'}}},
    ])
    assert.ok(!JSON.stringify(agent).includes('secret'), JSON.stringify(agent))
    // What the pod loads: valid with the Secret's variables set, and only with them.
    const podCfg = path.join(dir, 'pod.yaml')
    writeFileSync(podCfg, cm.data['pipelock.yaml']!)
    const withSecret = runCli(['check', '--config', podCfg, '--json'], {env: {PIPELOCK_KILLSWITCH_API_TOKEN: 's3cret-admin-token #1', PIPELOCK_CAPTURE_SALT: 'pepper-0123456789'}})
    assert.equal(withSecret.status, 0, withSecret.stderr + withSecret.stdout)
    const without = runCli(['check', '--config', podCfg], {env: {PIPELOCK_KILLSWITCH_API_TOKEN: ''}})
    assert.match(without.stdout + without.stderr, /kill_switch\.api_token: required when kill_switch\.api_listen is set/)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('generate kubernetes: a token tied to other values by YAML anchors is refused; credentials with no environment form are warned about', (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pipelock-deploy-'))
  t.after(() => rmSync(dir, {recursive: true, force: true}))
  const cfg = path.join(dir, 'p.yaml')
  for (const text of ['kill_switch:\n  <<: {api_token: abcdefabcdef}\n', 'kill_switch: {api_token: &k abcdefabcdef, message: *k}\n']) {
    writeFileSync(cfg, text)
    const r = runCli(['generate', 'kubernetes', '--config', cfg])
    assert.equal(r.status, 2, text)
    assert.equal(r.stdout, '')
    assert.equal(
      r.stderr,
      `generate kubernetes: kill_switch.api_token in ${cfg} cannot be moved into a Secret (a YAML anchor, alias or merge key ties it to other values) [CONFIG_INVALID]; hint: write kill_switch.api_token as a plain value in the config, or remove it and set PIPELOCK_KILLSWITCH_API_TOKEN from a Secret yourself\n`,
    )
  }
  writeFileSync(cfg, 'forward_proxy:\n  enabled: true\nemit:\n  webhook:\n    url: https://hooks.example.com/x\n    auth_token: wh-token\nscan_api:\n  listen: 127.0.0.1:9999\n  auth:\n    bearer_tokens: [scan-token]\n')
  const w = runCli(['generate', 'kubernetes', '--config', cfg])
  assert.equal(w.status, 0, w.stderr)
  assert.equal(w.stderr, 'warning: the ConfigMap holds emit.webhook.auth_token, scan_api.auth.bearer_tokens in plain text (pipelock reads them from the config only): limit who can read ConfigMaps in the namespace\n')
  // Nothing to move: no Secret, the config shipped byte for byte.
  const docs = parseAllDocuments(w.stdout).map((d) => d.toJS() as {kind: string})
  assert.deepEqual(docs.map((d) => d.kind), ['ConfigMap', 'Deployment'])
  assert.equal(configMap.parse(docs[0]).data['pipelock.yaml'], readFileSync(cfg, 'utf8'))
})

test('generate kubernetes: a config with the forward proxy off ships with it on, and says so; the refusals are one line', (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pipelock-deploy-'))
  t.after(() => rmSync(dir, {recursive: true, force: true}))
  const cfg = path.join(dir, 'nofwd.yaml')
  // The agent's HTTPS_PROXY meets a proxy that refuses CONNECT unless forward_proxy.enabled is on.
  const cases: Array<[string, string]> = [
    ['# mine\nkill_switch:\n  enabled: false\n', '# mine\nkill_switch:\n  enabled: false\nforward_proxy:\n  enabled: true\n'],
    ['forward_proxy:\n  enabled: false # off\n  max_tunnel_seconds: 60\n', 'forward_proxy:\n  enabled: true # off\n  max_tunnel_seconds: 60\n'],
    ['', 'forward_proxy:\n  enabled: true\n'],
    ['null\n', 'forward_proxy:\n  enabled: true\n'],
  ]
  for (const [text, shipped] of cases) {
    writeFileSync(cfg, text)
    for (const cmd of [['generate', 'kubernetes'], ['init', 'sidecar']]) {
      const k = runCli([...cmd, '--config', cfg])
      assert.equal(k.status, 0, k.stderr)
      assert.equal(
        k.stderr.split('\n').filter((l) => !l.includes('sets nothing')).join('\n'),
        `note: forward_proxy.enabled is off in ${cfg}; the ConfigMap turns it on (the agent reaches pipelock through HTTPS_PROXY/HTTP_PROXY, which needs the forward proxy)\n`,
      )
      const cm = configMap.parse(parseAllDocuments(k.stdout)[0]!.toJS())
      assert.equal(cm.data['pipelock.yaml'], shipped, JSON.stringify(text))
      // What the pod loads is valid and has the forward proxy on.
      const podCfg = path.join(dir, 'pod.yaml')
      writeFileSync(podCfg, shipped)
      const c = runCli(['check', '--config', podCfg, '--json'])
      assert.equal(c.status, 0, c.stdout + c.stderr)
    }
  }
  // Already on: no note, shipped byte for byte.
  writeFileSync(cfg, 'forward_proxy: {enabled: true}\n')
  const on = runCli(['generate', 'kubernetes', '--config', cfg])
  assert.equal(on.stderr, '')
  assert.equal(configMap.parse(parseAllDocuments(on.stdout)[0]!.toJS()).data['pipelock.yaml'], 'forward_proxy: {enabled: true}\n')
  // A UTF-16 file (PowerShell 5's `>`), which the proxy reads: the ConfigMap holds its text as UTF-8.
  writeFileSync(cfg, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('mode: strict\nforward_proxy: {enabled: true}\n', 'utf16le')]))
  const utf16 = runCli(['generate', 'kubernetes', '--config', cfg])
  assert.deepEqual([utf16.status, utf16.stderr], [0, ''])
  assert.equal(configMap.parse(parseAllDocuments(utf16.stdout)[0]!.toJS()).data['pipelock.yaml'], 'mode: strict\nforward_proxy: {enabled: true}\n')
  // Turning it on would make the config invalid, or cannot be done cleanly: refused, nothing written.
  const out = path.join(dir, 'k.yaml')
  const refusals: Array<[string, string]> = [
    [
      'forward_proxy:\n  max_tunnel_seconds: -5\n',
      `generate kubernetes: the sidecar needs forward_proxy.enabled: true, and with it on ${cfg} is invalid: forward_proxy.max_tunnel_seconds: must be > 0 (0 takes the default 300), got -5 [CONFIG_INVALID]; hint: set forward_proxy.enabled: true in ${cfg} yourself (the agent's HTTPS_PROXY needs it)\n`,
    ],
    [
      'forward_proxy:\n  enabled: &off false\nkill_switch:\n  enabled: *off\n',
      `generate kubernetes: forward_proxy.enabled in ${cfg} cannot be turned on for the sidecar (a YAML anchor, alias or merge key ties forward_proxy to other values) [CONFIG_INVALID]; hint: set forward_proxy.enabled: true in ${cfg} yourself (the agent's HTTPS_PROXY needs it)\n`,
    ],
  ]
  for (const [text, stderr] of refusals) {
    writeFileSync(cfg, text)
    const r = runCli(['generate', 'kubernetes', '--config', cfg, '--output', out])
    assert.equal(r.status, 2, text)
    assert.equal(r.stderr, stderr)
    assert.ok(!existsSync(out), 'nothing written')
  }
})

test('Dockerfile: multi-stage, non-root, HEALTHCHECK via pipelock healthcheck; every COPY source exists', () => {
  const lines = readFileSync(repoPath('Dockerfile'), 'utf8').replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'))
  const from = lines.filter((l) => l.startsWith('FROM '))
  assert.equal(from.length, 2)
  assert.match(from[0]!, /^FROM node:20\S* AS build$/)
  const finalStage = lines.slice(lines.indexOf(from[1]!))
  const user = finalStage.filter((l) => l.startsWith('USER '))
  assert.equal(user.length, 1)
  assert.doesNotMatch(user[0]!, /^USER (root|0)(:|$)/)
  assert.ok(finalStage.some((l) => /^HEALTHCHECK .*CMD \["pipelock", "healthcheck"/.test(l)))
  assert.ok(finalStage.some((l) => l.startsWith('COPY --from=build ')))
  for (const l of lines.filter((x) => x.startsWith('COPY ') && !x.startsWith('COPY --from'))) {
    for (const src of l.split(/\s+/).slice(1, -1)) assert.ok(spawnSync('test', ['-e', repoPath(src)]).status === 0, `COPY source ${src}`)
  }
})

test('LICENSE is the Apache License 2.0 that package.json declares', () => {
  const pkg = JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as {license: string}
  assert.equal(pkg.license, 'Apache-2.0')
  const text = readFileSync(repoPath('LICENSE'), 'utf8')
  assert.match(text, /^\s+Apache License\n\s+Version 2\.0, January 2004\n\s+http:\/\/www\.apache\.org\/licenses\/\n/)
  assert.ok(text.includes('END OF TERMS AND CONDITIONS'))
})
