/** One role turn (docs/behaviour.md §6): model step ⇄ tool calls until a message without tool calls. */
import { CancellationScope, condition, isCancellation } from '@temporalio/workflow';
import type { NewItem, StepToolCall, ToolOutputRef } from '../protocol/activities';
import { mcpToolsFor } from '../protocol/mcp';
import type { OutputSchemaName } from '../protocol/outputSchemas';
import { isWorkflowTool, toolSpec, toolsFor } from '../protocol/tools';
import { approvalGate } from './approvals';
import type { RunContext } from './context';
import { modelStep } from './modelCaller';
import { isPatched } from './patches';
import { toolCallDetail } from './summaries';
import { WORKFLOW_TOOLS } from './workflowTools';

export const SOLVER_TOOLS = toolsFor('solver');

/** The tools `role` is offered: the table's, then the run's MCP tools it may use (docs/behaviour.md §7.6). */
export function roleTools(ctx: RunContext, role: string): string[] {
  const mcp = mcpToolsFor(role, ctx.state.mcpTools);
  return mcp.length ? [...toolsFor(role), ...mcp] : toolsFor(role);
}

/** An output the workflow answered itself (a workflow tool, a refusal, a denial), and whether the call failed. */
export interface InlineResult {
  inline: string;
  failed: boolean;
}

/** Sees each finished call: its inline output, or the reference (with digest) the tool activity returned. */
export type ToolObserver = (call: StepToolCall, result: InlineResult | ToolOutputRef) => void;

export interface TurnResult {
  text: string | null;
  toolCalls: number;
}

/**
 * Runs one step's tool calls: consecutive calls of concurrent tools run at once, any other call
 * runs alone, in call order (so a read after a write sees the write).
 * Outputs come back in call order.
 */
export async function runToolCalls(ctx: RunContext, role: string, calls: StepToolCall[], observe?: ToolObserver): Promise<NewItem[]> {
  ctx.role(role).stats.toolCalls += calls.length;
  for (const call of calls) {
    ctx.event('tool_call', `${call.name} ${abbreviate(call.arguments, 160)}`, role, { name: call.name, detail: toolCallDetail(call.name, call.arguments) });
  }
  const outputs: NewItem[] = [];
  for (const batch of batches(calls)) {
    outputs.push(...(await Promise.all(batch.map((call) => runToolCall(ctx, role, call, observe)))));
  }
  return outputs;
}

const concurrent = (call: StepToolCall): boolean => toolSpec(call.name)?.concurrent === true;

function batches(calls: StepToolCall[]): StepToolCall[][] {
  const out: StepToolCall[][] = [];
  for (const call of calls) {
    const last = out[out.length - 1];
    if (last && concurrent(call) && concurrent(last[0]!)) last.push(call);
    else out.push([call]);
  }
  return out;
}

/**
 * One tool call's output item. Tool outputs go by reference (docs/architecture.md decision 9): the tool
 * activity journals the output and the next model step reads it from the journal, so it is
 * recorded in history once. Versioned: histories from before this change replay unchanged.
 */
async function runToolCall(ctx: RunContext, role: string, call: StepToolCall, observe?: ToolObserver): Promise<NewItem> {
  const inline = (output: string, failed: boolean): NewItem => {
    observe?.(call, { inline: output, failed });
    return { type: 'function_call_output', callId: call.callId, output };
  };
  const allowed: readonly string[] = roleTools(ctx, role);
  if (!allowed.includes(call.name)) {
    return inline(`tool "${call.name}" is not available to the ${role}; available tools: ${allowed.join(', ')}`, true);
  }
  if (isWorkflowTool(call.name)) {
    const done = WORKFLOW_TOOLS[call.name](ctx, call);
    return inline(done.output, done.failed);
  }
  const gate = await approvalGate(ctx, role, call); // docs/behaviour.md §7.8
  if (!gate.run) return inline(gate.output, true);
  const r = ctx.role(role);
  const journalKey = `${role}.g${r.generation}.s${r.committedLength}.${call.callId}`;
  const common = { runId: ctx.input.runId, journalKey, runDir: ctx.state.runDir, role, sandbox: ctx.state.sandbox, allowNetwork: ctx.input.allowNetwork };
  if (!isPatched('toolOutputByReference')) {
    // Runs from before outputs went by reference: only the text came back, so a failure is read off it.
    const output = await ctx.activities.tools.runTool({ ...common, call });
    return inline(output, /^(Error|tool ")/.test(output));
  }
  // The Solver of a project run works in the project (docs/behaviour.md §4.4); Verifiers read from the run directory, where claim paths start.
  const workdir = role === 'solver' ? ctx.state.project?.workdir : undefined;
  const ref = await ctx.activities.tools.runToolCall({
    ...common,
    generation: r.generation,
    call,
    passEnv: ctx.input.passEnv,
    ...(workdir ? { workdir } : {}),
    ...(gate.escalated ? { escalated: true } : {}),
  });
  observe?.(call, ref);
  return { type: 'tool_output_ref', callId: call.callId, journalKey: ref.journalKey };
}

/** A whole turn of a role that has no mid-turn injections (Director, Verifiers). */
export async function roleTurn(ctx: RunContext, role: string, items: NewItem[], schema: OutputSchemaName | null): Promise<TurnResult> {
  const tools = roleTools(ctx, role);
  let next = items;
  let toolCalls = 0;
  for (let steps = 1; ; steps++) {
    // The last step the turn may take must end it: tools stay listed (cached prefix) but not callable.
    const last = steps >= ctx.input.maxStepsPerTurn;
    const step = await modelStep(ctx, role, next, { schema, tools, ...(last ? { toolChoice: 'none' as const } : {}) });
    if (step.incomplete && step.toolCalls.length === 0 && !last) {
      next = [outputCutItem(ctx, role, step.incomplete)];
      continue;
    }
    if (step.toolCalls.length === 0 || last) {
      if (step.toolCalls.length > 0) ctx.event('turn_cut', `the turn reached ${ctx.input.maxStepsPerTurn} model steps; its last tool calls were not run`, role);
      ctx.role(role).stats.turns += 1;
      return { text: step.text, toolCalls };
    }
    toolCalls += step.toolCalls.length;
    next = await runToolCalls(ctx, role, step.toolCalls);
  }
}

/**
 * Sleeps `ms` of active time: the clock stops while the run is held (paused), so a long pause
 * does not turn into a Director or Verifier timeout.
 */
export async function activeSleep(ctx: RunContext, ms: number, summary?: string): Promise<void> {
  let left = ms;
  while (left > 0) {
    if (ctx.isHeld()) {
      await condition(() => !ctx.isHeld());
      continue;
    }
    const started = Date.now();
    const held = summary ? await condition(() => ctx.isHeld(), left, { summary }) : await condition(() => ctx.isHeld(), left);
    left -= Date.now() - started;
    if (!held) return;
  }
}

/**
 * Runs `fn` in a cancellable scope raced against a workflow timer of active time
 * (docs/architecture.md decision 6). On timeout the scope is cancelled, which cancels its activities.
 */
export async function withTimeout<T>(
  ctx: RunContext,
  ms: number,
  fn: () => Promise<T>,
  /** The timer's label in the Web UI. */
  summary?: string,
): Promise<{ ok: true; value: T } | { ok: false }> {
  const work = new CancellationScope();
  const timer = new CancellationScope();
  const workPromise = work.run(fn);
  const timerPromise = timer.run(() => activeSleep(ctx, ms, summary));
  workPromise.catch(() => undefined);
  timerPromise.catch(() => undefined);
  const winner = await Promise.race([
    workPromise.then(
      (value) => ({ done: true as const, value }),
      (error: unknown) => ({ done: true as const, error }),
    ),
    timerPromise.then(() => ({ done: false as const })),
  ]);
  if (!winner.done) {
    work.cancel();
    await workPromise.catch((err) => {
      if (!isCancellation(err)) throw err;
    });
    return { ok: false };
  }
  timer.cancel();
  if ('error' in winner) throw winner.error;
  return { ok: true, value: winner.value };
}

export function abbreviate(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

/** A reply cut short (output-token limit, content filter) does not end the turn: the role is asked to continue. */
export function outputCutItem(ctx: RunContext, role: string, reason: string): NewItem {
  ctx.event('output_cut', `the reply stopped early (${reason}); asked to continue`, role);
  return { type: 'prompt_message', template: 'output_cut', vars: { reason } };
}
