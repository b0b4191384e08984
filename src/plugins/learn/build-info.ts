import {readFileSync} from 'node:fs'
import path from 'node:path'
import type {JsonObject} from '../canonical/index.js'
import {buildInfoUnavailableDigests, moduleDigestRoot} from '../contracts/index.js'
import {sha256Hex} from '../signing/index.js'
import type {BuildProvenance} from './fixture.js'

/** This build's identity, as the contract `compile` block and manifest record it (§9, §12). */
export interface BuildInfo {
  version: string
  buildSha: string
  runtime: string
  moduleDigests: JsonObject
  moduleDigestRoot: string
}

function readJson(file: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>
  } catch {
    return undefined
  }
}

/**
 * Describes the installed package: `module_digests` maps the package and each runtime
 * dependency to sha256(installed version), the TS analogue of Go build info (§12.1). Without a
 * readable package.json the build-info-unavailable marker is used.
 */
export function describeBuild(packageRoot: string, runtimeVersion: string, buildSha = 'unknown'): BuildInfo {
  const pkg = readJson(path.join(packageRoot, 'package.json'))
  let digests: JsonObject
  let version = 'unknown'
  if (pkg === undefined || typeof pkg.name !== 'string' || typeof pkg.version !== 'string') {
    digests = buildInfoUnavailableDigests()
  } else {
    version = pkg.version
    digests = new Map([[pkg.name, 'sha256:' + sha256Hex(pkg.version)]])
    const deps = (pkg.dependencies ?? {}) as Record<string, string>
    for (const name of Object.keys(deps).sort()) {
      const installed = readJson(path.join(packageRoot, 'node_modules', name, 'package.json'))
      const v = typeof installed?.version === 'string' ? installed.version : deps[name]
      digests.set(name, 'sha256:' + sha256Hex(String(v)))
    }
  }
  return {version, buildSha, runtime: `node-${runtimeVersion}`, moduleDigests: digests, moduleDigestRoot: moduleDigestRoot(digests)}
}

export function provenanceOf(build: BuildInfo, compileConfigHash: string): BuildProvenance {
  return {
    pipelockVersion: build.version,
    pipelockBuildSha: build.buildSha,
    goVersion: build.runtime,
    moduleDigestRoot: build.moduleDigestRoot,
    compileConfigHash,
  }
}
