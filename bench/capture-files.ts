import {readdirSync, statSync} from 'node:fs'
import path from 'node:path'
import {compareCaptureFiles} from '../src/plugins/capture/index.js'

/** Every capture `.jsonl` under a capture root (drop sentinels excluded), in chain order. */
export function captureFiles(dir: string): string[] {
  const out: string[] = []
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name)
    if (statSync(p).isDirectory()) out.push(...captureFiles(p))
    else if (name.endsWith('.jsonl') && !p.includes(`${path.sep}capture-meta${path.sep}`)) out.push(p)
  }
  return out.sort(compareCaptureFiles)
}
