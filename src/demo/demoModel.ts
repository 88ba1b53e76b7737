/**
 * The offline demo's scripted model: a stateless responder (it decides from the conversation in each
 * request), so a worker that restarts mid-demo continues the same story. Clearly not a real model.
 */
import { conversationOf, sinceLastUser, type Turn, userMessages } from '../fakeModel/conversation';
import { startFakeModelServer } from '../fakeModel/server';
import type { FakeModelServer, RecordedRequest, ScriptedReply } from '../fakeModel/types';

const HAIKU = ['Workers fall and rise', 'the history remembers', 'each step, done once, kept'].join('\n');
const README_V1 = '# Haiku\n\nA haiku about durable execution, written during the Infty demo.\n';
const SYLLABLES = '\n## Syllables\n\n- line 1: 5 (Work-ers fall and rise)\n- line 2: 7 (the his-to-ry re-mem-bers)\n- line 3: 5 (each step, done once, kept)';

const signal = (s: Record<string, string | null>): ScriptedReply => ({
  kind: 'message',
  text: JSON.stringify({ type: null, prompt: null, deliverable_path: null, summary: null, ...s }),
});
const calls = (...c: { name: string; arguments: Record<string, unknown> }[]): ScriptedReply => ({ kind: 'tool_calls', calls: c });
const addFile = (path: string, text: string) => ({
  name: 'apply_patch',
  arguments: {
    input: `*** Begin Patch\n*** Add File: ${path}\n${text
      .split('\n')
      .map((l) => `+${l}`)
      .join('\n')}\n*** End Patch`,
  },
});

function solver(turns: Turn[]): ScriptedReply {
  const users = userMessages(turns);
  const last = users[users.length - 1] ?? '';
  const working = sinceLastUser(turns).some((t) => t.kind === 'output');
  if (last.includes('"verification_feedback"')) {
    if (!working) {
      return calls(
        {
          name: 'apply_patch',
          arguments: {
            input: `*** Begin Patch\n*** Update File: deliverable/README.md\n@@\n ${README_V1.trim().split('\n').pop()}\n${SYLLABLES.split('\n')
              .map((l) => `+${l}`)
              .join('\n')}\n*** End Patch`,
          },
        },
        { name: 'shell', arguments: { command: ['sh', '-c', 'wc -l deliverable/README.md'] } },
      );
    }
    return signal({ type: 'final_delivery', deliverable_path: 'deliverable', summary: 'Haiku plus a README with a syllable breakdown per line.' });
  }
  if (last.includes('"directive"')) {
    if (!working) {
      return calls(addFile('deliverable/haiku.txt', HAIKU), addFile('deliverable/README.md', README_V1), {
        name: 'shell',
        arguments: { command: ['sh', '-c', 'wc -l deliverable/haiku.txt && cat deliverable/haiku.txt'] },
      });
    }
    return signal({ type: 'final_delivery', deliverable_path: 'deliverable', summary: 'A 5-7-5 haiku about durable execution, with a README.' });
  }
  if (!working) {
    return calls(
      {
        name: 'update_plan',
        arguments: {
          plan: [
            { step: 'Draft the haiku', status: 'in_progress' },
            { step: 'Write deliverable/haiku.txt and README.md', status: 'pending' },
            { step: 'Deliver for verification', status: 'pending' },
          ],
        },
      },
      addFile('artifacts/draft.txt', HAIKU),
    );
  }
  return signal({ type: 'direction_request', prompt: 'Strict 5-7-5 syllables, or a freer modern haiku?' });
}

function director(): ScriptedReply {
  return {
    kind: 'message',
    text: JSON.stringify({
      directive: 'Use strict 5-7-5 syllables and document the count of each line.',
      rationale: 'The objective asks for the structure to be explained.',
    }),
  };
}

function verifier(role: string, turns: Turn[]): ScriptedReply {
  const outputs = sinceLastUser(turns).flatMap((t) => (t.kind === 'output' ? [t.text] : []));
  const target = role === 'verifier-alpha' ? 'deliverable/README.md' : 'deliverable/haiku.txt';
  if (outputs.length === 0) return calls({ name: 'read_file', arguments: { path: target } });
  const seen = outputs.join('\n');
  const ok = role === 'verifier-alpha' ? seen.includes('Syllables') : seen.includes('L3:');
  const verdict = ok
    ? { verdict: 'pass', reasons: [`${target} meets the objective`], suggestions: [] }
    : {
        verdict: 'fail',
        reasons: [`${target} does not explain the syllable count of each line`],
        suggestions: ['Add a "Syllables" section with the count per line'],
      };
  return { kind: 'message', text: JSON.stringify(verdict) };
}

/** The `model` every demo reply names: `infty show` lists it as the model that answered, so no one mistakes the demo for a real model. */
export const DEMO_ANSWERING_MODEL = 'infty-demo-scripted';

function scripted(req: RecordedRequest): ScriptedReply {
  const turns = conversationOf(req);
  const role = req.role ?? '';
  if (role === 'solver') return solver(turns);
  if (role === 'director') return director();
  if (role.startsWith('verifier')) return verifier(role, turns);
  return { kind: 'error', status: 400, message: `the demo model has no script for role "${role}"` };
}

export function demoResponder(req: RecordedRequest): ScriptedReply {
  const reply = scripted(req);
  return reply.kind === 'error' ? reply : { ...reply, model: DEMO_ANSWERING_MODEL };
}

export function startDemoModel(): Promise<FakeModelServer> {
  return startFakeModelServer({ responder: demoResponder });
}
