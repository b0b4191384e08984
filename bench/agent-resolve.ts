/**
 * operations.md §10.3: identity resolution with 20 agent profiles, each with two source CIDRs —
 * the per-request cost of §2.2 (CIDR scan over every profile, header lookup, DLP check of an
 * unknown self-declared name from the verdict cache). Reports µs per resolution (target ≤ 50 µs)
 * next to the cost with no profiles, in one run.
 */
import {performance} from 'node:perf_hooks'
import {defaultConfig, type PipelockConfig} from '../src/plugins/config/index.js'
import {AgentNames} from '../src/plugins/proxy/agent-name.js'
import {createScanner, defaultScannerSettings} from '../src/plugins/scanner/index.js'

function config(profiles: number): PipelockConfig {
  const c = defaultConfig()
  const agents: PipelockConfig['agents'] = {}
  for (let i = 0; i < profiles; i++) agents[`agent-${i}`] = {source_cidrs: [`10.${i}.0.0/16`, `fd00:${i}::/32`]}
  return {...c, agents}
}

function measure(names: AgentNames, iterations: number): number {
  const reqs = [
    {clientIp: '192.168.1.9', header: 'agent-7'}, // header naming a profile, after a full CIDR miss
    {clientIp: '10.19.4.4'}, // last profile's CIDR
    {clientIp: '192.168.1.9', header: 'stranger'}, // self-declared, DLP verdict cached
    {clientIp: '192.168.1.9'},
  ]
  for (let i = 0; i < 10_000; i++) names.resolve(reqs[i % reqs.length]!)
  const t0 = performance.now()
  for (let i = 0; i < iterations; i++) names.resolve(reqs[i % reqs.length]!)
  return ((performance.now() - t0) * 1000) / iterations
}

export async function runAgentResolveBench(args: string[]): Promise<Record<string, unknown>[]> {
  const iterations = Number(args[0] ?? 200_000)
  const scanner = createScanner(defaultScannerSettings())
  const none = measure(new AgentNames(scanner, config(0)), iterations)
  const twenty = measure(new AgentNames(scanner, config(20)), iterations)
  return [
    {profiles: 0, us_per_resolution: none, ratio_vs_none: 1},
    {profiles: 20, us_per_resolution: twenty, ratio_vs_none: twenty / none, target_us: 50},
  ]
}
