// Layer 3: the kill switch (runtime spec §11): sources, gate exemptions and the HTTP API.
export {KillSwitchController, KILL_SWITCH_SOURCES, type KillSwitchInputs, type KillSwitchSource, type KillSwitchStatus, type ActivationListener} from './controller.js'
export {isExempt, ipInAnyCidr, type GateRequest, type GateSettings} from './gate.js'
export {KillSwitchApi, bearerMatches, bearerToken, parseToggleBody, readLimitedBody, type KillSwitchApiOptions} from './api.js'
