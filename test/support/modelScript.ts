/**
 * Responders for the tests' fake model server (./fakeModel): per-role scripts and seeded fault injection.
 * Kept free of vitest imports, like ./fakeModel.
 */

import { seededRandom } from '../../src/fakeModel/seededRandom';
import type { Fault, RecordedRequest, Responder, ScriptedReply } from './fakeModel';

export type ScriptEntry = ScriptedReply | ((req: RecordedRequest) => ScriptedReply | Promise<ScriptedReply>);

export type RoleScriptResponder = Responder & {
  /**
   * Replies left for `role`. When `role` is literally a script key (an exact
   * name or a pattern such as 'verifier*'), that key's queue length; otherwise
   * the total left in the queues that would serve that role.
   */
  remaining(role: string): number;
};

const NO_ROLE = '(none)';

/**
 * Each role's replies are consumed in order; role read from the x-infty-role
 * header. Role keys may be exact names or a prefix pattern like 'verifier*'
 * ('*' alone matches every request, including ones without a role). Lookup
 * order: the exact key, then patterns by longest prefix; the first of those
 * with replies left is used. When none has replies left, `fallback` is used
 * if given, else it answers HTTP 500 (code 'script_exhausted') with a message
 * naming the role, so a test fails visibly. A reply may also be a function
 * (req) => ScriptedReply.
 */
export function scriptByRole(script: Record<string, Array<ScriptEntry>>, opts?: { fallback?: Responder }): RoleScriptResponder {
  const queues = new Map<string, ScriptEntry[]>();
  for (const [key, entries] of Object.entries(script)) queues.set(key, [...entries]);
  const patterns = [...queues.keys()]
    .filter((k) => k.endsWith('*'))
    .map((k) => ({ key: k, prefix: k.slice(0, -1) }))
    .sort((a, b) => b.prefix.length - a.prefix.length);

  /** Keys that can serve `role`, in priority order. */
  function candidateKeys(role: string | undefined): string[] {
    const keys: string[] = [];
    if (role !== undefined && queues.has(role) && !role.endsWith('*')) keys.push(role);
    for (const p of patterns) {
      if (role === undefined ? p.prefix === '' : role.startsWith(p.prefix)) keys.push(p.key);
    }
    return keys;
  }

  const responder = (async (req: RecordedRequest): Promise<ScriptedReply> => {
    for (const key of candidateKeys(req.role)) {
      const q = queues.get(key)!;
      if (q.length === 0) continue;
      const entry = q.shift()!;
      return typeof entry === 'function' ? await entry(req) : entry;
    }
    if (opts?.fallback) return opts.fallback(req);
    const role = req.role ?? NO_ROLE;
    const known = candidateKeys(req.role);
    const why = known.length
      ? `the script for role "${role}" is exhausted (keys ${known.map((k) => JSON.stringify(k)).join(', ')} have no replies left)`
      : `there is no script for role "${role}"`;
    return {
      kind: 'fault',
      fault: {
        kind: 'http',
        status: 500,
        code: 'script_exhausted',
        message: `fake model: ${why}; request #${req.seq} ${req.path} was not expected.`,
      },
    };
  }) as RoleScriptResponder;

  responder.remaining = (role: string): number => {
    const own = queues.get(role);
    if (own) return own.length;
    return candidateKeys(role).reduce((n, k) => n + queues.get(k)!.length, 0);
  };
  return responder;
}

export const DEFAULT_FAULT_KINDS: readonly Fault[] = Object.freeze([
  { kind: 'http', status: 500 },
  { kind: 'http', status: 429, retryAfterSeconds: 1 },
  { kind: 'drop' },
  { kind: 'truncated_stream' },
  { kind: 'invalid_json' },
] as Fault[]);

/**
 * Injects faults at a seeded-random rate before delegating; kinds default to
 * http 500, http 429 (retryAfterSeconds 1), drop, truncated_stream,
 * invalid_json. A faulted request does NOT consume the inner responder's
 * script (the retry gets the same scripted reply). The fault sequence depends
 * only on `seed` (default 1) and the order requests arrive in.
 */
export function withFaults(inner: Responder, opts: { rate: number; seed?: number; kinds?: Fault[] }): Responder {
  const rand = seededRandom(opts.seed ?? 1);
  const kinds = opts.kinds && opts.kinds.length > 0 ? opts.kinds : DEFAULT_FAULT_KINDS;
  return (req: RecordedRequest) => {
    const roll = rand();
    const pick = rand();
    if (roll < opts.rate) {
      const fault = kinds[Math.min(kinds.length - 1, Math.floor(pick * kinds.length))]!;
      return { kind: 'fault', fault: { ...fault } as Fault };
    }
    return inner(req);
  };
}
