import {test} from 'node:test'
import assert from 'node:assert/strict'
import {EventLoopLag} from '../../../src/plugins/proxy/event-loop.js'

function value(out: string[], name: string): number {
  const line = out.find((l) => l.startsWith(name + ' '))
  assert.ok(line !== undefined, name)
  return Number(line.split(' ')[1])
}

const block = (ms: number): void => {
  const t = Date.now()
  while (Date.now() - t < ms); // block the loop
}

/** Lets the sampler tick, blocks the loop for 60 ms, lets it tick again, then scrapes. */
async function scrapeAfterBlock(lag: EventLoopLag): Promise<string[]> {
  await new Promise((r) => setTimeout(r, 30))
  block(60)
  await new Promise((r) => setTimeout(r, 30))
  const out: string[] = []
  lag.render(out)
  return out
}

test('event-loop lag: a blocked loop shows in the max (at least the time it was blocked); a scrape resets it', async () => {
  const lag = new EventLoopLag()
  try {
    lag.render([]) // the first scrape arms the sampler
    const first = await scrapeAfterBlock(lag)
    assert.ok(value(first, 'nodejs_eventloop_lag_max_seconds') >= 0.04, first.join('\n'))
    assert.ok(first.includes('# TYPE nodejs_eventloop_lag_p99_seconds gauge'))
    const second: string[] = []
    lag.render(second)
    assert.equal(value(second, 'nodejs_eventloop_lag_max_seconds'), 0)
  } finally {
    lag.stop()
  }
})

test('event-loop lag: no sampler (no 10 ms timer waking an idle proxy) until the first scrape, which reports 0 and arms it', async () => {
  const lag = new EventLoopLag()
  try {
    assert.equal(lag.armed, false)
    block(30) // before the first scrape: not measured
    await new Promise((r) => setTimeout(r, 20))
    const first: string[] = []
    lag.render(first)
    assert.equal(lag.armed, true)
    for (const n of ['max', 'p50', 'p99']) assert.equal(value(first, `nodejs_eventloop_lag_${n}_seconds`), 0)
    assert.ok(first.includes('# HELP nodejs_eventloop_lag_max_seconds Maximum event-loop delay since the previous scrape.'))
    const second = await scrapeAfterBlock(lag)
    assert.ok(value(second, 'nodejs_eventloop_lag_max_seconds') >= 0.04, second.join('\n'))
  } finally {
    lag.stop()
  }
  assert.equal(lag.armed, false)
  const after: string[] = []
  lag.render(after) // a scrape after stop does not start it again
  assert.equal(lag.armed, false)
})
