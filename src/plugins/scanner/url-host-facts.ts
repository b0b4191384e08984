/**
 * What the URL scanner's stages read of a URL's host alone (stages 2, 6, 7, 10–13 and the rate
 * limit's key base, stage 15), kept per scanner and host. A proxy's requests go to a few hosts
 * with many paths: the host's canonical form and IP, its allow/blocklist and entropy-exclusion
 * matches and its address spelling were the same answer on every request to that host, each
 * recomputed (and their strings allocated) per scan. They read nothing but the host string and
 * the scanner's immutable settings (a reload or another profile builds another scanner, with an
 * empty memo), so they are kept in the same bounded memo as url-static-memo.ts's: at most 256
 * hosts per scanner (the oldest goes first); a host string longer than `MAX_KEY_CHARS` (300) is
 * worked out afresh on every scan.
 *
 * Each fact is computed when a stage first asks for it, as the stage computed it before; the
 * stages read them in their own order, so every check and its verdict is unchanged.
 */
import {goHostname} from '../canonical/index.js'
import {matchesAnyDomain} from './domain-match.js'
import {canonicalHostname, canonicalIpSpelling} from './host-canonical.js'
import type {CandidateDecoding} from './decoders.js'
import {hostLabelDecodings} from './host-decodings.js'
import {hostJoint, type Joint} from './joints.js'
import {canonicaliseAltIPv4, parseIp, type IpBytes} from './ip.js'
import type {ScannerSettings} from './settings.js'
import {MAX_KEY_CHARS, OwnerMemos} from './url-static-memo.js'

type Canonical = ReturnType<typeof canonicalHostname>

/** One host's facts under one scanner's settings; each computed at its first read. */
export class HostFacts {
  /** Stage 2: the canonical hostname (or why there is none). */
  readonly canon: Canonical
  /** Stage 2: the canonical host with alternative IPv4 notations made dotted ('' without one). */
  readonly host: string
  /** The host's IP form, null for a name. */
  readonly hostIp: IpBytes | null
  private blocked: string | null | undefined
  private allowed: boolean | undefined
  private excluded: boolean | undefined
  private spelled: string | undefined
  private decodings: readonly CandidateDecoding[] | undefined
  private joined: Joint | null | undefined

  /** `rawHost`: the URL's authority host as parsed (`GoUrl.host`, port included). */
  constructor(private readonly settings: ScannerSettings, rawHost: string) {
    this.canon = canonicalHostname(goHostname(rawHost))
    const host = this.canon.ok ? this.canon.host : ''
    this.host = canonicaliseAltIPv4(host) ?? host
    this.hostIp = parseIp(this.host)
  }

  /** Stage 6 (strict mode): whether the host is on `api_allowlist`. */
  allowlisted(): boolean {
    return (this.allowed ??= matchesAnyDomain(this.host, this.settings.apiAllowlist) !== null)
  }

  /** Stage 7: the blocklist entry the host matches, or null. */
  blocklisted(): string | null {
    if (this.blocked === undefined) this.blocked = matchesAnyDomain(this.host, this.settings.blocklist)
    return this.blocked
  }

  /** Stages 12 and 13: whether the host is excluded from the entropy checks. */
  entropyExcluded(): boolean {
    return (this.excluded ??= matchesAnyDomain(this.host, this.settings.subdomainEntropyExclusions) !== null)
  }

  /** Stages 10 and 11: the hex and base32 decodings of the name's labels (none for an IP). */
  labelDecodings(): readonly CandidateDecoding[] {
    return (this.decodings ??= this.hostIp === null ? hostLabelDecodings(this.host) : [])
  }

  /** Stages 10 and 11: the name without its `-`, `_` and `.` and where they were (joints.ts); null for an IP or a name without `-` and `_`. */
  joint(): Joint | null {
    if (this.joined === undefined) this.joined = this.hostIp === null ? hostJoint(this.host) : null
    return this.joined
  }

  /** Stage 15: the host's address spelling (`canonicalIpSpelling`), the rate limit key's base. */
  spelling(): string {
    return (this.spelled ??= canonicalIpSpelling(this.host))
  }
}

const memos = new OwnerMemos<HostFacts>()

/** The facts of `rawHost` under scanner `sc`'s settings, kept per scanner: kept ones, or new ones (kept when the host is short enough). */
export function hostFacts(sc: {readonly settings: ScannerSettings}, rawHost: string): HostFacts {
  if (rawHost.length > MAX_KEY_CHARS) return new HostFacts(sc.settings, rawHost)
  const m = memos.of(sc)
  let f = m.get(rawHost)
  if (f === undefined) {
    f = new HostFacts(sc.settings, rawHost)
    m.set(rawHost, f)
  }
  return f
}

/** How many hosts' facts `owner` keeps (tests). */
export function hostFactsSize(owner: object): number {
  return memos.size(owner)
}
