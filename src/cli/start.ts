/** `infty create`, `infty run` and `infty demo`: start a run and, unless detached, follow it to its outcome. */

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { InftyConfig } from '../config';
import { UsageError } from '../errors';
import { loadPrices, priceKnown } from '../host/prices';
import { whileSearchAttributesPending } from '../host/searchAttributeWait';
import { DEMO_OBJECTIVE } from '../protocol/demo';
import { defaultRunId } from '../protocol/runId';
import { DEFAULT_VERIFIERS, type RunInputRaw } from '../protocol/runInput';
import { detectSandbox } from '../worker';
import { type ApprovalPrompter, approvalPrompter, canPrompt } from './approvalPrompt';
import { follow } from './follow';
import { afterInterruptHint, catchInterrupts, exitCodeOf } from './interrupt';
import { connectWithEmbedding } from './local';
import { requireModelEndpoint, requireSandbox } from './preflight';
import { formatSummary } from './render';
import { note } from './session';

function refuseLocalDuplicate(config: InftyConfig, runId: string): void {
  const dir = join(config.runsRoot, runId);
  if (existsSync(join(dir, 'run.json'))) {
    throw new UsageError(`run id "${runId}" already exists at ${dir}; choose another --run-id (nothing was started)`);
  }
}

/**
 * A cost budget needs a price for every role's model (docs/behaviour.md §5.3): from the price table
 * and this process's INFTY_PRICES, the models as the worker will resolve them (`--model` and the
 * per-role flags, else INFTY_MODEL). A model without a known price: exit 2, nothing started.
 */
export function refuseUnpricedCostBudget(config: InftyConfig, input: RunInputRaw): void {
  if (input.costBudgetUsd == null) return;
  const table = loadPrices(config.pricesFile);
  const models = new Map<string, string[]>();
  const add = (model: string, role: string) => models.set(model, [...(models.get(model) ?? []), role]);
  add(input.solverModel ?? input.model ?? config.model, 'solver');
  add(input.directorModel ?? input.model ?? config.model, 'director');
  if ((input.verifiers ?? DEFAULT_VERIFIERS).length > 0) add(input.verifierModel ?? input.model ?? config.model, 'verifiers');
  const unpriced = [...models].filter(([model]) => !priceKnown(model, table));
  if (unpriced.length) {
    const which = unpriced.map(([model, roles]) => `"${model}" (${roles.join(', ')})`).join(', ');
    throw new UsageError(
      `--cost-budget needs a known price for every role's model; price unknown for ${which}. Add it to the INFTY_PRICES file (docs/interface.md §4)${table.source ? ` (now ${table.source})` : ''}, choose a priced model, or use --token-budget (nothing was started)`,
    );
  }
}

/** Starts a run; returns the process exit code (docs/interface.md). */
export async function startRun(
  config: InftyConfig,
  input: RunInputRaw,
  flags: { detach?: boolean; json?: boolean; demo?: boolean; exitOnHold?: boolean },
): Promise<number> {
  refuseLocalDuplicate(config, input.runId);
  refuseUnpricedCostBudget(config, input);
  const interrupt = catchInterrupts();
  const session = await connectWithEmbedding(config, { needWorker: true }).catch((err: unknown) => {
    interrupt.dispose();
    throw err;
  });
  let prompter: ApprovalPrompter | undefined;
  try {
    if (interrupt.received) return exitCodeOf(interrupt.received); // before anything started
    if (session.worker && !flags.demo) await requireModelEndpoint(config);
    if (session.worker && input.sandbox !== 'none') await requireSandbox();
    // Search attributes registered a moment ago (by this process or another) may not be in effect on
    // the frontend this start reaches: Temporal refuses it for a few seconds (host/searchAttributeWait.ts).
    const { handle } = await whileSearchAttributesPending(() => session.infty.startRun(input), { namespace: config.namespace, onWaiting: note });
    const out = (line: string) => (flags.json ? process.stderr : process.stdout).write(`${line}\n`);
    if (flags.detach) {
      if (flags.json) process.stdout.write(`${JSON.stringify({ runId: input.runId, status: 'started' })}\n`);
      else out(`started run ${input.runId} (workflow ${handle.workflowId}); follow it with: infty watch ${input.runId}`);
      if (session.worker) note('this process runs the worker and exits now: run `infty worker` (and `infty server` if it was embedded) to make progress');
      return 0;
    }
    out(
      `run ${input.runId} started; following its progress (Ctrl+C stops following; the run is durable and goes on${session.worker ? ' when a worker runs' : ''})`,
    );
    // On a terminal a waiting call is asked about here (docs/interface.md §1 "Approvals").
    prompter = !flags.json && !flags.exitOnHold && canPrompt() ? approvalPrompter(session.infty, input.runId, out) : undefined;
    const followed = follow(session.infty, input.runId, {
      print: out,
      embeddedWorker: session.worker !== undefined,
      exitOnHold: flags.exitOnHold,
      onHold: prompter?.onHold,
    });
    followed.catch(() => undefined); // after an interrupt it fails once the connection closes
    const ended = await Promise.race([followed, interrupt.first]);
    if (typeof ended === 'string') {
      note(afterInterruptHint(input.runId, session.worker !== undefined));
      return exitCodeOf(ended);
    }
    if (ended.held) {
      // --exit-on-hold: the hold and the next commands are printed; the run stays durable, held (docs/interface.md §3).
      if (flags.json) process.stdout.write(`${JSON.stringify({ runId: input.runId, status: 'held', reason: ended.held.reason, goal: ended.progress.goal })}\n`);
      return 4;
    }
    const { progress, outcome } = ended;
    if (outcome.status === 'failed' && outcome.errorType === 'InvalidProjectSource') {
      // Refused by the worker before the run directory existed: bad input, nothing was created (docs/interface.md §2).
      if (flags.json) process.stdout.write(`${JSON.stringify(outcome)}\n`);
      process.stderr.write(`infty: ${outcome.reason} (nothing was created; run ${input.runId} ended failed)\n`);
      return 2;
    }
    if (flags.json) process.stdout.write(`${JSON.stringify(outcome)}\n`);
    else if (progress) out(`\n${formatSummary(progress, outcome)}`);
    if (flags.demo && outcome.status === 'delivered' && !flags.json) printDemoDeliverable(outcome.deliverablePath);
    return outcome.status === 'delivered' ? 0 : 1;
  } finally {
    prompter?.dispose();
    await session.close({ interrupted: interrupt.received !== undefined });
    interrupt.dispose();
  }
}

function printDemoDeliverable(path: string): void {
  for (const name of ['haiku.txt', 'README.md']) {
    const file = join(path, name);
    if (existsSync(file)) process.stdout.write(`\n--- ${file}\n${readFileSync(file, 'utf8')}`);
  }
}

export async function demo(config: InftyConfig, flags: { json?: boolean }): Promise<number> {
  const sandbox = await detectSandbox();
  const say = (line: string) => (flags.json ? process.stderr : process.stdout).write(`${line}\n`);
  say("Infty demo: the model is Infty's built-in SCRIPTED endpoint (offline, no API key) — not a real model.");
  say('It plays a short complete run: tool calls that write files, a direction request, a directive,');
  say('a first delivery that one verifier fails, a fix, and a passing delivery.');
  if (!sandbox.available) say(`Note: no working bubblewrap sandbox here (${sandbox.reason}); the demo runs its commands unsandboxed.`);
  const runId = `demo-${defaultRunId(new Date()).slice(4)}`;
  say(`Run directory: ${join(config.runsRoot, runId)}`);
  say(`If this process is killed, the run is not lost: start \`infty server\` (if the server stopped) and \`infty worker\`, then \`infty watch ${runId}\`.`);
  const input: RunInputRaw = { runId, objective: DEMO_OBJECTIVE, demo: true, sandbox: sandbox.available ? 'auto' : 'none' };
  const code = await startRun(config, input, { json: flags.json, demo: true });
  if (code === 0) {
    say(
      [
        '',
        'Next:',
        `  infty show ${runId}              what happened, from Temporal (starts the embedded server again when none runs)`,
        "  infty server                     keep a server and its Web UI up to browse the run's history",
        '  infty run --from . "<objective>"  a run on your own project, with OPENAI_API_KEY or OPENAI_BASE_URL set',
      ].join('\n'),
    );
  }
  return code;
}
