/**
 * Every patch the workflow branches on (docs/architecture.md "Versioning"), in one list: the id
 * recorded in history, what its new branch does, the fixture whose history records it, and since
 * when. A patch may go once no run started before it can still be replayed: every such execution
 * has closed and left retention (`temporal workflow list --query "StartTime < '<since>'"` finds
 * none) and its old-branch fixtures are retired; then `deprecatePatch(id)` for one release, then
 * the old branch and the call are deleted. Until then each stays, and so does its fixture.
 */
import { patched } from '@temporalio/workflow';

export const PATCHES = {
  finalFeedbackToSolver: {
    id: 'final-feedback-to-solver',
    since: '2026-11-22',
    fixture: 'delivered.json',
    guards: "a passing round's aggregate is recorded in the Solver's transcript",
  },
  toolOutputByReference: {
    id: 'tool-output-by-reference',
    since: '2026-11-23',
    fixture: 'delivered-outputs-by-reference.json',
    guards: 'tool outputs go by reference through the journal (docs/architecture.md decision 9)',
  },
  storageFollowsRun: {
    id: 'storage-follows-run',
    since: '2026-11-23',
    fixture: 'delivered-storage-follows-run.json',
    guards: "a run's activities go to its owner worker's queue (docs/architecture.md decision 12)",
  },
  turnSnapshots: {
    id: 'turn-snapshots',
    since: '2026-11-23',
    fixture: 'turn-snapshots.json',
    guards: 'a snapshot of the run directory after each Solver turn (docs/architecture.md decision 13)',
  },
  verifiedHash: {
    id: 'verified-hash',
    since: '2026-11-23',
    fixture: 'delivered-verified-hash-changed.json',
    guards: 'a passing round is bound to the content hash it judged (docs/behaviour.md §3.3)',
  },
  convergenceWatchdog: {
    id: 'convergence-watchdog',
    since: '2026-11-23',
    fixture: 'stalled-resumed-workflow-tracing.json',
    guards: 'the convergence watchdog (docs/behaviour.md §3.7)',
  },
  workflowTracing: {
    id: 'workflow-tracing',
    since: '2026-11-23',
    fixture: 'delivered-workflow-tracing.json',
    guards: 'workflow spans for runs a traced client started',
  },
  goalMemo: {
    id: 'goal-memo',
    since: '2026-12-05',
    fixture: 'goal-memo-paused-resumed.json',
    guards: 'the goal in the memo for reading without a worker (docs/architecture.md decision 15)',
  },
  mcpTools: {
    id: 'mcp-tools',
    since: '2026-12-05',
    fixture: 'mcp-tools-delivered.json',
    guards: "listing a run's MCP tools at its start (docs/architecture.md decision 17)",
  },
  costBudget: {
    id: 'cost-budget',
    since: '2026-12-05',
    fixture: 'cost-budget-exhausted.json',
    guards: 'the cost budget takes part in decisions (docs/architecture.md decision 16)',
  },
  approvals: {
    id: 'approvals',
    since: '2026-12-06',
    fixture: 'approvals-decided.json',
    guards: 'a gated tool call waits for a person (docs/architecture.md decision 18)',
  },
  budgetOverWatchdog: {
    id: 'budget-over-watchdog',
    since: '2026-12-06',
    fixture: 'budget-watchdog-exhausted.json',
    guards: 'a budget-limited run the watchdog would pause ends budget_exhausted (docs/behaviour.md §3.8)',
  },
  watchdogDirectorFailureHolds: {
    id: 'watchdog-director-failure-holds',
    since: '2026-12-06',
    fixture: 'watchdog-director-invalid-held.json',
    guards: "a failing Director holds a watchdog escalation's run instead of failing it (docs/behaviour.md §3.8)",
  },
  objectiveRestartsWatchdog: {
    id: 'objective-restarts-watchdog',
    since: '2026-12-06',
    fixture: 'objective-restarts-watchdog.json',
    guards: 'a new objective starts the watchdog afresh (docs/behaviour.md §3.8)',
  },
  localRunCreation: {
    id: 'local-run-creation',
    since: '2026-12-06',
    fixture: 'delivered-local-run-creation.json',
    guards: 'a new run without a project or a fork source is created in a local activity (docs/architecture.md decision 12)',
  },
} as const;

export type PatchName = keyof typeof PATCHES;

/** `patched()` by name: true on new executions (recording the marker), and on replay only where the history has it. */
export function isPatched(name: PatchName): boolean {
  return patched(PATCHES[name].id);
}
