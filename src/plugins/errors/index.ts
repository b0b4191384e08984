export {ERROR_REGISTRY, type ErrorCode} from './registry.js'
export {PipelockError, formatError, isPipelockError, type ErrorLocation, type PipelockErrorOptions} from './pipelock-error.js'
export {renderErrorDocs} from './render-docs.js'
export {printable} from './printable.js'
