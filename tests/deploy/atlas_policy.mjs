// The rules deploy/k8s promises, checked on one rendered overlay (all its
// objects, already schema-valid). Returns a list of problems.

const GRPC_PORT = 50051;
const METRICS_PORT = 9090;
// The plaintext health-only port (ATLAS_HEALTH_LISTEN) the probes use: the
// kubelet's gRPC probes cannot speak TLS, which GRPC_PORT may.
const HEALTH_PORT = 8081;
const DATA_DIR = '/var/lib/atlas';
// atlas-server's default --shutdown_grace_ms.
const DEFAULT_SHUTDOWN_GRACE_MS = 10000;
// Time left after the drain for cancelling calls and closing RocksDB.
const CLOSE_MARGIN_MS = 10000;

function selects(selector, labels) {
  return Object.entries(selector || {}).every(([k, v]) => (labels || {})[k] === v);
}

function quantity(value) {
  return value !== undefined && value !== null && String(value) !== '';
}

export function checkAtlasPolicy(objects) {
  const problems = [];
  const of = (kind) => objects.filter((o) => o.kind === kind);

  if (of('Secret').length > 0) problems.push('Secret objects must not be committed');

  const statefulSets = of('StatefulSet');
  if (statefulSets.length !== 1) {
    problems.push(`expected exactly one StatefulSet, found ${statefulSets.length}`);
    return problems;
  }
  const sts = statefulSets[0];
  const spec = sts.spec;
  const pod = spec.template.spec;
  const podLabels = spec.template.metadata?.labels || {};
  const at = `StatefulSet ${sts.metadata.name}`;

  if (spec.replicas !== 1) {
    problems.push(`${at}: replicas must be 1 (single writer: each pod has its own RocksDB)`);
  }
  if (!selects(spec.selector.matchLabels, podLabels)) {
    problems.push(`${at}: selector does not match the pod template labels`);
  }

  // Storage: the data volume claim is mounted at the data directory.
  const claims = (spec.volumeClaimTemplates || []).map((c) => c.metadata?.name);
  const container = (pod.containers || []).find((c) => c.name === 'atlas-server');
  if (!container) {
    problems.push(`${at}: no container named atlas-server`);
    return problems;
  }
  const dataMount = (container.volumeMounts || []).find((m) => m.mountPath === DATA_DIR);
  if (!dataMount || !claims.includes(dataMount.name)) {
    problems.push(`${at}: ${DATA_DIR} must be mounted from a volumeClaimTemplate`);
  }

  // Probes: native gRPC on the health port, and a startup probe.
  for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
    if (container[probe]?.grpc?.port !== HEALTH_PORT) {
      problems.push(`${at}: ${probe} must be a gRPC probe on the health port ${HEALTH_PORT}`);
    }
  }

  // Security.
  const podSc = pod.securityContext || {};
  const sc = container.securityContext || {};
  if (pod.automountServiceAccountToken !== false) {
    problems.push(`${at}: automountServiceAccountToken must be false`);
  }
  if (sc.runAsNonRoot !== true && podSc.runAsNonRoot !== true) {
    problems.push(`${at}: runAsNonRoot must be true`);
  }
  const uid = sc.runAsUser ?? podSc.runAsUser;
  if (uid === 0) problems.push(`${at}: runAsUser must not be 0`);
  if (sc.readOnlyRootFilesystem !== true) {
    problems.push(`${at}: readOnlyRootFilesystem must be true`);
  }
  if (sc.allowPrivilegeEscalation !== false) {
    problems.push(`${at}: allowPrivilegeEscalation must be false`);
  }
  if (sc.privileged === true) problems.push(`${at}: privileged must not be true`);
  if (!(sc.capabilities?.drop || []).includes('ALL')) {
    problems.push(`${at}: capabilities must drop ALL`);
  }
  if ((sc.capabilities?.add || []).length > 0) {
    problems.push(`${at}: capabilities must add nothing`);
  }
  const seccomp = sc.seccompProfile?.type ?? podSc.seccompProfile?.type;
  if (seccomp !== 'RuntimeDefault') {
    problems.push(`${at}: seccompProfile must be RuntimeDefault`);
  }

  // Resources.
  for (const section of ['requests', 'limits']) {
    for (const resource of ['cpu', 'memory']) {
      if (!quantity(container.resources?.[section]?.[resource])) {
        problems.push(`${at}: resources.${section}.${resource} must be set`);
      }
    }
  }

  // Drain: the grace period outlasts --shutdown_grace_ms plus closing.
  let graceMs = DEFAULT_SHUTDOWN_GRACE_MS;
  // The health port is off unless ATLAS_HEALTH_LISTEN sets it.
  let healthListen = '';
  const configMaps = of('ConfigMap');
  for (const source of container.envFrom || []) {
    const name = source.configMapRef?.name;
    if (name === undefined) continue;
    const map = configMaps.find((m) => m.metadata.name === name);
    if (!map) {
      problems.push(`${at}: envFrom ConfigMap ${name} is not in the manifests`);
      continue;
    }
    if (map.data?.ATLAS_SHUTDOWN_GRACE_MS !== undefined) {
      graceMs = Number(map.data.ATLAS_SHUTDOWN_GRACE_MS);
    }
    if (map.data?.ATLAS_HEALTH_LISTEN !== undefined) {
      healthListen = map.data.ATLAS_HEALTH_LISTEN;
    }
  }
  for (const env of container.env || []) {
    if (env.name === 'ATLAS_SHUTDOWN_GRACE_MS' && env.value !== undefined) {
      graceMs = Number(env.value);
    }
    if (env.name === 'ATLAS_HEALTH_LISTEN' && env.value !== undefined) {
      healthListen = env.value;
    }
  }
  if (!healthListen.endsWith(`:${HEALTH_PORT}`)) {
    problems.push(`${at}: ATLAS_HEALTH_LISTEN must listen on the probes' port ${HEALTH_PORT}, ` +
                  `got "${healthListen}"`);
  }
  const termination = pod.terminationGracePeriodSeconds ?? 30;
  if (!Number.isFinite(graceMs)) {
    problems.push(`${at}: ATLAS_SHUTDOWN_GRACE_MS is not a number`);
  } else if (termination * 1000 < graceMs + CLOSE_MARGIN_MS) {
    problems.push(`${at}: terminationGracePeriodSeconds ${termination} must be at least ` +
                  `ATLAS_SHUTDOWN_GRACE_MS (${graceMs} ms) + ${CLOSE_MARGIN_MS / 1000} s`);
  }

  // Secrets are referenced, never required: the pod starts without them.
  for (const volume of pod.volumes || []) {
    if (volume.secret && volume.secret.optional !== true) {
      problems.push(`${at}: Secret volume ${volume.name} must be optional`);
    }
  }

  // Prometheus scrape annotations on the pod, pointing at the metrics port.
  const annotations = spec.template.metadata?.annotations || {};
  if (annotations['prometheus.io/scrape'] !== 'true' ||
      annotations['prometheus.io/port'] !== String(METRICS_PORT)) {
    problems.push(`${at}: pod needs prometheus.io/scrape "true" and prometheus.io/port "${METRICS_PORT}"`);
  }
  const containerPorts = (container.ports || []).map((p) => p.containerPort);
  for (const port of [GRPC_PORT, METRICS_PORT, HEALTH_PORT]) {
    if (!containerPorts.includes(port)) problems.push(`${at}: container port ${port} missing`);
  }

  // Services: the governing headless one and a client one, both with the
  // gRPC and metrics ports, selecting the pod.
  const services = of('Service').filter((s) => selects(s.spec.selector, podLabels) &&
                                               Object.keys(s.spec.selector || {}).length > 0);
  const headless = services.find((s) => s.spec.clusterIP === 'None');
  if (!headless) {
    problems.push('no headless Service selects the atlas pod');
  } else if (headless.metadata.name !== spec.serviceName) {
    problems.push(`${at}: serviceName ${spec.serviceName} is not the headless Service ${headless.metadata.name}`);
  }
  if (!services.some((s) => s.spec.clusterIP !== 'None')) {
    problems.push('no client (ClusterIP) Service selects the atlas pod');
  }
  for (const service of services) {
    const ports = (service.spec.ports || []).map((p) => p.port);
    for (const port of [GRPC_PORT, METRICS_PORT]) {
      if (!ports.includes(port)) problems.push(`Service ${service.metadata.name}: port ${port} missing`);
    }
  }

  if (!of('PodDisruptionBudget').some((p) => selects(p.spec.selector?.matchLabels, podLabels))) {
    problems.push('no PodDisruptionBudget selects the atlas pod');
  }
  if (!of('NetworkPolicy').some((p) => selects(p.spec.podSelector?.matchLabels, podLabels))) {
    problems.push('no NetworkPolicy selects the atlas pod');
  }
  return problems;
}
