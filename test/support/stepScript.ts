/**
 * A stateless scripted run for durability tests: the reply to a request depends only on the
 * request's conversation (role, how many model replies it already holds, which verification
 * round it is), never on a queue, so a request retried after a crash gets the reply its first
 * attempt got.
 */
import { conversationOf, sinceLastUser, type Turn, userMessages } from '../../src/fakeModel/conversation';
import type { RecordedRequest, ScriptedReply, ToolCallSpec } from './fakeModel';

/** How many model replies (an assistant message and/or a batch of tool calls) the turns hold. */
export function modelReplies(turns: Turn[]): number {
  let n = 0;
  let inReply = false;
  for (const t of turns) {
    const fromModel = t.kind === 'assistant' || t.kind === 'call';
    if (fromModel && !inReply) n += 1;
    inReply = fromModel;
  }
  return n;
}

const say = (text: string): ScriptedReply => ({ kind: 'message', text });
const signal = (s: { type: string; prompt?: string; deliverable_path?: string; summary?: string }): ScriptedReply =>
  say(JSON.stringify({ type: s.type, prompt: s.prompt ?? null, deliverable_path: s.deliverable_path ?? null, summary: s.summary ?? null }));
const verdict = (v: 'pass' | 'fail', reasons: string[] = [], suggestions: string[] = []): ScriptedReply =>
  say(JSON.stringify({ verdict: v, reasons, suggestions }));
const tools = (...calls: ToolCallSpec[]): ScriptedReply => ({ kind: 'tool_calls', calls });

const shell = (callId: string, cmd: string): ToolCallSpec => ({ callId, name: 'shell', arguments: { command: ['bash', '-c', cmd] } });
const patch = (callId: string, lines: string[]): ToolCallSpec => ({
  callId,
  name: 'apply_patch',
  arguments: { input: ['*** Begin Patch', ...lines, '*** End Patch'].join('\n') },
});
const readFile = (callId: string, path: string): ToolCallSpec => ({ callId, name: 'read_file', arguments: { path } });
const listDir = (callId: string, path: string): ToolCallSpec => ({ callId, name: 'list_dir', arguments: { path } });

/** The side-effecting shell step: appends its label to artifacts/log.txt (after sleeping a second, so a kill can land inside it). */
export const appendStep = (label: string, then = '') => `sleep 1; echo ${label} >> artifacts/log.txt${then ? `; ${then}` : ''}`;

export const CRASH_OBJECTIVE =
  'Write deliverable/hello.sh, a POSIX shell script that greets, with sample output in deliverable/out.txt and a README; keep a log in artifacts/log.txt.';
export const CRASH_VERIFIERS = ['verifier-alpha', 'verifier-beta'];

const FIRST = 'first delivery: hello.sh and out.txt';
const SECOND = 'second delivery: README added';

/** Solver replies by step (= model replies already in its conversation). */
const SOLVER: ScriptedReply[] = [
  /* 0 */ tools(
    {
      callId: 's0_0',
      name: 'update_plan',
      arguments: {
        plan: [
          { step: 'write hello.sh', status: 'in_progress' },
          { step: 'deliver', status: 'pending' },
        ],
      },
    },
    shell('s0_1', appendStep('step-1')),
  ),
  /* 1 */ tools(patch('s1_0', ['*** Add File: deliverable/hello.sh', '+#!/bin/sh', '+echo hello'])),
  /* 2 */ tools(shell('s2_0', appendStep('step-2', 'cat deliverable/hello.sh')), readFile('s2_1', 'deliverable/hello.sh')),
  /* 3 */ signal({ type: 'direction_request', prompt: 'Should hello.sh greet someone by name?' }),
  /* 4 */ tools(
    // biome-ignore lint/suspicious/noTemplateCurlyInString: ${1:-world} is shell parameter expansion in the patched script
    patch('s4_0', ['*** Update File: deliverable/hello.sh', '@@', ' #!/bin/sh', '-echo hello', '+echo "hello, ${1:-world}"']),
    shell('s4_1', appendStep('step-3')),
  ),
  /* 5 */ tools(shell('s5_0', appendStep('step-4', 'sh deliverable/hello.sh infty > deliverable/out.txt && cat deliverable/out.txt'))),
  /* 6 */ signal({ type: 'final_delivery', deliverable_path: 'deliverable', summary: FIRST }),
  /* 7 */ tools(
    patch('s7_0', ['*** Add File: deliverable/README.md', '+# hello.sh', '+', '+Run `sh hello.sh NAME`; prints `hello, NAME` (default: world).']),
    shell('s7_1', appendStep('step-5')),
  ),
  /* 8 */ tools(shell('s8_0', appendStep('step-6', 'wc -l < deliverable/README.md'))),
  /* 9 */ signal({ type: 'final_delivery', deliverable_path: 'deliverable', summary: SECOND }),
];

export interface ScriptStep {
  /** e.g. `solver#3`, `director#0`, `verifier-alpha@1#0` (round 1, step 0 of that round). */
  label: string;
  reply: ScriptedReply;
}

function round(turns: Turn[]): number {
  const last = userMessages(turns).pop() ?? '';
  return last.includes(SECOND) ? 2 : 1;
}

/** The scripted reply for any request of the crash run (pure function of the request). */
export function crashRunStep(req: RecordedRequest): ScriptStep {
  const turns = conversationOf(req);
  const role = req.role ?? '(none)';
  if (role === 'solver') {
    const step = modelReplies(turns);
    const reply = SOLVER[step];
    if (!reply)
      return { label: `solver#${step}`, reply: { kind: 'fault', fault: { kind: 'http', status: 500, message: `solver step ${step} is not scripted` } } };
    return { label: `solver#${step}`, reply };
  }
  if (role === 'director') {
    const step = modelReplies(turns);
    return {
      label: `director#${step}`,
      reply: say(
        JSON.stringify({
          directive: 'Yes: take an optional NAME argument (default "world") and record sample output in deliverable/out.txt.',
          rationale: 'a greeting should be reusable',
        }),
      ),
    };
  }
  if (role.startsWith('verifier')) {
    const r = round(turns);
    const step = modelReplies(sinceLastUser(turns));
    const label = `${role}@${r}#${step}`;
    const id = `${role.replace('verifier-', 'v')}${r}_${step}`;
    if (role === 'verifier-alpha') {
      if (step === 0)
        return {
          label,
          reply:
            r === 1
              ? tools(readFile(`${id}_0`, 'deliverable/hello.sh'), listDir(`${id}_1`, 'deliverable'))
              : tools(readFile(`${id}_0`, 'deliverable/README.md')),
        };
      return { label, reply: verdict('pass', [r === 1 ? 'hello.sh greets as asked' : 'README documents usage']) };
    }
    // verifier-beta: fails the first delivery (no README), checks the README on the second.
    if (r === 1) return { label, reply: verdict('fail', ['deliverable/README.md is missing'], ['add a README with usage']) };
    if (step === 0) return { label, reply: tools(readFile(`${id}_0`, 'deliverable/README.md')) };
    return { label, reply: verdict('pass', ['README present']) };
  }
  return { label: `${role}#?`, reply: { kind: 'fault', fault: { kind: 'http', status: 500, message: `no script for role ${role}` } } };
}

/** Every label a complete crash run requests once, in order (verifiers of a round in parallel). */
export const CRASH_RUN_LABELS = [
  ...SOLVER.slice(0, 4).map((_, i) => `solver#${i}`),
  'director#0',
  'solver#4',
  'solver#5',
  'solver#6',
  'verifier-alpha@1#0',
  'verifier-beta@1#0',
  'verifier-alpha@1#1',
  'solver#7',
  'solver#8',
  'solver#9',
  'verifier-alpha@2#0',
  'verifier-beta@2#0',
  'verifier-alpha@2#1',
  'verifier-beta@2#1',
];

/** Calls of the crash run whose side effects are journaled (shell, apply_patch) with the log label of the shell ones. */
export const SHELL_STEP_LABELS: Record<string, string> = {
  s0_1: 'step-1',
  s2_0: 'step-2',
  s4_1: 'step-3',
  s5_0: 'step-4',
  s7_1: 'step-5',
  s8_0: 'step-6',
};
