import {test} from 'node:test'
import assert from 'node:assert/strict'
import {EventLoopLag} from '../../../src/plugins/proxy/event-loop.js'

function value(out: string[], name: string): number {
  const line = out.find((l) => l.startsWith(name + ' '))
  assert.ok(line !== undefined, name)
  return Number(line.split(' ')[1])
}

test('event-loop lag: a blocked loop shows in the max (at least the time it was blocked); a scrape resets it', async () => {
  const lag = new EventLoopLag()
  try {
    await new Promise((r) => setTimeout(r, 30))
    const t = Date.now()
    while (Date.now() - t < 60); // block the loop for 60 ms
    await new Promise((r) => setTimeout(r, 30))
    const first: string[] = []
    lag.render(first)
    assert.ok(value(first, 'nodejs_eventloop_lag_max_seconds') >= 0.04, first.join('\n'))
    assert.ok(first.includes('# TYPE nodejs_eventloop_lag_p99_seconds gauge'))
    const second: string[] = []
    lag.render(second)
    assert.equal(value(second, 'nodejs_eventloop_lag_max_seconds'), 0)
  } finally {
    lag.stop()
  }
})
