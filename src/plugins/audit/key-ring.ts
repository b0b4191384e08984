import {parseGoTime, toEpochNanos} from '../canonical/index.js'
import {PipelockError, shellWord} from '../errors/index.js'
import {handOverPaths, resolvePinnedKey, type EvidenceKeyChoice, type ParsedEvidenceReceipt, type RotationEndorsement} from '../receipts/index.js'
import {authorizeSignerForPayload, fingerprint, loadRoster, resolveKey, type LoadedRoster} from '../signing/index.js'

// The keys an auditor pins (docs/receipts.md "Keys"): one plain key (`--key HEX|FILE`, the v1
// signer and, when alone, every v2 signer), named keys (`--key ID=HEX|FILE`, a v2 receipt's
// `signer_key_id` picks one), or a roster pinned by its root fingerprint, which also says what
// each key may sign (the authority matrix is checked against the roster's purpose, at the
// receipt's own timestamp).

export interface KeyRingRequest {
  /** `--key` values: `HEX`, a key file, or `ID=HEX` / `ID=FILE`. */
  keys?: readonly string[]
  roster?: string
  rosterRootFingerprint?: string
}

const NAMED = /^([^=/\\]+)=(.+)$/

export class KeyRing {
  private constructor(
    /** The one plain key, lowercase hex. */
    readonly plain: string | undefined,
    readonly named: ReadonlyMap<string, string>,
    readonly roster: LoadedRoster | undefined,
    /** How errors name each key read from a file (by hex): its fingerprint and path, never the file's contents. */
    private readonly names: ReadonlyMap<string, string>,
    /** Keys handed over to by rotation endorsements from a pinned key, by their `sha256:` fingerprint. */
    private readonly successors: ReadonlyMap<string, string> = new Map(),
    /** For each successor fingerprint, the pinned key (hex) whose endorsements lead to it. */
    private readonly successorRoots: ReadonlyMap<string, string> = new Map(),
    /**
     * The hex of every pinned key that some receipt was checked against (shared by the ring and
     * its endorsed copy: one verification). A named key left out of it pinned nothing.
     */
    private readonly usedKeys: Set<string> = new Set(),
  ) {}

  /**
   * The ids of the named keys (`--key ID=KEY`) that no receipt was checked against: neither a v2
   * receipt of signer_key_id ID nor the v1 chain was pinned to them (nor to a key they endorsed).
   * Beside a roster such a key is silently replaced by the roster's: usually a mistyped id.
   */
  unusedNamed(): string[] {
    return [...this.named].filter(([, hex]) => !this.usedKeys.has(hex)).map(([id]) => id)
  }

  /** How an error names the pinned key `hex`: undefined for a key given inline (its hex is shown). */
  nameOf(hex: string): string | undefined {
    return this.names.get(hex)
  }

  /**
   * The ring plus the keys that rotation endorsements hand a pinned key's recorder over to
   * (receipts.md §10), transitively. The recorder signs its v2 receipts with the receipt key in
   * force, under that key's fingerprint when no roster names it: after an endorsed rotation
   * those are the new key's. Endorsements are verified (signed by their prior key) before they
   * get here; the v1 chain check refuses a named one that matches no boundary of the chain, but
   * not one found in the recorder directory (a rotation endorsed and not yet in force): its new
   * key is still trusted here, on the authority of the pinned key that signed it.
   */
  withEndorsedSuccessors(endorsements: readonly RotationEndorsement[]): KeyRing {
    if (endorsements.length === 0 || this.roster !== undefined) return this
    const pinned = [...(this.plain === undefined ? [] : [this.plain]), ...this.named.values()]
    const successors = new Map(this.successors)
    const roots = new Map(this.successorRoots)
    for (const root of pinned) {
      for (const [key, path] of handOverPaths([root], endorsements)) {
        if (path.length === 0) continue
        const fp = fingerprint(Buffer.from(key, 'hex'))
        successors.set(fp, key)
        if (!roots.has(fp)) roots.set(fp, root)
      }
    }
    return new KeyRing(this.plain, this.named, this.roster, this.names, successors, roots, this.usedKeys)
  }

  static load(req: KeyRingRequest): KeyRing {
    let plain: string | undefined
    const named = new Map<string, string>()
    const names = new Map<string, string>()
    const resolve = (k: string): string => {
      const v = resolvePinnedKey(k)
      if (v.name !== undefined) names.set(v.hex, v.name)
      return v.hex
    }
    for (const k of req.keys ?? []) {
      const m = NAMED.exec(k)
      if (m !== null) {
        const id = (m[1] as string).trim()
        if (named.has(id)) throw new PipelockError('USAGE', `--key ${id}=…: key id given twice`)
        named.set(id, resolve(m[2] as string))
        continue
      }
      if (plain !== undefined) throw new PipelockError('USAGE', '--key: only one unnamed key; name the others as ID=HEX')
      plain = resolve(k)
    }
    if ((req.roster === undefined) !== (req.rosterRootFingerprint === undefined)) {
      throw new PipelockError('USAGE', '--roster and --roster-root-fingerprint go together: a roster is trusted only through its pinned root')
    }
    // The roster decides every v2 signer and pins the v1 chain by its first signer, so an unnamed
    // key beside it would be silently unused for the v2 receipts: refuse rather than look pinned.
    // A key the roster does not hold is still given by name (ID=KEY), which says which signer it is.
    if (plain !== undefined && req.roster !== undefined) {
      throw new PipelockError('USAGE', '--key KEY cannot be combined with --roster: the roster decides every v2 signer, so the key would go unchecked; pass one of them, or name the key as --key ID=KEY')
    }
    const roster = req.roster === undefined ? undefined : loadRoster(req.roster, req.rosterRootFingerprint as string, {keyFlag: '--key'})
    return new KeyRing(plain, named, roster, names)
  }

  /** True when any key or roster was given: signatures are then checked against pinned keys. */
  get pinned(): boolean {
    return this.plain !== undefined || this.named.size > 0 || this.roster !== undefined
  }

  /**
   * The key to pin a v1 chain to: the plain key, else the named or roster key whose public key
   * equals the chain's first signer (so a roster pins v1 receipts too), else none.
   */
  v1Pin(firstSignerKey: string | undefined): {key?: string; error?: string} {
    if (this.plain !== undefined) return {key: this.plain}
    if (firstSignerKey === undefined || (this.named.size === 0 && this.roster === undefined)) return {}
    const want = firstSignerKey.toLowerCase()
    for (const hex of this.named.values()) {
      if (hex !== want) continue
      this.usedKeys.add(hex)
      return {key: hex}
    }
    const entry = this.roster?.body.keys.find((k) => k.publicKeyHex.toLowerCase() === want)
    if (entry !== undefined) {
      if (entry.keyPurpose !== 'receipt-signing') return {error: `v1 signer ${want} is roster key ${JSON.stringify(entry.keyId)} with purpose ${entry.keyPurpose}, not receipt-signing`}
      if (entry.status !== 'active') return {error: `v1 signer ${want} is roster key ${JSON.stringify(entry.keyId)} with status ${entry.status}`}
      return {key: want}
    }
    return {error: `v1 signer ${want} is not among the pinned keys`}
  }

  /**
   * For a v1 receipt whose signer the roster names (and no plain or named key pins it): why the
   * roster does not let that key sign at the receipt's own timestamp (revoked, not yet valid,
   * expired), or undefined. A signer the roster does not name is v1Pin's and the chain's matter.
   */
  v1RosterError(signerKey: string, timestamp: string): string | undefined {
    if (this.plain !== undefined || this.roster === undefined) return undefined
    const want = signerKey.toLowerCase()
    for (const hex of this.named.values()) if (hex === want) return undefined
    const entry = this.roster.body.keys.find((k) => k.publicKeyHex.toLowerCase() === want)
    if (entry === undefined) return undefined
    try {
      resolveKey(this.roster, entry.keyId, toEpochNanos(parseGoTime(timestamp)))
    } catch (e) {
      if (e instanceof PipelockError) return `v1 signer ${want} is roster key ${JSON.stringify(entry.keyId)}, which the roster does not let sign at the receipt's timestamp ${timestamp}: ${e.message}`
      throw e
    }
    return undefined
  }

  /** The key for one v2 receipt. Undefined when nothing at all is pinned (the caller decides). */
  forEvidence(r: ParsedEvidenceReceipt): EvidenceKeyChoice | undefined {
    const id = r.signature.signerKeyId
    const named = this.named.get(id)
    const hex = named ?? this.successors.get(id)
    if (hex !== undefined) {
      this.usedKeys.add(named ?? this.successorRoots.get(id) ?? hex)
      return {publicKey: hex, signerKeyId: id}
    }
    if (this.roster !== undefined) {
      try {
        const k = authorizeSignerForPayload(this.roster, r.payloadKind, id, toEpochNanos(parseGoTime(r.timestamp)))
        return {publicKey: k.publicKeyHex, signerKeyId: id}
      } catch (e) {
        if (e instanceof PipelockError) return {error: `roster: ${e.message}`}
        throw e
      }
    }
    if (this.plain !== undefined && this.named.size === 0) return {publicKey: this.plain}
    if (this.named.size > 0 || this.plain !== undefined) {
      // The id comes from the receipt file, which anyone may have written: quoted, so the line
      // the hint tells the auditor to type cannot run something the id smuggled in.
      return {error: `no key for signer_key_id ${JSON.stringify(id)}: pass --key ${shellWord(`${id}=HEX`)} or a roster`}
    }
    return undefined
  }
}
