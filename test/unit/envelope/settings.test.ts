// mediation_envelope validation (envelope spec §9.2): first error wins, in the spec's order; the
// effective defaults of §9.1. The same function backs `pipelock check` and `pipelock run`.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {envelopeReloadWarnings, envelopeSettings} from '../../../src/plugins/config/index.js'
import type {PipelockConfig} from '../../../src/plugins/config/index.js'

type M = PipelockConfig['mediation_envelope']
const base = (): M => ({
  enabled: false, sign: false, signing_key_path: '', key_id: '', signed_components: [], created_skew_seconds: 0, max_body_bytes: 0,
  signature_expires: '', actor_format: '', trust_domain: '', verify_inbound: {enabled: false, trust_list: [], replay_cache: {window: '', max_entries: 0}},
})
const error = (m: M): string => {
  try {
    envelopeSettings(m, (path, message) => {
      throw new Error(`${path.join('.')}: ${message}`)
    })
  } catch (e) {
    return (e as Error).message
  }
  return 'ok'
}
const peer = {key_id: 'peer', public_key: 'ab'.repeat(32)}

test('effective defaults (spec §9.1)', () => {
  const s = envelopeSettings(base(), () => {
    throw new Error('unexpected')
  })
  assert.deepEqual({keyId: s.keyId, components: s.components, skew: s.skewSeconds, max: s.maxBodyBytes, life: s.lifetimeSeconds, fmt: s.actorFormat, td: s.trustDomain, entries: s.verify.maxEntries},
    {keyId: 'pipelock-mediation-v1', components: ['@method', '@target-uri', 'content-digest', 'pipelock-mediation'], skew: 60, max: 1048576, life: 300, fmt: 'spiffe', td: 'pipelock.local', entries: 10000})
})

test('validation errors (spec §9.2), first one wins', () => {
  assert.equal(error({...base(), sign: true}), 'mediation_envelope.sign: requires mediation_envelope.enabled')
  assert.equal(error({...base(), actor_format: 'x509'}), 'mediation_envelope.actor_format: must be "legacy" or "spiffe"')
  assert.equal(error({...base(), trust_domain: 't:8443'}), 'mediation_envelope.trust_domain: "t:8443" must be a DNS-shaped label with no scheme, slashes, userinfo, or port')
  assert.equal(error({...base(), signed_components: ['@method', '@METHOD']}), 'mediation_envelope.signed_components.1: "@method" duplicates an earlier entry')
  assert.equal(error({...base(), signed_components: ['@path']}), 'mediation_envelope.signed_components.0: "@path" is not supported')
  assert.equal(error({...base(), key_id: 'clé'}), 'mediation_envelope.key_id: must be printable ASCII')
  assert.equal(error({...base(), enabled: true, sign: true}), 'mediation_envelope.signing_key_path: required when mediation_envelope.sign is true')
  const v = (o: Partial<M['verify_inbound']>): M => ({...base(), verify_inbound: {...base().verify_inbound, enabled: true, ...o}})
  assert.equal(error(v({})), 'mediation_envelope.verify_inbound.trust_list: must contain at least one trusted key')
  assert.equal(error(v({trust_list: [peer, peer]})), 'mediation_envelope.verify_inbound.trust_list.1.key_id: "peer" duplicates trust_list[0]')
  assert.equal(error(v({trust_list: [{...peer, trust_domains: ['']}]})), 'mediation_envelope.verify_inbound.trust_list.0.trust_domains.0: must not be empty')
  assert.equal(error(v({trust_list: [{...peer, well_known_url: 'http://p.example/x'}]})), 'mediation_envelope.verify_inbound.trust_list.0.well_known_url: must be an https URL')
  assert.equal(error(v({trust_list: [peer], replay_cache: {window: 'soon', max_entries: 0}})), 'mediation_envelope.verify_inbound.replay_cache.window: invalid duration "soon"')
  assert.equal(error(v({trust_list: [peer]})), 'ok')
})

test('reload warnings (spec §9.3; E19 fixed: verify off warns)', () => {
  const signing: M = {...base(), enabled: true, sign: true, signing_key_path: 'k', verify_inbound: {...base().verify_inbound, enabled: true}}
  assert.deepEqual(envelopeReloadWarnings(signing, {...signing, key_id: 'k2', signed_components: ['@method', '@target-uri'], max_body_bytes: 10, verify_inbound: base().verify_inbound}), [
    'mediation_envelope.verify_inbound.enabled: true -> false (inbound envelopes are no longer verified)',
    'mediation_envelope.key_id: pipelock-mediation-v1 -> k2 (peers must trust the new key id)',
    'mediation_envelope.signed_components: removed content-digest, pipelock-mediation',
    'mediation_envelope.max_body_bytes: 1048576 -> 10 (larger bodies are signed without a digest)',
  ])
  assert.deepEqual(envelopeReloadWarnings(signing, {...signing, enabled: false, sign: false}), ['mediation_envelope.enabled: true -> false (forwarded requests no longer carry an envelope)'])
})
