const RUN_ID = /^[A-Za-z0-9_.-]+$/;

/** docs/behaviour.md §4: non-empty, ASCII letters, digits, '-', '_', '.', not starting or ending with '.'. */
export function runIdError(id: string): string | undefined {
  if (!id) return 'run id must not be empty';
  if (id.length > 200) return 'run id must be at most 200 characters';
  if (!RUN_ID.test(id)) return `run id "${id}" may only contain ASCII letters, digits, '-', '_' and '.'`;
  if (id.startsWith('.') || id.endsWith('.')) return `run id "${id}" must not start or end with '.'`;
  return undefined;
}

/** `run-YYYYMMDD-HHMMSS` in UTC. */
export function defaultRunId(now: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return (
    `run-${now.getUTCFullYear()}${p(now.getUTCMonth() + 1)}${p(now.getUTCDate())}` +
    `-${p(now.getUTCHours())}${p(now.getUTCMinutes())}${p(now.getUTCSeconds())}`
  );
}
