import assert from 'node:assert/strict'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {test} from 'node:test'
import {configHash, defaultConfig, parseConfigText} from '../../../src/plugins/config/index.js'
import {PipelockError} from '../../../src/plugins/errors/index.js'

function invalid(yaml: string): string {
  try {
    parseConfigText(yaml, 'p.yaml')
  } catch (err) {
    assert.ok(err instanceof PipelockError, String(err))
    return err.message
  }
  assert.fail('config was accepted')
}

test('emit validation: each sink checked only when configured, messages name the field', () => {
  assert.equal(invalid('emit:\n  webhook: {url: "ftp://h/x?token=s3cret"}\n'), 'invalid config: emit.webhook.url: must be http:// or https:// with a host (value not shown: it may hold a token)')
  assert.ok(!invalid('emit:\n  webhook: {url: "ftp://h/x?token=s3cret"}\n').includes('s3cret'))
  assert.equal(invalid('emit:\n  webhook: {url: "http://h/", min_severity: WARN}\n'), 'invalid config: emit.webhook.min_severity: "WARN": must be info, warn, or critical')
  assert.equal(invalid('emit:\n  syslog: {address: "tcp://h"}\n'), 'invalid config: emit.syslog.address: "tcp://h": must include port (e.g. udp://host:514): address h: missing port in address')
  assert.equal(invalid('emit:\n  syslog: {address: "http://h:514"}\n'), 'invalid config: emit.syslog.address: "http://h:514": must be udp://, tcp:// or tls:// with host:port')
  assert.equal(invalid('emit:\n  syslog: {address: "udp://h:514", facility: local9}\n').startsWith('invalid config: emit.syslog.facility: "local9": must be one of kern, user'), true)
  assert.equal(invalid('emit:\n  syslog: {address: "udp://h:514", format: json}\n'), 'invalid config: emit.syslog.format: "json": must be bsd or rfc5424')
  assert.equal(invalid('emit:\n  syslog: {address: "tcp://h:514", tls: {ca_file: /x}}\n'), 'invalid config: emit.syslog.tls: is set but the address is not tls://')
  assert.equal(invalid('emit:\n  otlp: {endpoint: "c:4318"}\n'), 'invalid config: emit.otlp.endpoint: must be http:// or https:// with a host (value not shown: it may hold credentials)')
  // not configured: not checked
  parseConfigText('emit:\n  webhook: {min_severity: bogus}\n  syslog: {facility: bogus}\n', 'p.yaml')
  const ok = parseConfigText('emit:\n  syslog: {address: "udp://127.0.0.1:514", facility: LOCAL3}\n  webhook: {url: "https://h.example/x", timeout_seconds: 0, queue_size: -1}\n', 'p.yaml').config
  assert.equal(ok.emit.webhook.timeout_seconds, 5) // ≤ 0 takes the default (§3.2)
  assert.equal(ok.emit.webhook.queue_size, 64)
  assert.equal(ok.emit.syslog.queue_size, 256)
  assert.equal(ok.emit.syslog.format, 'bsd')
})

test('emit.syslog.tls files are read with the config: one that cannot be read names its field and path', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pl-emit-tls-'))
  const ca = path.join(dir, 'ca.pem')
  writeFileSync(ca, '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n')
  const at = (tls: string): string => `emit:\n  syslog: {address: "tls://127.0.0.1:6514", tls: {${tls}}}\n`
  assert.equal(parseConfigText(at(`ca_file: ${ca}`), 'p.yaml').config.emit.syslog.tls.ca_file, ca)
  assert.equal(invalid(at(`ca_file: ${path.join(dir, 'nope.pem')}`)), `invalid config: emit.syslog.tls.ca_file: "${path.join(dir, 'nope.pem')}" cannot be read: no such file or directory`)
  assert.equal(invalid(at(`ca_file: ${dir}`)), `invalid config: emit.syslog.tls.ca_file: "${dir}" is not a regular file`)
  assert.equal(invalid(at(`cert_file: ${ca}, key_file: ${path.join(dir, 'k.pem')}`)), `invalid config: emit.syslog.tls.key_file: "${path.join(dir, 'k.pem')}" cannot be read: no such file or directory`)
})

test('policy hash: the emission options beyond the reference do not change it', () => {
  const base = defaultConfig()
  const changed = structuredClone(base)
  changed.emit.otlp.agent_threat_detection_emit = true
  changed.emit.syslog.format = 'rfc5424'
  changed.emit.syslog.queue_size = 7
  changed.emit.syslog.tls.ca_file = '/ca.pem'
  assert.equal(configHash(changed), configHash(base))
  changed.emit.syslog.tag = 'other'
  assert.notEqual(configHash(changed), configHash(base))
})
