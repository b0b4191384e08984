import assert from 'node:assert/strict'
import {networkInterfaces} from 'node:os'
import {test} from 'node:test'
import {hostAddressCidrs} from '../../../src/plugins/proxy/index.js'
import {checkDialAddresses} from '../../../src/plugins/scanner/index.js'
import {runtimeFor} from '../mcp/helpers.js'

// `mcp proxy`'s own scanner (its A2A listener resolves the names it scans) counts this machine's
// interface addresses as internal, as pipelock run's does; ssrf.ip_allowlist opens one.
test("mcp proxy's scanner refuses every address of this machine's interfaces; ssrf.ip_allowlist reopens one", () => {
  const addresses = Object.values(networkInterfaces()).flatMap((l) => l ?? []).map((a) => a.address.split('%')[0]!)
  const own = addresses.find((a) => a !== '127.0.0.1' && a !== '::1')
  assert.ok(own !== undefined, `this machine has only loopback addresses (${addresses.join(', ')}); the test needs another`)
  const runtime = runtimeFor()
  try {
    // The addresses themselves are in the settings the scan pool's workers build their scanner from.
    assert.deepEqual(runtime.deps.scanner.settings.hostAddresses, hostAddressCidrs())
    for (const a of addresses) assert.equal(checkDialAddresses(runtime.deps.scanner.url, 'service.test', [a]).ok, false, `${a} was not refused`)
    assert.deepEqual(checkDialAddresses(runtime.deps.scanner.url, 'service.test', ['198.51.100.9']), {ok: true, ip: '198.51.100.9'})
  } finally {
    runtime.close()
  }
  const open = runtimeFor({ssrf: {ip_allowlist: [`${own}/${own.includes(':') ? 128 : 32}`]}})
  try {
    assert.equal(checkDialAddresses(open.deps.scanner.url, 'service.test', [own]).ok, true, own)
  } finally {
    open.close()
  }
})
