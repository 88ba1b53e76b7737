/**
 * docker-compose.yml as the cluster test reads it: a service's environment (interpolated as Compose
 * does when none of the variables is set, so every `${VAR:-default}` takes its default), its
 * entrypoint and command, and where its bind mounts come from on this machine.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { parse } from 'yaml';

export const ROOT = join(__dirname, '..', '..');
const COMPOSE_FILE = join(ROOT, 'docker-compose.yml');

interface RawService {
  image?: string;
  environment?: Record<string, string | number | boolean | null> | string[];
  volumes?: (string | { type?: string; source?: string; target?: string })[];
  entrypoint?: string | string[];
  command?: string | string[];
}

export interface ComposeService {
  name: string;
  image: string;
  environment: Record<string, string>;
  /** Bind mounts: the container path and the directory or file on this machine. */
  binds: { container: string; host: string }[];
  entrypoint: string[];
  command: string[];
}

/** `${VAR}`, `${VAR:-default}`, `${VAR-default}` with no variable set, and `$$` → `$`. */
export function interpolate(value: string): string {
  return value.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (whole, name, op, fallback) => {
    if (whole === '$$') return '$';
    if (name === undefined) throw new Error(`docker-compose.yml: ${whole} has no default; the cluster test needs every variable to have one`);
    if (op === undefined) throw new Error(`docker-compose.yml: \${${name}} has no default; the cluster test needs every variable to have one`);
    return fallback;
  });
}

function environmentOf(raw: RawService['environment']): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(raw)) {
    for (const entry of raw) {
      const eq = entry.indexOf('=');
      if (eq > 0) out[entry.slice(0, eq)] = interpolate(entry.slice(eq + 1));
    }
  } else {
    for (const [k, v] of Object.entries(raw ?? {})) if (v !== null) out[k] = interpolate(String(v));
  }
  return out;
}

function bindsOf(raw: RawService['volumes']): { container: string; host: string }[] {
  const out: { container: string; host: string }[] = [];
  for (const v of raw ?? []) {
    const [source, target] = typeof v === 'string' ? v.split(':') : [v.source, v.target];
    // Named volumes (no path) are the database's and the workers' storage: the test makes its own.
    if (!source || !target || !(source.startsWith('.') || isAbsolute(source))) continue;
    out.push({ container: target, host: resolve(ROOT, source) });
  }
  return out;
}

const words = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : v.split(/\s+/).filter(Boolean));

let cached: Record<string, RawService> | undefined;

export function composeService(name: string): ComposeService {
  cached ??= (parse(readFileSync(COMPOSE_FILE, 'utf8')) as { services: Record<string, RawService> }).services;
  const raw = cached[name];
  if (!raw) throw new Error(`docker-compose.yml has no service "${name}"`);
  return {
    name,
    image: raw.image ?? '',
    environment: environmentOf(raw.environment),
    binds: bindsOf(raw.volumes),
    entrypoint: words(raw.entrypoint),
    command: words(raw.command),
  };
}

/** The file on this machine that `containerPath` is inside `service` (through one of its bind mounts). */
export function hostPathOf(service: ComposeService, containerPath: string): string {
  for (const b of service.binds) {
    const rel = relative(b.container, containerPath);
    if (rel === '' || (!rel.startsWith('..') && !isAbsolute(rel))) return join(b.host, rel);
  }
  throw new Error(`docker-compose.yml: ${containerPath} is not under a bind mount of service "${service.name}"`);
}
