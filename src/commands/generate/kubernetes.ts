import {Flags} from '@oclif/core'
import {BaseCommand} from '../../cli/base-command.js'
import {deliverGenerated, generatedFileFlags, type GeneratedDeployFile} from '../../cli/generated-file.js'
import {loadConfig} from '../../plugins/config/index.js'
import {deployPlan, enableForwardProxy, renderKubernetesSidecar, separateConfigSecrets} from '../../plugins/deploy/index.js'

export default class GenerateKubernetes extends BaseCommand {
  static override summary = 'Write Kubernetes manifests running pipelock as a sidecar beside an agent'
  static override description =
    'Loads --config and prints a ConfigMap holding it (with forward_proxy.enabled turned on, and a note on stderr, when the ' +
    'config has it off: the agent reaches pipelock only through HTTPS_PROXY) and a Deployment with two containers: the agent (HTTPS_PROXY and ' +
    'HTTP_PROXY pointing at the sidecar on 127.0.0.1) and pipelock (non-root, read-only root file system, healthcheck ' +
    'probes, the config mounted read-only, the contract store mounted read-only from one shared claim so a fleet follows ' +
    'one promote). Events and receipts leave through the emitters the config names (emit.otlp, emit.syslog). ' +
    'Secrets the proxy can read from its environment are not left in the ConfigMap: kill_switch.api_token goes into a Secret ' +
    '(<name>-pipelock-secret) given to the pipelock container as PIPELOCK_KILLSWITCH_API_TOKEN, and a literal ' +
    'learn.privacy.salt_source as PIPELOCK_CAPTURE_SALT (the config then reads ${PIPELOCK_CAPTURE_SALT}); the output then holds ' +
    'that Secret, so keep it private. Credentials the proxy reads only from the config (emit.webhook.auth_token, ' +
    'emit.otlp.headers, scan_api.auth.bearer_tokens, license_key) stay in the ConfigMap, with a warning on stderr.'
  static override examples = [
    '<%= config.bin %> generate kubernetes --config pipelock.yaml --agent-image registry.example.com/my-agent:1.4',
    '<%= config.bin %> generate kubernetes --config pipelock.yaml --output deploy/agent.yaml && kubectl apply -f deploy/agent.yaml',
    {description: 'The same, by the name the reference documents (an alias)', command: '<%= config.bin %> init sidecar --config pipelock.yaml --output deploy/agent.yaml'},
  ]
  // policy-extra §5.3: the reference's `init sidecar` name for the same generator (same-pod sidecar
  // here; the reference's companion-proxy topology is not ported, docs/compatibility.md).
  static override aliases = ['init:sidecar']
  static override enableJsonFlag = true
  static override flags = {
    config: Flags.string({char: 'c', description: 'the config the sidecar runs (validated here, shipped in the ConfigMap)', required: true}),
    name: Flags.string({description: 'Deployment name (and label)', default: 'agent'}),
    image: Flags.string({description: 'pipelock image (docker build -t pipelock:0.1.0 .)', default: 'pipelock:0.1.0'}),
    'agent-image': Flags.string({description: "the agent's image", default: 'registry.example.com/my-agent:latest'}),
    ...generatedFileFlags,
  }

  async run(): Promise<GeneratedDeployFile> {
    const {flags} = await this.parse(GenerateKubernetes)
    const loaded = loadConfig(flags.config)
    // The text loadConfig read (a UTF-16 file is shipped as UTF-8); --config is required, so there is one.
    const separated = separateConfigSecrets(loaded.text ?? '', loaded.config, flags.config)
    if (separated.kept.length > 0) {
      this.err(`warning: the ConfigMap holds ${separated.kept.join(', ')} in plain text (pipelock reads them from the config only): limit who can read ConfigMaps in the namespace`)
    }
    // The agent's only way out is HTTPS_PROXY/HTTP_PROXY: a sidecar without the forward proxy
    // refuses every request (the reference's init sidecar always turns it on, policy-extra §5.3).
    const shipped = enableForwardProxy(separated.configText, loaded.config, flags.config, process.env)
    if (shipped.enabled) {
      this.err(`note: forward_proxy.enabled is off in ${flags.config}; the ConfigMap turns it on (the agent reaches pipelock through HTTPS_PROXY/HTTP_PROXY, which needs the forward proxy)`)
    }
    const text = renderKubernetesSidecar(deployPlan(loaded.config, '/etc/pipelock/pipelock.yaml'), {
      configText: shipped.configText,
      secrets: separated.moved,
      image: flags.image,
      agentImage: flags['agent-image'],
      name: flags.name,
    })
    return deliverGenerated('kubernetes', text, flags, {out: (l) => this.out(l), err: (l) => this.err(l)})
  }
}
