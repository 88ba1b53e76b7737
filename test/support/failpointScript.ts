/**
 * The scripted run of the failpoint tests (test/failpoints.test.ts). Stateless like stepScript.ts:
 * the reply depends only on the request (role, purpose, the conversation's last turn), so a
 * request retried after a crash gets the reply its first attempt got, and the script survives the
 * Solver's compaction (which rebuilds the conversation and so breaks counting replies).
 *
 * The run passes every failpoint once: Solver shell (side effect: a line appended to
 * artifacts/log.txt) → apply_patch → read_file with a large input-token count (so the next step
 * compacts the Solver) → compaction → direction request → Director → final delivery → one
 * verifier (read_file + list_dir of the run directory) passes → the feedback is recorded in the
 * Solver's transcript (recordItems) → run.json gets the final status.
 */
import { conversationOf, sinceLastUser } from '../../src/fakeModel/conversation';
import type { RecordedRequest, ScriptedReply, ToolCallSpec, Usage } from './fakeModel';
import { modelReplies } from './stepScript';

export const FP_OBJECTIVE = 'Write deliverable/hello.txt (a greeting) and log each shell step in artifacts/log.txt.';
export const FP_VERIFIERS = ['verifier-alpha'];
/** The Solver's big step reports this many input tokens; the run's autoCompactLimit is below it. */
export const FP_AUTO_COMPACT_LIMIT = 20_000;

/** Call ids of the Solver's tool calls. */
export const FP_SHELL = 'fp_shell';
export const FP_PATCH = 'fp_patch';
export const FP_READ = 'fp_read';
/** The line the shell call appends to artifacts/log.txt (its visible side effect). */
export const FP_SIDE_EFFECT = 'side-effect-of-fp_shell';

const SUMMARY =
  'Handoff summary: hello.txt was written with apply_patch and read back; the shell step logged once. Remaining: ask about the wording, then deliver.';
const DIRECTIVE = { directive: 'Keep the greeting as it is and deliver the deliverable directory.', rationale: 'it already says hello' };

const USAGE: Usage = { inputTokens: 1_000, cachedInputTokens: 0, outputTokens: 20, reasoningTokens: 0 };
const BIG_USAGE: Usage = { ...USAGE, inputTokens: 30_000 };

const say = (text: string, usage: Usage = USAGE): ScriptedReply => ({ kind: 'message', text, usage });
const tools = (calls: ToolCallSpec[], usage: Usage = USAGE): ScriptedReply => ({ kind: 'tool_calls', calls, usage });
const signal = (s: { type: string; prompt?: string; deliverable_path?: string; summary?: string }): ScriptedReply =>
  say(JSON.stringify({ type: s.type, prompt: s.prompt ?? null, deliverable_path: s.deliverable_path ?? null, summary: s.summary ?? null }));
const fault = (message: string): ScriptedReply => ({ kind: 'fault', fault: { kind: 'http', status: 500, message } });

export interface FailpointStep {
  /** e.g. `solver#shell`, `solver:compaction`, `director#0`, `verifier-alpha#1`. */
  label: string;
  reply: ScriptedReply;
}

/** Every label an uninterrupted run requests, once each, in order. */
export const FP_RUN_LABELS = [
  'solver#shell',
  'solver#patch',
  'solver#read',
  'solver:compaction',
  'solver#ask',
  'director#0',
  'solver#deliver',
  'verifier-alpha#0',
  'verifier-alpha#1',
];

export function failpointRunStep(req: RecordedRequest): FailpointStep {
  const role = req.role ?? '(none)';
  if (req.purpose === 'compaction') return { label: `${role}:compaction`, reply: say(SUMMARY) };
  const turns = conversationOf(req);
  const last = turns[turns.length - 1];
  if (role === 'solver') {
    if (last?.kind === 'output') {
      if (last.callId === FP_SHELL) {
        return {
          label: 'solver#patch',
          reply: tools([
            {
              callId: FP_PATCH,
              name: 'apply_patch',
              arguments: { input: ['*** Begin Patch', '*** Add File: deliverable/hello.txt', '+hello, world', '*** End Patch'].join('\n') },
            },
          ]),
        };
      }
      if (last.callId === FP_PATCH) {
        return { label: 'solver#read', reply: tools([{ callId: FP_READ, name: 'read_file', arguments: { path: 'deliverable/hello.txt' } }], BIG_USAGE) };
      }
      if (last.callId === FP_READ)
        return { label: 'solver#ask', reply: signal({ type: 'direction_request', prompt: 'Is "hello, world" the right greeting?' }) };
    }
    if (last?.kind === 'user' && last.text === FP_OBJECTIVE) {
      return {
        label: 'solver#shell',
        reply: tools([
          { callId: FP_SHELL, name: 'shell', arguments: { command: ['bash', '-c', `echo ${FP_SIDE_EFFECT} >> artifacts/log.txt && echo logged`] } },
        ]),
      };
    }
    if (last?.kind === 'user' && last.text.includes('"directive"')) {
      return { label: 'solver#deliver', reply: signal({ type: 'final_delivery', deliverable_path: 'deliverable', summary: 'hello.txt greets the world' }) };
    }
    return { label: 'solver#?', reply: fault(`no scripted Solver reply after ${JSON.stringify(last)}`) };
  }
  if (role === 'director') return { label: `director#${modelReplies(turns)}`, reply: say(JSON.stringify(DIRECTIVE)) };
  if (role === 'verifier-alpha') {
    const step = modelReplies(sinceLastUser(turns));
    if (step === 0) {
      return {
        label: `${role}#0`,
        reply: tools([
          { callId: 'fp_v_read', name: 'read_file', arguments: { path: 'deliverable/hello.txt' } },
          { callId: 'fp_v_list', name: 'list_dir', arguments: { path: '.', depth: 1 } },
        ]),
      };
    }
    return { label: `${role}#${step}`, reply: say(JSON.stringify({ verdict: 'pass', reasons: ['hello.txt greets'], suggestions: [] })) };
  }
  return { label: `${role}#?`, reply: fault(`no script for role ${role}`) };
}
