import { z } from 'zod';
import { APPROVAL_POLICIES } from './approval';
import { CostBudgetSchema, ObjectiveSchema, TokenBudgetSchema } from './goal';
import { McpServersSchema } from './mcp';
import { ProjectSourceSchema } from './project';
import { REASONING_EFFORTS, type ReasoningEffort, reasoningEffortError } from './reasoning';
import { runIdError } from './runId';

export const DEFAULT_VERIFIERS = ['verifier-alpha', 'verifier-beta', 'verifier-gamma'];

/** One of the `openai` package's ReasoningEffort values; the error lists them. */
const reasoningEffort = (field: string) => z.enum(REASONING_EFFORTS, { error: (issue) => reasoningEffortError(field, issue.input) }).optional();

const roleName = z.string().regex(/^[a-z][a-z0-9_-]*$/, 'role names use lower-case letters, digits, "-" and "_"');

/** Workflow input of `inftyRun` (docs/interface.md). Only runId and objective are required. */
export const RunInputSchema = z
  .object({
    runId: z.string().superRefine((id, ctx) => {
      const err = runIdError(id);
      if (err) ctx.addIssue({ code: 'custom', message: err });
    }),
    objective: ObjectiveSchema,
    verifiers: z
      .array(roleName.refine((r) => r.startsWith('verifier'), 'verifier role names start with "verifier"'))
      .refine((v) => new Set(v).size === v.length, 'verifier names must be unique')
      .default(DEFAULT_VERIFIERS),
    tokenBudget: TokenBudgetSchema.default(null),
    /**
     * A second budget, in US dollars from the worker's price table (docs/behaviour.md §5.3). `infty
     * create --cost-budget` refuses it for a model without a known price; calls whose price is unknown
     * are not counted in it.
     */
    costBudgetUsd: CostBudgetSchema.optional(),
    /** Default model of every role (else the worker's INFTY_MODEL). */
    model: z.string().min(1).optional(),
    solverModel: z.string().min(1).optional(),
    directorModel: z.string().min(1).optional(),
    verifierModel: z.string().min(1).optional(),
    /** Reasoning effort of every role (else the model's default); the per-role fields override it. */
    reasoningEffort: reasoningEffort('reasoningEffort'),
    solverReasoningEffort: reasoningEffort('solverReasoningEffort'),
    directorReasoningEffort: reasoningEffort('directorReasoningEffort'),
    verifierReasoningEffort: reasoningEffort('verifierReasoningEffort'),
    /** Instruction overrides by role name, or "verifier" for every verifier. */
    instructions: z.record(z.string(), z.string().min(1)).default({}),
    directorTimeoutSecs: z.number().positive().default(1200),
    verifierTimeoutSecs: z.number().positive().default(1800),
    sandbox: z.enum(['auto', 'none']).default('auto'),
    allowNetwork: z.boolean().default(false),
    /** Solver turns allowed after the budget-limit message before the run ends budget_exhausted. */
    budgetGraceTurns: z.number().int().min(0).default(3),
    /** Model calls (every role, compaction included) allowed after the budget is reached, so the overshoot stays small. */
    budgetGraceModelCalls: z.number().int().min(0).max(100).default(10),
    /** Names of worker environment variables passed through to tool processes (all others are withheld). */
    passEnv: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'environment variable names use letters, digits and "_"')).default([]),
    /** Consecutive malformed signals / invalid deliveries tolerated before the run fails. */
    maxConsecutiveErrors: z.number().int().min(1).default(3),
    /** Model calls of one role turn before the turn is cut short (guards against endless tool loops). */
    maxStepsPerTurn: z.number().int().min(1).default(200),
    /** Context window in input tokens for every role (else the worker's per-model setting). */
    contextWindow: z.number().int().positive().optional(),
    /** Input tokens at which a role's history is compacted (else 90% of the context window). */
    autoCompactLimit: z.number().int().positive().optional(),
    /** Attempts per model call before the run is paused with the endpoint's error. */
    modelMaxAttempts: z.number().int().min(1).default(6),
    /** First retry delay of a failed model call; doubles each attempt (max 1 minute). */
    modelRetryInitialSecs: z.number().positive().default(1),
    /** Continue-as-new after this many history events (besides Temporal's own suggestion). */
    continueAsNewAfterEvents: z.number().int().min(100).default(10_000),
    /** Start the run directory from a project (docs/behaviour.md §4.4): a path (`--from`) or a git repository (`--from-git`). */
    project: ProjectSourceSchema.optional(),
    /** Read AGENTS.md ($INFTY_HOME's, then the project's from its root down to the working directory; docs/behaviour.md §4.5). */
    projectDocs: z.boolean().default(true),
    /** MCP servers whose tools the run offers (docs/behaviour.md §7.6): listed once at the start by the owner worker. */
    mcpServers: McpServersSchema.optional(),
    /** Which tool calls wait for a person (docs/behaviour.md §7.8): `never` (escalations refused), `on-request`, `untrusted`. */
    approval: z.enum(APPROVAL_POLICIES, { error: () => `approval policy must be one of ${APPROVAL_POLICIES.join(', ')}` }).default('never'),
    /** A call nobody decides within this many seconds is denied with that reason; absent: it waits until decided. */
    approvalTimeoutSecs: z.number().positive('the approval timeout must be positive').optional(),
    /** Use the worker's built-in scripted model endpoint (the offline demo). */
    demo: z.boolean().default(false),
    /**
     * A fork (docs/architecture.md decision 13): the roles start from this run's transcripts as of its
     * Solver turn `turn`, shared by reference, and the run directory from that turn's snapshot.
     * `owner`: the source's owner worker in local storage (its disk holds the snapshot).
     */
    forkOf: z
      .object({
        runId: z.string().superRefine((id, ctx) => {
          const err = runIdError(id);
          if (err) ctx.addIssue({ code: 'custom', message: err });
        }),
        turn: z.number().int().min(1, 'the fork turn must be at least 1'),
        owner: z.object({ workerId: z.string(), taskQueue: z.string() }).strict().nullable().optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export type RunInputRaw = z.input<typeof RunInputSchema>;
export type RunInput = z.output<typeof RunInputSchema>;

export function modelFor(input: RunInput, role: string): string | undefined {
  if (role === 'solver') return input.solverModel ?? input.model;
  if (role === 'director') return input.directorModel ?? input.model;
  return input.verifierModel ?? input.model;
}

/** The role's reasoning effort; undefined: the model's default (nothing is sent). */
export function reasoningEffortFor(input: RunInput, role: string): ReasoningEffort | undefined {
  if (role === 'solver') return input.solverReasoningEffort ?? input.reasoningEffort;
  if (role === 'director') return input.directorReasoningEffort ?? input.reasoningEffort;
  return input.verifierReasoningEffort ?? input.reasoningEffort;
}

export function instructionsOverride(input: RunInput, role: string): string | undefined {
  return input.instructions[role] ?? (role.startsWith('verifier') ? input.instructions.verifier : undefined);
}

/** What a role is: its instructions, and the tools it is offered, follow from it. */
export type RoleKind = 'solver' | 'director' | 'verifier';

export function promptNameFor(role: string): RoleKind {
  if (role === 'solver' || role === 'director') return role;
  return 'verifier';
}
