/**
 * Search attributes just registered are not in effect at once. On SQL visibility (PostgreSQL,
 * MySQL, SQLite) a namespace maps each one to a column, and every frontend reads that mapping from
 * its namespace cache, refreshed every few seconds (`system.namespaceCacheRefreshInterval`, 2 s by
 * default): until then a start that sets them is refused ("Namespace … has no mapping defined for
 * search attribute InftyGoalStatus", INVALID_ARGUMENT) although listing the namespace's search
 * attributes already shows them (that list is read from the database, not the cache).
 *
 * A visibility query that names them is refused by the same cache, and it changes nothing, so it is
 * the probe: no probe workflow is left behind. It checks the frontend it reaches; behind a load
 * balancer another frontend may refresh later, which is why `infty run` / `create` retry a start
 * refused that way too (cli/start.ts).
 */
import { GOAL_STATUS_KEY, PHASE_KEY, TOKENS_USED_KEY } from '../protocol/names';
import { GRPC, temporalStatusOf } from './temporalErrors';

/** How long registration, and a start refused meanwhile, wait for the attributes to take effect. */
export const SEARCH_ATTRIBUTE_WAIT_MS = 60_000;
const RETRY_INTERVAL_MS = 500;

const INFTY_ATTRIBUTES = [GOAL_STATUS_KEY.name, PHASE_KEY.name, TOKENS_USED_KEY.name];

/** True for Temporal's refusal of an Infty search attribute the namespace does not map (yet). */
export function isSearchAttributePending(err: unknown): boolean {
  const status = temporalStatusOf(err);
  if (status?.code !== GRPC.INVALID_ARGUMENT) return false;
  const m = /(?:no mapping defined for search attribute|invalid search attribute:?)\s+(\w+)/i.exec(status.message);
  return m !== null && INFTY_ATTRIBUTES.includes(m[1]!);
}

/** A visibility query naming every Infty search attribute: refused while any is not in effect on the frontend. */
export const SEARCH_ATTRIBUTE_PROBE_QUERY = `${GOAL_STATUS_KEY.name} = 'active' AND ${PHASE_KEY.name} = 'starting' AND ${TOKENS_USED_KEY.name} = 0`;

export interface VisibilityService {
  countWorkflowExecutions(request: { namespace: string; query: string }): Promise<unknown>;
}

export function searchAttributeProbe(service: VisibilityService, namespace: string): () => Promise<void> {
  return async () => {
    await service.countWorkflowExecutions({ namespace, query: SEARCH_ATTRIBUTE_PROBE_QUERY });
  };
}

export interface PendingWait {
  /** The namespace, for the messages. */
  namespace: string;
  /** Default SEARCH_ATTRIBUTE_WAIT_MS. */
  timeoutMs?: number;
  intervalMs?: number;
  /** Told once when waiting starts and once when it ends. */
  onWaiting?: (line: string) => void;
}

/**
 * Runs `attempt` until Temporal stops refusing it for a pending Infty search attribute, for up to
 * `timeoutMs`; then (or on any other error) its error is thrown.
 */
export async function whileSearchAttributesPending<T>(attempt: () => Promise<T>, wait: PendingWait): Promise<T> {
  const timeoutMs = wait.timeoutMs ?? SEARCH_ATTRIBUTE_WAIT_MS;
  const started = Date.now();
  let waiting = false;
  for (;;) {
    try {
      const value = await attempt();
      if (waiting) wait.onWaiting?.(`the search attributes are in effect after ${((Date.now() - started) / 1000).toFixed(1)} s`);
      return value;
    } catch (err) {
      if (!isSearchAttributePending(err) || Date.now() - started >= timeoutMs) throw err;
      if (!waiting) {
        waiting = true;
        wait.onWaiting?.(
          `Temporal does not apply the search attributes of namespace ${wait.namespace} yet (they were registered a moment ago; its namespace cache refreshes every few seconds); waiting up to ${Math.round(timeoutMs / 1000)} s`,
        );
      }
      await new Promise((r) => setTimeout(r, Math.min(wait.intervalMs ?? RETRY_INTERVAL_MS, Math.max(0, started + timeoutMs - Date.now()))));
    }
  }
}
