/**
 * Pipelock scanning core: URL pipeline (§5), text/body/header DLP (§6), response injection
 * scanning (§7), normalisation (§8) and the pattern catalogue (§9). Pure engine: DNS, clock
 * and rate-limit state are injected by the caller.
 */
export * from './catalogue.js'
export type {DlpPatternSpec, ResponsePatternSpec, Severity, ValidatorName} from './pattern-types.js'
export {defaultScannerSettings, DEFAULT_INTERNAL_CIDRS, DEFAULT_API_ALLOWLIST, DEFAULT_BLOCKLIST, DEFAULT_SENSITIVE_HEADERS, DEFAULT_IGNORE_HEADERS} from './settings.js'
export type {ScannerSettings, ResponseAction, CanaryToken} from './settings.js'
export {compileAsWritten, compileDlp, forcedCaseInsensitiveSource, findAll, optionalWhitespaceSource, foldVowelsSource} from './regex.js'
export type {Re2, RegexHit} from './regex.js'
export {
  createNormalizer, stripControlChars, stripZeroWidth, replaceInvisibleWithSpace, stripExoticWhitespace,
  mapExoticWhitespace, leetspeak, foldVowels, isInvisible, isExoticWhitespace,
} from './normalize.js'
export type {Normalizer} from './normalize.js'
export {
  decodeHexStrict, decodeHexNormalised, decodeHexAny, decodeBase64Variants, decodeBase32Std, candidateDecodings,
  iterativeDecode, stripNoise, PRINTABLE_RUN_MIN,
} from './decoders.js'
export {validateLuhn, validateMod97, validateAba, validateWif, validateOneCase, runValidator, base58CheckDecode, IBAN_LENGTHS} from './validators.js'
export {compileConfiguredDlp, compileCoreDlp, isBuiltinDlpPattern, mergeDlpPatterns, matchDlpPattern} from './dlp-patterns.js'
export type {CompiledDlpPattern} from './dlp-patterns.js'
export {matchDomain, matchesAnyDomain, normaliseHost} from './domain-match.js'
export {shannonEntropy, utf8Length} from './entropy.js'
export {collectEnvSecrets, parseSecretsFile, loadSecretsFile, secretVariants} from './secrets.js'
export {createSeedPhraseDetector, bip39ChecksumValid} from './seed-phrase.js'
export type {SeedPhraseDetector} from './seed-phrase.js'
export {createDlpEngine} from './dlp-engine.js'
export type {DlpEngine, DlpFinding} from './dlp-engine.js'
export {scanTextForDlp, neutraliseAwsDocExample, isSegmentDelimiter} from './text-dlp.js'
export type {TextDlpResult} from './text-dlp.js'
export {joinedTextsToScan, junctionPairsToScan} from './joined-text-screen.js'
export type {JoinedText, JunctionPair} from './joined-text-screen.js'
export {junctionPairs, junctionWindow, JUNCTION_WINDOW, splitSecretFindings} from './split-secret.js'
export * from './window-screen-kit.js'
export {
  parseIp, parseIPv4, parseIPv6, unmap, formatIp, canonicaliseAltIPv4, inetAtonShortForm, parseCidr, cidrContains,
  CORE_SSRF_CIDRS, METADATA_IPS, isMetadataIp,
} from './ip.js'
export {canonicalHostname, canonicalIpSpelling} from './host-canonical.js'
export {hostLabelDecodings} from './host-decodings.js'
export {guardedHostJoint} from './joints.js'
export type {CanonicalHost} from './host-canonical.js'
export {EXTRA_CORE_CIDRS, embeddedIPv4, ssrfForms, ssrfHit} from './special-ranges.js'
export {RateLimiter, DataBudget, approximateRegistrableDomain} from './rate-limit.js'
export {REASON_CODES, reasonForLabel, isReasonCode, validLayer} from './reasons.js'
export type {ReasonCode, ReasonSeverity, ReasonRetry, ScannerLabel} from './reasons.js'
export {scanUrl, scanUrlEager, createUrlScanner, crlfReason, traversalReason, checkDialAddresses, overrideKey} from './url-scanner.js'
export type {UrlDlpResult, UrlScanResult, UrlScanContext, UrlScanner, Resolver, ResultClass, StageTiming, DialCheck} from './url-scanner.js'
export {
  createResponseScanner, scanResponse, redactResponse, redactResponseNamed, redactBodyNamed, strippedBody, strippedNames, decideResponse, decideResponseBody, mergeResponsePatterns, unsuppressed,
} from './response-scanner.js'
export {suppressedBy, type SuppressEntry} from './suppress.js'
export {decideResponseHeaders, type ResponseHeaderDecision, type ResponseHeaders} from './response-headers.js'
export type {
  ResponseScanner, ResponseMatch, ResponseScanResult, ResponseDecision, ResponseDecisionOptions, ResponsePass, Suppressor,
  CompiledResponsePattern,
} from './response-scanner.js'
export {createSseStreamScanner, parseSseEvent, sseEventData, sseEventPieces, sseMaxEventBytes, METADATA_ALLOWANCE} from './sse.js'
export {StreamTail, STREAM_TAIL_CHARS} from './stream-tail.js'
export {EventFieldTails, STREAM_TAIL_FIELDS} from './event-field-tails.js'
export {extractHtmlText, PageTextReader, type ExtractedPage} from './html-text.js'
export type {SseStreamScanner, SseOutcome, SseEventFields} from './sse.js'
export {extractJsonParts, extractJsonTexts, jsonMessageParts, JsonTextError, MAX_JSON_DEPTH, type JsonParts} from './json-texts.js'
export {
  scanRequestBody, scanRequestHeaders, extractBodyTexts, isCompressedEncoding, hasTransferCoding, transferCoded, TRANSFER_CODED_DETAIL, BodyParseError, MULTIPART_LIMITS, utf8HeaderValue, requestBodyScanBytes, jsonValuePairBytes,
} from './body-scanner.js'
export type {BodyScanInput, ContentScanResult, HeaderList, BodyScanDeps} from './body-scanner.js'
export {binaryText, textRuns, textAndPrintableRuns, MIN_TEXT_RUN} from './text-runs.js'
export {createScanner} from './scanner.js'
export type {Scanner} from './scanner.js'
export {CONFUSABLE_GROUPS, CONFUSABLE_GROUPS_COUNT} from './confusables.js'
export {AddressChecker, type AddressCheck, type AddressFinding, type AddressProtectionSettings, type AddressVerdict} from './address-checker.js'
export {bech32Decode, detectAddresses, eip55Valid, parseAllowedAddress, toEip55, validateAddress, type AddressHit, type Chain} from './address-formats.js'
