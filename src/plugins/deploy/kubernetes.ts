import {stringify} from 'yaml'
import {PipelockError} from '../errors/index.js'
import type {MovedSecret} from './config-secrets.js'
import type {DeployPlan} from './plan.js'

export interface KubernetesOptions {
  /** The config file's text, shipped in a ConfigMap and mounted read-only (secrets taken out: `separateConfigSecrets`). */
  readonly configText: string
  /** Secrets taken out of the config: shipped in a Secret, given to the pipelock container only, as environment variables. */
  readonly secrets?: readonly MovedSecret[]
  /** The pipelock image (built from the repository's Dockerfile). */
  readonly image: string
  /** The agent's image; the example's placeholder until replaced. */
  readonly agentImage: string
  readonly name: string
}

const CONFIG_DIR = '/etc/pipelock'
const STATE_DIR = '/var/lib/pipelock'

/**
 * The sidecar shape: the proxy beside the agent in one pod (one network namespace, so the agent
 * reaches it on 127.0.0.1 through HTTPS_PROXY), the config from a ConfigMap, the contract store
 * mounted read-only from one shared volume (a fleet follows one `learn promote`), receipts and
 * events leaving through the OTLP/syslog emitters the config names. Returns a multi-document YAML.
 */
export function renderKubernetesSidecar(plan: DeployPlan, opts: KubernetesOptions): string {
  // Kubernetes names: a DNS-1123 label, and `<name>-pipelock-config` must fit the 63 of a label too.
  const longest = 63 - '-pipelock-config'.length
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(opts.name) || opts.name.length > longest) {
    throw new PipelockError('USAGE', `generate kubernetes: --name ${JSON.stringify(opts.name)} must be lowercase letters, digits and '-', start and end with a letter or digit, at most ${longest} characters (a Kubernetes name)`)
  }
  // An empty image is a container Kubernetes refuses at apply time (and white space one no
  // registry can pull): refused here, where the flag can be named.
  for (const [flag, image] of [['--image', opts.image], ['--agent-image', opts.agentImage]] as const) {
    // eslint-disable-next-line no-control-regex
    if (image === '' || /[\s\u0000-\u001f\u007f]/.test(image)) {
      throw new PipelockError('USAGE', `generate kubernetes: ${flag} ${JSON.stringify(image)} is not an image reference: it must be non-empty, without white space (as registry.example.com/name:tag)`)
    }
  }
  const proxyUrl = `http://127.0.0.1:${plan.listenPort}`
  const configFile = `${CONFIG_DIR}/pipelock.yaml`
  const extraDirs = plan.writableDirs.filter((d) => d !== STATE_DIR && !d.startsWith(STATE_DIR + '/'))
  const volumes: Record<string, unknown>[] = [
    {name: 'pipelock-config', configMap: {name: `${opts.name}-pipelock-config`}},
    {name: 'pipelock-state', emptyDir: {}},
    ...extraDirs.map((_, i) => ({name: `pipelock-data-${i}`, emptyDir: {}})),
  ]
  const mounts: Record<string, unknown>[] = [
    {name: 'pipelock-config', mountPath: CONFIG_DIR, readOnly: true},
    {name: 'pipelock-state', mountPath: STATE_DIR},
    ...extraDirs.map((d, i) => ({name: `pipelock-data-${i}`, mountPath: d})),
  ]
  if (plan.contractStoreDir !== '') {
    volumes.push({name: 'contract-store', persistentVolumeClaim: {claimName: 'pipelock-contract-store', readOnly: true}})
    mounts.push({name: 'contract-store', mountPath: plan.contractStoreDir, readOnly: true})
  }
  const secrets = opts.secrets ?? []
  const secretName = `${opts.name}-pipelock-secret`
  const probe = {exec: {command: ['pipelock', 'healthcheck', '--addr', `127.0.0.1:${plan.listenPort}`]}, periodSeconds: 10, timeoutSeconds: 5}
  const configMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {name: `${opts.name}-pipelock-config`, labels: {app: opts.name}},
    data: {'pipelock.yaml': opts.configText},
  }
  // A ConfigMap is readable by more people than a Secret is (and shows in `kubectl describe`).
  const secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {name: secretName, labels: {app: opts.name}},
    type: 'Opaque',
    stringData: Object.fromEntries(secrets.map((s) => [s.key, s.value])),
  }
  const secretEnv = secrets.map((s) => ({name: s.env, valueFrom: {secretKeyRef: {name: secretName, key: s.key}}}))
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {name: opts.name, labels: {app: opts.name}},
    spec: {
      replicas: 1,
      selector: {matchLabels: {app: opts.name}},
      template: {
        metadata: {labels: {app: opts.name}},
        spec: {
          securityContext: {runAsNonRoot: true, seccompProfile: {type: 'RuntimeDefault'}},
          containers: [
            {
              name: 'agent',
              image: opts.agentImage,
              env: [
                {name: 'HTTPS_PROXY', value: proxyUrl},
                {name: 'HTTP_PROXY', value: proxyUrl},
                {name: 'NO_PROXY', value: 'localhost,127.0.0.1'},
              ],
            },
            {
              name: 'pipelock',
              image: opts.image,
              args: ['run', '--config', configFile],
              env: [{name: 'PIPELOCK_HOME', value: STATE_DIR}, ...secretEnv],
              ports: [{name: 'proxy', containerPort: plan.listenPort}],
              readinessProbe: probe,
              livenessProbe: {...probe, initialDelaySeconds: 5},
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: {drop: ['ALL']},
              },
              resources: {requests: {cpu: '100m', memory: '128Mi'}, limits: {memory: '512Mi'}},
              volumeMounts: mounts,
            },
          ],
          volumes,
        },
      },
    },
  }
  const header = [
    '# Generated by: pipelock generate kubernetes (docs/install.md).',
    `# Pipelock as a sidecar: the agent reaches it through HTTPS_PROXY=${proxyUrl}.`,
    plan.contractStoreDir !== ''
      ? `# The contract store (${plan.contractStoreDir}) is one read-only volume shared by the fleet: promote once, every pod follows.`
      : '# No contract store in this config (learn_lock off): mount one read-only when you enforce promoted contracts.',
    plan.emitters.length > 0
      ? `# Events and receipts leave the pod through the config's ${plan.emitters.join(' and ')} emitter(s).`
      : '# No emitter configured: set emit.otlp or emit.syslog in the config to ship events and receipts off the pod.',
    ...(secrets.length > 0
      ? [`# ${secrets.map((s) => s.field).join(' and ')}: in the Secret ${secretName} (not the ConfigMap), read by pipelock as ${secrets.map((s) => s.env).join(' and ')}. Keep this file private.`]
      : []),
  ]
  const docs = [configMap, ...(secrets.length > 0 ? [secret] : []), deployment].map((d) => stringify(d, {lineWidth: 0}))
  return `${header.join('\n')}\n${docs.join('---\n')}`
}
