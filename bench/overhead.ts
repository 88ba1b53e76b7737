/**
 * 1. Orchestration overhead per turn: an inftyRun of N Solver turns (one read_file call each, then
 * the final delivery) against (a) the floor workflow running as many no-op activities as the run
 * executed, on the same server, and (b) the same activity calls made in-process without Temporal.
 * Measured twice: on the default dev server, and on one with the history shard's transfer-queue
 * poll limit at Temporal's default (see TEMPORAL_DEFAULT_TRANSFER_QUEUE), which is where most of a turn's time goes.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import type { ModelStepInput, NewItem } from '../src/protocol/activities';
import { userMessage } from '../src/protocol/items';
import { SOLVER_TOOLS } from '../src/workflows/roleTurn';
import {
  type BenchModel,
  type BenchServer,
  baselineWorker,
  benchRunInput,
  countActivities,
  createActivities,
  fetchEvents,
  fixtureText,
  floorActivities,
  historyBreakdown,
  type InftyHome,
  inftyDeps,
  inftyWorker,
  MODEL_NAME,
  median,
  newHome,
  prepareRunDir,
  round,
  startInfty,
  startModel,
  startServer,
  TEMPORAL_DEFAULT_TRANSFER_QUEUE,
  turnScript,
  uniqueId,
  withWorker,
} from './env';
import { type BenchOutput, fmt, type Row, ratio } from './report';

export interface OverheadSize {
  turns: number;
  warmupTurns: number;
  fixtureBytes: number;
  /** Also measure on a server with the transfer-queue poll limit raised. */
  fastServerVariant: boolean;
}

interface InftyRunTiming {
  runId: string;
  wallMs: number;
  /** Gaps between consecutive Solver requests (steady-state turn time), ms. */
  gaps: number[];
}

async function inftyRun(server: BenchServer, model: BenchModel, home: InftyHome, taskQueue: string, turns: number, fixture: string): Promise<InftyRunTiming> {
  const runId = uniqueId('ovh');
  prepareRunDir(home, runId, fixture);
  const arrivals: number[] = [];
  model.routes.set(runId, turnScript(turns, { onTurn: () => void arrivals.push(performance.now()) }));
  const t0 = performance.now();
  const handle = await startInfty(server, taskQueue, benchRunInput(runId));
  const outcome = (await handle.result()) as { status: string; reason?: string };
  const wallMs = performance.now() - t0;
  model.routes.delete(runId);
  if (outcome.status !== 'delivered') throw new Error(`run ${runId} ended ${outcome.status}: ${outcome.reason ?? ''}`);
  const gaps = arrivals.slice(1, turns + 1).map((t, i) => t - arrivals[i]!);
  return { runId, wallMs, gaps };
}

async function floorRun(server: BenchServer, taskQueue: string, activities: number): Promise<number> {
  const t0 = performance.now();
  const handle = await server.client.workflow.start('floorWorkflow', { workflowId: uniqueId('floor'), taskQueue, args: [activities] });
  await handle.result();
  return performance.now() - t0;
}

/** The same activity calls inftyRun makes, in a plain loop, each in a mocked activity Context. */
async function inProcessRun(model: BenchModel, home: InftyHome, turns: number, fixture: string) {
  const runId = uniqueId('inproc');
  const runDir = prepareRunDir(home, runId, fixture);
  model.routes.set(runId, turnScript(turns));
  const acts = createActivities(inftyDeps(home, model.server));
  // A fresh Context per call, as a worker gives each activity: its own cancellation signal and a
  // later schedule time, so every call claims its resource's fence as a new attempt does.
  let scheduled = Date.now();
  const exec = <A, R>(fn: (input: A) => Promise<R>, input: A): Promise<R> =>
    new MockActivityEnvironment({
      workflowExecution: { workflowId: runId, runId: `${runId}-exec` },
      currentAttemptScheduledTimestampMs: ++scheduled,
    }).run(fn as (input: unknown) => Promise<R>, input);
  const times = { modelStep: 0, runToolCall: 0, modelSteps: 0, toolCalls: 0 };
  let activities = 0;
  const t0 = performance.now();
  const created = await exec(acts.createRun, {
    runId,
    objective: 'Benchmark: read the file and deliver.',
    roles: [
      { role: 'solver', model: undefined },
      { role: 'director', model: undefined },
    ],
    sandbox: 'none' as const,
  });
  activities++;
  let committed = 0;
  let items: NewItem[] = [userMessage('Benchmark: read the file and deliver.')];
  for (;;) {
    const req: ModelStepInput = {
      runId,
      role: 'solver',
      generation: 0,
      committedLength: committed,
      newItems: items,
      model: MODEL_NAME,
      instructions: { kind: 'prompt', name: 'solver' },
      tools: SOLVER_TOOLS,
      outputSchema: 'solver_signal',
      demo: false,
    };
    const s0 = performance.now();
    const step = await exec(acts.modelStep, req);
    times.modelStep += performance.now() - s0;
    times.modelSteps++;
    activities++;
    committed = step.length;
    if (step.toolCalls.length === 0) break;
    items = [];
    for (const call of step.toolCalls) {
      const r0 = performance.now();
      const ref = await exec(acts.runToolCall, {
        runId,
        journalKey: `solver.g0.s${committed}.${call.callId}`,
        runDir: created.runDir || runDir,
        role: 'solver',
        generation: 0,
        call,
        sandbox: 'none' as const,
        allowNetwork: false,
        passEnv: [],
      });
      times.runToolCall += performance.now() - r0;
      times.toolCalls++;
      activities++;
      items.push({ type: 'tool_output_ref', callId: call.callId, journalKey: ref.journalKey });
    }
  }
  const check = await exec(acts.validateDeliverable, { runDir: created.runDir, path: 'deliverable' });
  activities++;
  if (!check.ok) throw new Error(`in-process delivery refused: ${check.reason}`);
  await exec(acts.updateRunRecord, { runId, status: 'delivered' });
  activities++;
  const wallMs = performance.now() - t0;
  model.routes.delete(runId);
  return {
    wallMs,
    activities,
    modelStepMs: times.modelStep / times.modelSteps,
    runToolCallMs: times.runToolCall / Math.max(1, times.toolCalls),
  };
}

interface ServerFigures {
  infty: InftyRunTiming;
  floorMs: number;
  activities: number;
  events: number;
  bd: ReturnType<typeof historyBreakdown>;
}

/** inftyRun of N turns, then the floor with as many no-op activities, on one fresh server. */
async function onServer(size: OverheadSize, fixture: string, dynamicConfig?: Record<string, number>): Promise<ServerFigures> {
  const server = await startServer({ dynamicConfig });
  const model = await startModel();
  try {
    const home = newHome();
    // inftyRun on its own worker (warm-up run first: worker start, caches, JIT).
    const worker = await inftyWorker(server, uniqueId('tq-infty'), inftyDeps(home, model.server));
    const tq = worker.main.options.taskQueue;
    const infty = await withWorker(worker, async () => {
      await inftyRun(server, model, home, tq, size.warmupTurns, fixture);
      return inftyRun(server, model, home, tq, size.turns, fixture);
    });
    const events = await fetchEvents(server, infty.runId);
    const activities = countActivities(events);
    // The floor: as many no-op activities, on the same server.
    const fworker = await baselineWorker(server, uniqueId('tq-floor'), floorActivities());
    const floorMs = await withWorker(fworker, async () => {
      await floorRun(server, fworker.options.taskQueue, Math.min(20, activities));
      return floorRun(server, fworker.options.taskQueue, activities);
    });
    return { infty, floorMs, activities, events: events.length, bd: historyBreakdown(events) };
  } finally {
    await model.close();
    await server.stop();
  }
}

function breakdownPerTurn(f: ServerFigures, N: number) {
  const perTurnOf = (ms: number) => round(ms / N, 2);
  return {
    workflowTaskScheduleToStartMs: perTurnOf(f.bd.workflowTaskScheduleToStart),
    workflowTaskStartToCompleteMs: perTurnOf(f.bd.workflowTaskStartToComplete),
    activityScheduleToStartMs: perTurnOf(Object.values(f.bd.activities).reduce((s, a) => s + a.scheduleToStart, 0)),
    activityStartToCloseMs: perTurnOf(Object.values(f.bd.activities).reduce((s, a) => s + a.startToClose, 0)),
    historySpanMs: perTurnOf(f.bd.span),
    wallMs: round(f.infty.wallMs / N, 2),
  };
}

function figures(f: ServerFigures, N: number) {
  const perTurn = f.infty.wallMs / N;
  const floorPerTurn = f.floorMs / N;
  return {
    activitiesExecuted: f.activities,
    workflowTasks: f.bd.workflowTasks,
    historyEvents: f.events,
    infty: { wallMs: round(f.infty.wallMs), msPerTurn: round(perTurn, 2), steadyMedianMsPerTurn: round(median(f.infty.gaps), 2) },
    floor: { wallMs: round(f.floorMs), msPerTurn: round(floorPerTurn, 2), msPerActivity: round(f.floorMs / f.activities, 2) },
    breakdownPerTurn: breakdownPerTurn(f, N),
    activitiesByType: Object.fromEntries(
      Object.entries(f.bd.activities).map(([name, a]) => [
        name,
        { count: a.count, scheduleToStartMs: round(a.scheduleToStart / a.count, 2), startToCloseMs: round(a.startToClose / a.count, 2) },
      ]),
    ),
  };
}

export async function overheadBench(size: OverheadSize): Promise<BenchOutput> {
  const fixture = fixtureText(size.fixtureBytes);
  const N = size.turns;
  const def = await onServer(size, fixture);
  const fast = size.fastServerVariant ? await onServer(size, fixture, TEMPORAL_DEFAULT_TRANSFER_QUEUE) : undefined;

  // In-process, no Temporal.
  const model = await startModel();
  let inproc: Awaited<ReturnType<typeof inProcessRun>>;
  try {
    const home = newHome();
    await inProcessRun(model, home, size.warmupTurns, fixture);
    inproc = await inProcessRun(model, home, N, fixture);
  } finally {
    await model.close();
  }

  const d = figures(def, N);
  const t = fast ? figures(fast, N) : undefined;
  const inprocPerTurn = inproc.wallMs / N;
  const data = {
    turns: N,
    ...d,
    inProcess: {
      wallMs: round(inproc.wallMs),
      msPerTurn: round(inprocPerTurn, 2),
      activities: inproc.activities,
      modelStepMs: round(inproc.modelStepMs, 2),
      runToolCallMs: round(inproc.runToolCallMs, 2),
    },
    ratios: { inftyOverFloor: round(d.infty.msPerTurn / d.floor.msPerTurn, 2), inftyOverInProcess: round(d.infty.msPerTurn / inprocPerTurn, 2) },
    ...(t
      ? {
          temporalDefaultTransferQueue: {
            dynamicConfig: TEMPORAL_DEFAULT_TRANSFER_QUEUE,
            ...t,
            ratios: {
              inftyOverFloor: round(t.infty.msPerTurn / t.floor.msPerTurn, 2),
              inftyOverInProcess: round(t.infty.msPerTurn / inprocPerTurn, 2),
              defaultOverFast: round(d.infty.msPerTurn / t.infty.msPerTurn, 2),
            },
          },
        }
      : {}),
  };
  const b = d.breakdownPerTurn;
  const acts = (x: typeof d) =>
    Object.entries(x.activitiesByType)
      .filter(([, a]) => a.count >= N)
      .map(([n, a]) => `${n} ${fmt(a.startToCloseMs)} ms`)
      .join(', ');
  const rows: Row[] = [
    {
      metric: `inftyRun, ${N} turns (${d.activitiesExecuted} activities)`,
      value: `${fmt(d.infty.msPerTurn)} ms/turn`,
      note: `steady-state median ${fmt(d.infty.steadyMedianMsPerTurn)} ms between Solver requests`,
    },
    {
      metric: '  vs floor (same no-op activity count)',
      value: `${fmt(d.infty.msPerTurn)} ms/turn`,
      baseline: `${fmt(d.floor.msPerTurn)} ms/turn`,
      ratio: ratio(d.infty.msPerTurn, d.floor.msPerTurn),
      note: `floor ${fmt(d.floor.msPerActivity)} ms/activity`,
    },
    {
      metric: '  vs in-process (no Temporal)',
      value: `${fmt(d.infty.msPerTurn)} ms/turn`,
      baseline: `${fmt(inprocPerTurn, 2)} ms/turn`,
      ratio: ratio(d.infty.msPerTurn, inprocPerTurn, 1),
      note: `in-process modelStep ${fmt(inproc.modelStepMs, 2)} ms, runToolCall ${fmt(inproc.runToolCallMs, 2)} ms`,
    },
    {
      metric: '  per turn: workflow task sched→start',
      value: `${fmt(b.workflowTaskScheduleToStartMs)} ms`,
      note: `${fmt(d.workflowTasks / N)} workflow tasks/turn; dispatch waits on the transfer-queue poll limit`,
    },
    {
      metric: '  per turn: workflow task start→complete',
      value: `${fmt(b.workflowTaskStartToCompleteMs)} ms`,
      note: 'worker runs the workflow code + completion RPC',
    },
    {
      metric: '  per turn: activity sched→start',
      value: `${fmt(b.activityScheduleToStartMs)} ms`,
      note: 'activities are dispatched eagerly with the workflow task completion',
    },
    { metric: '  per turn: activity start→close', value: `${fmt(b.activityStartToCloseMs)} ms`, note: acts(d) },
  ];
  if (t) {
    const tb = t.breakdownPerTurn;
    rows.push(
      {
        metric: `server with Temporal's default transferProcessorMaxPollRPS=20`,
        value: `${fmt(t.infty.msPerTurn)} ms/turn`,
        baseline: `${fmt(d.infty.msPerTurn)} ms/turn embedded (1000)`,
        ratio: ratio(t.infty.msPerTurn, d.infty.msPerTurn),
        note: `Temporal default / Infty's embedded setting; steady median ${fmt(t.infty.steadyMedianMsPerTurn)} ms`,
      },
      {
        metric: '  vs floor on that server',
        value: `${fmt(t.infty.msPerTurn)} ms/turn`,
        baseline: `${fmt(t.floor.msPerTurn)} ms/turn`,
        ratio: ratio(t.infty.msPerTurn, t.floor.msPerTurn),
        note: `floor ${fmt(t.floor.msPerActivity)} ms/activity`,
      },
      {
        metric: '  vs in-process',
        value: `${fmt(t.infty.msPerTurn)} ms/turn`,
        baseline: `${fmt(inprocPerTurn, 2)} ms/turn`,
        ratio: ratio(t.infty.msPerTurn, inprocPerTurn, 1),
      },
      {
        metric: '  per turn: wf task sched→start / run; activities',
        value: `${fmt(tb.workflowTaskScheduleToStartMs)} / ${fmt(tb.workflowTaskStartToCompleteMs)}; ${fmt(tb.activityStartToCloseMs)} ms`,
        note: acts(t),
      },
    );
  }
  return {
    rows,
    data,
    required: [
      'infty.msPerTurn',
      'floor.msPerTurn',
      'inProcess.msPerTurn',
      'ratios.inftyOverFloor',
      'ratios.inftyOverInProcess',
      ...(t ? ['temporalDefaultTransferQueue.infty.msPerTurn', 'temporalDefaultTransferQueue.ratios.inftyOverFloor'] : []),
    ],
  };
}
