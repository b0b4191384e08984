// Layer 4: deployment files for a config (systemd unit, Kubernetes sidecar manifests).
export {deployPlan, type DeployPlan} from './plan.js'
export {renderSystemdUnit, type SystemdOptions} from './systemd-unit.js'
export {renderKubernetesSidecar, type KubernetesOptions} from './kubernetes.js'
export {separateConfigSecrets, type MovedSecret, type SeparatedConfig} from './config-secrets.js'
export {enableForwardProxy} from './forward-proxy.js'
