// TLS interception material (transports.md §2): DER, the CA, leaves and their cache, the
// upstream trust list, the upstream leg's server-identity check, and the install-ca text. Pure
// apart from file reads/writes; opens no sockets.
export {caPaths, checkCaFiles, generateCa, loadCa, loadConfiguredCa, osErrorText, writeCaFiles, CA_DIR_MODE, CA_FILE_MODE, type CaPaths, type GeneratedCa, type LoadedCa} from './ca.js'
export {firstPemBlock, toPem} from './certificate.js'
export {ipBytes, mintLeaf, mintLeafAsync, type Leaf} from './leaf.js'
export {LeafCache, type LeafCacheOptions} from './leaf-cache.js'
export {buildTrustStore} from './trust-store.js'
export {initCa, readCaCert, requireCaCert, type TlsInitResult} from './service.js'
export {goos, installCommands, installInstructions, pastablePath, runtimeHints, shellWord} from './install-ca.js'
export {withLeafOnlyIdentityCheck} from './server-identity.js'
