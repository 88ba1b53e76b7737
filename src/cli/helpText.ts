/**
 * The text after each command's `--help`: examples, and the environment variables the command reads
 * (docs/interface.md §1, §4). Every command of `infty` has an entry here.
 */
import type { Command } from 'commander';

type Env = readonly (readonly [names: string, meaning: string])[];

const TEMPORAL: Env = [
  ['TEMPORAL_ADDRESS', 'Temporal frontend (default: the embedded server on 127.0.0.1:7233, started when none answers)'],
  ['INFTY_EMBEDDED_PORT', 'port of the embedded server when TEMPORAL_ADDRESS is not set (default 7233)'],
  ['TEMPORAL_NAMESPACE', 'namespace (default "default")'],
  ['TEMPORAL_TLS*, TEMPORAL_API_KEY', 'TLS, mTLS certificates, Temporal Cloud API key'],
  ['INFTY_TASK_QUEUE', 'task queue (default "infty")'],
];
const DISK: Env = [
  ['INFTY_HOME', 'transcripts, journals, embedded server database (default ~/.infty)'],
  ['INFTY_RUNS_ROOT', 'run directories (default $INFTY_HOME/runs)'],
];
const MODEL: Env = [
  ['OPENAI_API_KEY', 'model API key'],
  ['OPENAI_BASE_URL', 'any OpenAI-compatible endpoint (default the OpenAI API)'],
  ['INFTY_WIRE_API', 'responses (default) or chat'],
  ['INFTY_MODEL', 'default model of every role (default gpt-5.1)'],
  ['INFTY_STREAM', '0: non-streaming model requests'],
  ['INFTY_PRICES', 'JSON file of model prices over the built-in price table (cost, --cost-budget)'],
];
const WORKER: Env = [
  ['INFTY_STORAGE', 'local (default) or shared'],
  ['INFTY_WORKER_ID', "this worker's identity (default the host name)"],
  ['INFTY_SANDBOX', 'auto (default: do not start without a working bubblewrap) or none (start anyway, unsandboxed)'],
  ['INFTY_COMMAND_MAX_PROCS, INFTY_COMMAND_MAX_MEMORY', "each shell command's process and memory limits (default 1024, 4g; 0: none)"],
  ['INFTY_CONTEXT_WINDOW, INFTY_AUTO_COMPACT_LIMIT', 'context window and compaction threshold in tokens'],
  ['INFTY_WORKER_ACTIVITY_SLOTS, INFTY_WORKER_CACHED_RUNS', 'activities run at once per queue (default 1000); runs kept in the workflow cache'],
  ['INFTY_METRICS_PORT', 'Prometheus endpoint port'],
  ['INFTY_LOG_LEVEL', 'debug: Temporal SDK debug logs'],
];
const VERSIONING: Env = [['INFTY_BUILD_ID, INFTY_DEPLOYMENT_NAME, INFTY_VERSIONING_BEHAVIOR', 'Worker Versioning']];
const EMBEDDED: Env = [['TEMPORAL_CLI', 'the temporal binary of the embedded dev server']];
const TRACES: Env = [['OTEL_EXPORTER_OTLP_ENDPOINT', 'send traces to this OTLP/HTTP collector']];

/** run, create, fork: they start the embedded server and a worker when none answers. */
const STARTS_RUNS: Env = [...TEMPORAL, ...DISK, ...MODEL.map(([n, m]) => [n, `${m} (read by the worker)`] as const), ...EMBEDDED, ...TRACES];
const ASKS_TEMPORAL: Env = [...TEMPORAL, ...TRACES];
const READS_RUNS: Env = [...TEMPORAL, ...DISK, ...TRACES];

const HELP: Record<string, { examples: string[]; env: Env }> = {
  run: {
    examples: [
      'infty run "Write a CSV-to-JSON converter in Python with tests"',
      'infty run --from . --network on "Fix the failing test in test/parser.test.js"',
      'infty run --from . --approval on-request "Upgrade lodash and fix what breaks"',
    ],
    env: STARTS_RUNS,
  },
  create: {
    examples: ['infty create --objective "Write a haiku into deliverable/haiku.txt" --token-budget 200000 --detach'],
    env: STARTS_RUNS,
  },
  fork: { examples: ['infty fork run-20250101-120000 --at-turn 3 --model gpt-5.1'], env: STARTS_RUNS },
  list: { examples: ['infty list', `infty list --where "InftyGoalStatus = 'paused'" --json`], env: READS_RUNS },
  show: { examples: ['infty show run-20250101-120000', 'infty show run-20250101-120000 --json'], env: READS_RUNS },
  watch: { examples: ['infty watch run-20250101-120000', 'infty watch run-20250101-120000 --json | jq -c \'select(.type == "partial")\''], env: ASKS_TEMPORAL },
  verify: { examples: ['infty verify run-20250101-120000'], env: READS_RUNS },
  diff: { examples: ['infty diff run-20250101-120000 --stat', 'infty diff run-20250101-120000 --at-turn 4'], env: DISK },
  apply: { examples: ['infty apply run-20250101-120000 --check', 'infty apply run-20250101-120000 --to ~/src/my-project'], env: DISK },
  goal: { examples: ['infty goal run-20250101-120000', 'infty goal run-20250101-120000 --objective "Also support TSV input"'], env: ASKS_TEMPORAL },
  pause: { examples: ['infty pause run-20250101-120000', `infty pause --where "InftyTokensUsed > 1000000"`], env: ASKS_TEMPORAL },
  resume: { examples: ['infty resume run-20250101-120000', `infty resume --where "InftyGoalStatus = 'paused'" --yes`], env: ASKS_TEMPORAL },
  budget: { examples: ['infty budget run-20250101-120000 500000', 'infty budget run-20250101-120000 none'], env: ASKS_TEMPORAL },
  steer: { examples: ['infty steer run-20250101-120000 "Use pytest, not unittest"'], env: ASKS_TEMPORAL },
  approvals: { examples: ['infty approvals', `infty approvals --where "InftyGoalStatus = 'active'" --json`], env: ASKS_TEMPORAL },
  approve: { examples: ['infty approve run-20250101-120000 call_8f2', 'infty approve run-20250101-120000'], env: ASKS_TEMPORAL },
  deny: { examples: ['infty deny run-20250101-120000 call_8f2 --reason "use the vendored copy in lib/"'], env: ASKS_TEMPORAL },
  cancel: { examples: ['infty cancel run-20250101-120000', `infty cancel --where "StartTime < '2025-01-01T00:00:00Z'"`], env: ASKS_TEMPORAL },
  worker: {
    examples: ['OPENAI_API_KEY=sk-... infty worker', 'OPENAI_BASE_URL=http://localhost:11434/v1 infty worker --build-id 2025-01-01'],
    env: [...MODEL, ...TEMPORAL, ...DISK, ...WORKER, ...VERSIONING, ...TRACES],
  },
  server: {
    examples: ['infty server', 'infty server --port 7300 --db /tmp/temporal.db'],
    env: [['INFTY_HOME', 'holds temporal.db, the default database'], ...EMBEDDED],
  },
  demo: { examples: ['infty demo', 'infty demo --json'], env: [...TEMPORAL, ...DISK, ...EMBEDDED, ...TRACES] },
};

const MAX_NAME_WIDTH = 28;

/** The help text after the options of `command`; undefined for a command without one. */
export function commandHelp(command: string): string | undefined {
  const help = HELP[command];
  if (!help) return undefined;
  // Long name lists go on a line of their own, so one does not push every meaning far right.
  const width = Math.min(MAX_NAME_WIDTH, Math.max(...help.env.map(([names]) => names.length)));
  const line = ([names, meaning]: Env[number]) =>
    names.length > width ? `  ${names}\n  ${' '.repeat(width)}  ${meaning}` : `  ${names.padEnd(width)}  ${meaning}`;
  return [
    '',
    help.examples.length > 1 ? 'Examples:' : 'Example:',
    ...help.examples.map((e) => `  $ ${e}`),
    '',
    'Environment:',
    ...help.env.map(line),
    '  (every variable: docs/interface.md §4)',
  ].join('\n');
}

/** Adds its examples and environment to every subcommand's --help. */
export function addHelpTexts(program: Command): void {
  for (const cmd of program.commands) {
    const text = commandHelp(cmd.name());
    if (text) cmd.addHelpText('after', text);
  }
}
