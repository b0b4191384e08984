// Layer 4: pre-flight tools (operations.md §7.3–7.5) — `pipelock check`, `pipelock doctor` and
// `pipelock audit score`: pure reports over a loaded config, rendered by the commands.
export {checkConfig, renderCheck, renderUrlCheck, runningPolicy, renderRunningPolicy, type CheckReport, type UrlCheckReport, type RunningPolicy} from './check.js'
export {DOCTOR_CHECKS, doctorChecksSentence, type DoctorCheckInfo} from './doctor-checks.js'
export {runDoctor, renderDoctor, doctorExit, systemDoctorEnvironment, ROOT_BANNER, type DoctorReport, type DoctorCheck, type DoctorEnvironment, type DoctorStatus} from './doctor.js'
export {scoreConfig, renderScore, type ScoreReport, type ScoreCategory, type ScoreFinding, type FindingSeverity} from './score.js'
export {auditProject, renderProjectAudit, type ProjectAudit, type ProjectAuditReport, type ProjectFinding} from './project-audit.js'
