import {Flags} from '@oclif/core'

/** The capture flags `pipelock run` and `pipelock learn observe` share. */
export const captureDurationFlag = Flags.string({description: 'stop capturing after this Go duration (e.g. 30m, 2h)'})
export const captureRawFlag = Flags.boolean({description: 'capture samples and query strings as sent, SECRETS INCLUDED (default: redacted)'})

// The flags → options step has no oclif in it (the `run` path without oclif uses it too).
export {captureRunOptions, type CaptureRunOptions} from './capture-options.js'
