// Layer 0: Go-compatible JSON, "JCS, Go flavour", Go time formatting. Pure functions only.
export {JsonNumber, RawJson, INTEGER_LEXEME, fromPlain, toPlain, isJsonObject, jsonTypeName} from './json-value.js'
export type {JsonObject, JsonValue} from './json-value.js'
export {parseStrictJson, parseJson, JsonSyntaxError} from './strict-json.js'
export type {StrictJsonOptions, StrictJsonResult} from './strict-json.js'
export {goQuote, compareUtf8} from './go-string.js'
export {copyString} from './string-copy.js'
export {goJson, goJsonIndent, compactRawJson} from './go-json.js'
export {canonicalize, canonicalBytes, canonicalizeTo, canonicalString, CanonicalizationError, CanonicalText, type ArrayExpander, type PushedItems, type TextSink} from './jcs.js'
export {defineStruct, projectStruct, ShapeError, pythonList, ZERO_TIME} from './struct.js'
export type {FieldKind, FieldSpec, StructSchema, ProjectOptions} from './struct.js'
export {CanonicalReader} from './canonical-reader.js'
export {
  parseGoTime,
  isGoTime,
  formatGoTime,
  canonicalTimeString,
  isCanonicalTime,
  utcTimeString,
  formatSecondsZ,
  formatUtcSeconds,
  formatOffsetSeconds,
  toEpochNanos,
  fromEpochNanos,
  toUtc,
  systemClock,
  fixedClock,
  TimeFormatError,
} from './go-time.js'
export type {GoTime, Clock} from './go-time.js'
export {UtcNanoFormatter} from './utc-nano-formatter.js'
export {decodeGoHex, HexError, LOWER_HEX_64} from './go-hex.js'
export {parseStrictYaml, parseStrictYamlStreamed, parseStrictYamlStreamedFd, StrictYamlError} from './strict-yaml.js'
export {depthBounded} from './yaml-depth.js'
export type {StreamedSequence} from './strict-yaml-fast.js'
export {assertYamlEmittable, emitSignedYaml, emitSignedYamlTo, emitSequenceItem, yamlString, YamlEmitError, type YamlArrayExpander} from './yaml-emit.js'
export {strconvQuote} from './go-strconv.js'
export {ulidToUuid, uuidToUlid, uuidv7} from './uuidv7.js'
export {formatFixed, fromByteString, goFoldKey, goToLower, goToLowerBytes, goToUpper, goTrimSpace} from './go-text.js'
export {
  goEscapedPath,
  goHostname,
  goPort,
  goUnescape,
  hexDigitValue,
  goUrlString,
  GoUrlError,
  parseGoUrl,
  parseGoUrlBytes,
  parseHttpUrl,
  pathUnescape,
  splitQuery,
  toByteString,
} from './go-url.js'
export type {GoUrl, ParsedHttpUrl, QueryPair} from './go-url.js'
export {canonicalizePath, MAX_PATH_BYTES, PathCanonicalError, plainUrlHostPath} from './url-path.js'
export {parseGoDuration} from './go-duration.js'
export {parseContentType} from './media-type.js'
export {isHttpToken} from './http-token.js'
export {goPathMatch} from './go-path-match.js'
export {lazyYaml} from './lazy-yaml.js'
