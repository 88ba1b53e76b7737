/** The `infty` command (docs/interface.md). Exit codes (§3): 0 ok, 1 run not delivered, 2 usage/input or refused by Temporal, 3 unreachable. */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { approve, deny, listApprovals } from './cli/approvals';
import { budget, cancel, setStatus, steer } from './cli/control';
import { type CreateFlags, parsePositiveInt, runInputFromFlags } from './cli/flags';
import { type FleetFlags, fleet, singleRun, withFleetOptions } from './cli/fleet';
import type * as ForkCommand from './cli/fork';
import { addHelpTexts } from './cli/helpText';
import { goal, list, show, watch } from './cli/inspect';
import type * as LocalProcesses from './cli/local';
import { apply, diff } from './cli/project';
import { note } from './cli/session';
import type * as StartCommands from './cli/start';
import { verify } from './cli/verify';
import { type InftyConfig, loadConfig, withVersioningFlags } from './config';
import { UnreachableError, UsageError } from './errors';
import { temporalFailure } from './host/temporalErrors';
import { REASONING_EFFORTS } from './protocol/reasoning';
import { type DevServerHandle, startDevServer } from './server';
import { projectRoot } from './temporalCli';
import type * as WorkerModule from './worker';
import type { Tracing } from './worker';

// Commands that may run a worker load its modules (@temporalio/worker, the activities) only when
// they run: the others start about half a second sooner.
const starting = async () => require('./cli/start') as typeof StartCommands;
const forking = async () => require('./cli/fork') as typeof ForkCommand;
const local = async () => require('./cli/local') as typeof LocalProcesses;

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function addCreateFlags(cmd: Command): Command {
  return cmd
    .option('--run-id <id>', 'run id (default run-YYYYMMDD-HHMMSS, UTC)')
    .option('--verifier <name>', 'a verifier role (repeatable; default: verifier-alpha, -beta, -gamma)', collect)
    .option('--no-verifiers', 'run without verifiers (a delivery passes unverified)')
    .option('--token-budget <n>', 'token budget of the goal (non-cached input + output tokens)')
    .option('--cost-budget <usd>', 'cost budget of the goal in US dollars, from the price table and INFTY_PRICES (refused for a model without a known price)')
    .option('--model <m>', 'model for every role (default INFTY_MODEL)')
    .option('--solver-model <m>', 'model of the Solver')
    .option('--director-model <m>', 'model of the Director')
    .option('--verifier-model <m>', 'model of the Verifiers')
    .option('--reasoning-effort <effort>', `reasoning effort of every role: ${REASONING_EFFORTS.join(', ')} (default: the model's)`)
    .option('--solver-reasoning-effort <effort>', 'reasoning effort of the Solver')
    .option('--director-reasoning-effort <effort>', 'reasoning effort of the Director')
    .option('--verifier-reasoning-effort <effort>', 'reasoning effort of the Verifiers')
    .option('--director-timeout-secs <s>', 'how long to wait for the Director (default 1200)')
    .option('--verifier-timeout-secs <s>', 'how long to wait for each Verifier (default 1800)')
    .option(
      '--mcp <spec>',
      'an MCP server whose tools the run offers: NAME=COMMAND [ARGS…] (stdio, split as a shell would) or NAME=https://… (streamable HTTP); repeatable; adds to / replaces those of $INFTY_HOME/mcp.json',
      collect,
    )
    .option('--no-mcp-config', 'ignore $INFTY_HOME/mcp.json')
    .option('--pass-env <name>', "pass this worker environment variable to the Solver's commands (repeatable; all others are withheld)", collect)
    .addOption(new Option('--sandbox <mode>', 'shell sandbox: auto (bubblewrap, refuse without it) or none').choices(['auto', 'none']))
    .option('--network <on|off>', 'network inside the shell sandbox (default off; with --sandbox none commands always have the network)')
    .option(
      '--from <path>',
      'start from a copy of this project directory (a git work tree: the files git lists, uncommitted changes included); `infty diff` / `infty apply` hand the change back',
    )
    .option('--from-git <url[#ref]>', 'start from a clone of this git repository at ref (branch, tag or commit; default its HEAD), made by the worker')
    .option('--deliver <mode>', 'with --from/--from-git: path (what the Solver delivers, default) or diff (the patch of the change is the deliverable)')
    .option('--no-project-docs', "read no AGENTS.md ($INFTY_HOME/AGENTS.md and the project's)")
    .option(
      '--approval <policy>',
      'which tool calls wait for a person: never (default: escalation requests are refused), on-request (a command asking for network waits), untrusted (also every command outside the read-only safe list, and MCP tools not marked read-only)',
    )
    .option('--approval-timeout <duration>', 'deny a waiting call nobody decided within this long (e.g. 30m, 2h, 1d; default: wait until decided)')
    .option('--detach', 'start the run and return at once')
    .option('--json', 'print exactly one JSON document (the outcome, or {runId, status} with --detach)')
    .option('--exit-on-hold', 'stop following and exit 4 when the run is held (paused with a reason, e.g. a failing model endpoint); the run stays durable');
}

async function serve(config: InftyConfig, opts: { port: string; uiPort?: string; db?: string }): Promise<number> {
  const port = parsePositiveInt(opts.port, '--port');
  const uiPort = opts.uiPort ? parsePositiveInt(opts.uiPort, '--ui-port') : port + 1000;
  const dbFile = opts.db ?? join(config.home, 'temporal.db');
  let server: DevServerHandle;
  try {
    server = await startDevServer({ port, uiPort, dbFile });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  process.stdout.write(
    `Temporal dev server on ${server.address} (namespace default, SQLite ${dbFile})\n` + `Web UI: ${server.uiUrl ?? '(headless)'}\nCtrl+C stops it.\n`,
  );
  const stop = async () => {
    note('stopping the Temporal server…');
    await server.stop();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const code = await server.exited;
  return code === 0 || code === null ? 0 : 1;
}

/** The version in this package's package.json (`infty --version`). */
function packageVersion(): string {
  return (JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

function buildProgram(run: (fn: (config: InftyConfig) => Promise<number>) => Promise<void>): Command {
  const program = new Command('infty')
    .description('Infty on Temporal: durable Solver / Director / Verifier runs, each a Temporal workflow')
    .version(packageVersion(), '-V, --version', 'print the version of infty')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride(); // inherited by the subcommands below: usage errors exit 2, not commander's 1

  addCreateFlags(
    program.command('run').description('the main job: start a run for an objective and follow it').argument('<objective>', 'what the run must achieve'),
  ).action((objective: string, flags: CreateFlags) =>
    run(async (c) => (await starting()).startRun(c, runInputFromFlags({ ...flags, objective }, new Date(), c.home), flags)),
  );
  addCreateFlags(
    program.command('create').description('start a run (same as run, with --objective)').requiredOption('--objective <text>', 'what the run must achieve'),
  ).action((flags: CreateFlags) => run(async (c) => (await starting()).startRun(c, runInputFromFlags(flags, new Date(), c.home), flags)));
  program
    .command('fork')
    .description("start a new run from a run's transcripts (shared, not copied) and files as of a Solver turn")
    .argument('<run-id>', 'the source run (unchanged by the fork)')
    .requiredOption('--at-turn <k>', 'the Solver turn to fork at (1 … the turns the source has completed)')
    .option('--run-id <id>', 'the new run id (default: run-<timestamp>)')
    .option('--model <model>', "every role's model in the fork (default: the source's)")
    .option('--token-budget <n>', 'token budget of the fork')
    .option('--objective <text>', "the fork's objective (default: the source's)")
    .option('--detach', 'start it and return without following')
    .option('--json', 'print the outcome as JSON')
    .action((id: string, f) => run(async (c) => (await forking()).fork(c, id, f)));
  program
    .command('list')
    .description('runs, newest first')
    .option('--where <query>', 'only runs this Temporal visibility query matches')
    .option('--json', 'print a JSON array')
    .action((f) => run((c) => list(c, f)));
  program
    .command('show')
    .description('run.json, workflow status, goal, per-role statistics, last events')
    .argument('<run-id>')
    .option('--json', 'print the progress object')
    .action((id: string, f) => run((c) => show(c, id, f)));
  program
    .command('watch')
    .description('live progress until the run ends, with the text a running model step writes and the output of a running command')
    .argument('<run-id>')
    .option('--json', 'JSON lines: events, phase changes, partial output, holds, then the outcome')
    .option('--exit-on-hold', 'stop following and exit 4 when the run is held (paused with a reason, e.g. a failing model endpoint); the run stays durable')
    .action((id: string, f) => run((c) => watch(c, id, f)));
  program
    .command('verify')
    .description("check that a delivered run's deliverable on disk is still what the Verifiers passed (exit 0 unchanged, 1 changed)")
    .argument('<run-id>')
    .option('--json', 'print {runId, path, kind, verifiedHash, currentHash, unchanged, diff?}')
    .action((id: string, f) => run((c) => verify(c, id, f)));
  program
    .command('diff')
    .description("a project run's change against its starting tree, as a unified git diff (renames detected, binary files named)")
    .argument('<run-id>')
    .option('--stat', 'a diffstat instead of the patch')
    .option('--at-turn <k>', 'the change as of Solver turn K (from its snapshot)')
    .action((id: string, f) => run((c) => diff(c, id, f)));
  program
    .command('apply')
    .description("apply a project run's change to a git checkout with a three-way merge (on a conflict nothing changes, exit 1)")
    .argument('<run-id>')
    .option('--to <path>', "the checkout to change (default: the run's --from directory)")
    .option('--check', 'only say whether it applies cleanly; change nothing')
    .action((id: string, f) => run((c) => apply(c, id, f)));
  program
    .command('goal')
    .description("the run's goal; with --objective, change the objective")
    .argument('<run-id>')
    .option('--objective <text>', 'replace the objective (trimmed, 1–4000 characters); the Solver is told with its next model call')
    .option('--json', 'print the goal object')
    .action((id: string, f) => run((c) => goal(c, id, f)));
  withFleetOptions(program.command('pause').description('pause the goal (no new model calls)').argument('[run-id]')).action(
    (id: string | undefined, f: FleetFlags) =>
      run((c) => (f.where === undefined ? setStatus(c, singleRun(id, f, 'pause'), 'paused') : fleet(c, 'pause', [id], f))),
  );
  withFleetOptions(program.command('resume').description('resume a paused goal').argument('[run-id]')).action((id: string | undefined, f: FleetFlags) =>
    run((c) => (f.where === undefined ? setStatus(c, singleRun(id, f, 'resume'), 'active') : fleet(c, 'resume', [id], f))),
  );
  withFleetOptions(
    program
      .command('budget')
      .description('set or clear the token budget (with --cost: the cost budget in US dollars)')
      .argument('[run-id]', 'the run (omitted with --where)')
      .argument('[tokens]', 'a positive whole number, or "none" (with --cost: US dollars, or "none")')
      .option('--cost', 'set the cost budget (US dollars, from the price table) instead of the token budget'),
  ).action((id: string | undefined, value: string | undefined, f: FleetFlags & { cost?: boolean }) =>
    run((c) => {
      if (f.where === undefined) return budget(c, singleRun(id, f, 'budget'), value ?? '', { cost: f.cost });
      if (f.cost) throw new UsageError('infty budget --cost takes one run id, not --where');
      return fleet(c, 'budget', [id, value], f);
    }),
  );
  program
    .command('approvals')
    .description('list the tool calls waiting for a person, across running runs')
    .option('--where <query>', 'only runs this Temporal visibility query matches')
    .option('--json', 'print a JSON array of the waiting calls')
    .action((f) => run((c) => listApprovals(c, f)));
  program
    .command('approve')
    .description('let a waiting tool call run (without CALL_ID: every call of the run that waits)')
    .argument('<run-id>')
    .argument('[call-id]')
    .action((id: string, callId: string | undefined) => run((c) => approve(c, id, callId)));
  program
    .command('deny')
    .description('refuse a waiting tool call; the Solver gets the reason as its output')
    .argument('<run-id>')
    .argument('<call-id>')
    .option('--reason <text>', 'why (the Solver reads it)')
    .action((id: string, callId: string, f: { reason?: string }) => run((c) => deny(c, id, callId, f.reason)));
  program
    .command('steer')
    .description("queue a message for the Solver's next turn")
    .argument('<run-id>')
    .argument('<message>')
    .action((id: string, message: string) => run((c) => steer(c, id, message)));
  withFleetOptions(program.command('cancel').description('cancel the run').argument('[run-id]')).action((id: string | undefined, f: FleetFlags) =>
    run((c) => (f.where === undefined ? cancel(c, singleRun(id, f, 'cancel')) : fleet(c, 'cancel', [id], f))),
  );
  program
    .command('worker')
    .description('run a worker on the task queue')
    .option('--build-id <id>', 'Worker Versioning: poll as this build of the Worker Deployment (default INFTY_BUILD_ID; unversioned without)')
    .option('--deployment-name <name>', 'the Worker Deployment (default INFTY_DEPLOYMENT_NAME, else "infty")')
    .action((f: { buildId?: string; deploymentName?: string }) =>
      run(async (c) => {
        await (await local()).runWorkerForever(withVersioningFlags(c, f));
        return 0;
      }),
    );
  program
    .command('server')
    .description('run the embedded Temporal development server (persistent SQLite)')
    .option('--port <port>', 'gRPC port', '7233')
    .option('--ui-port <port>', 'Web UI port (default port + 1000)')
    .option('--db <file>', 'SQLite database file (default $INFTY_HOME/temporal.db)')
    .action((f) => run((c) => serve(c, f)));
  program
    .command('demo')
    .description('a complete run end to end, offline, with a scripted model')
    .option('--json', 'print the outcome as JSON')
    .action((f) => run(async (c) => (await starting()).demo(c, f)));
  addHelpTexts(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  let exitCode = 0;
  let command = '';
  const run = async (fn: (config: InftyConfig) => Promise<number>) => {
    let config: InftyConfig | undefined;
    try {
      config = loadConfig();
      const tracing = await tracingFor(config, command);
      try {
        exitCode = await fn(config);
      } finally {
        await tracing?.shutdown();
      }
    } catch (err) {
      exitCode = reportError(err, config);
    }
  };
  const program = buildProgram(run);
  program.hook('preAction', (_program, action) => {
    command = action.name();
  });
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.code === 'commander.helpDisplayed' || err.code === 'commander.help' || err.code === 'commander.version' ? 0 : 2;
    }
    return reportError(err);
  }
  return exitCode;
}

/** Traces when OTEL_EXPORTER_OTLP_ENDPOINT is set (docs/interface.md §14), flushed when the command ends. */
async function tracingFor(config: InftyConfig, command: string): Promise<Tracing | undefined> {
  if (!config.otlpEndpoint) return undefined;
  const { startTracing } = require('./worker') as typeof WorkerModule;
  return startTracing({ endpoint: config.otlpEndpoint, serviceName: command === 'worker' ? 'infty-worker' : 'infty-cli' });
}

/** The exit code of a failed command (docs/interface.md §3), its reason on stderr; a failed Temporal request is read by host/temporalErrors.ts. */
function reportError(err: unknown, config?: InftyConfig): number {
  const known = err instanceof UsageError || err instanceof UnreachableError ? err : config && temporalFailure(err, config);
  if (known) {
    process.stderr.write(`infty: ${known.message}\n`);
    return known.exitCode;
  }
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`infty: unexpected error: ${err instanceof Error ? (err.stack ?? message) : message}\n`);
  return 1;
}
