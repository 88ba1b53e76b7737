/**
 * Records the replay fixture of a run whose escalations wait for a person (`approvals` patch,
 * docs/behaviour.md §7.8): one approved, one denied with a reason, one timed out
 * (`approvals-decided.json`). See histories.record.ts: never re-record an old fixture.
 */
import { describe, it } from 'vitest';
import { uniqueId } from '../support/harness';
import { scriptByRole } from '../support/modelScript';
import { addFile, deliver, tools } from '../support/replies';
import { useRecorder } from './recorder';

const escalated = (callId: string, script: string) => ({
  name: 'shell',
  callId,
  arguments: { command: ['bash', '-c', script], sandbox_permissions: 'require_escalated', justification: 'needs the network' },
});

describe('record the approvals fixture', () => {
  const rec = useRecorder();

  it('approved, denied with a reason, timed out', async () => {
    const runId = uniqueId('rec');
    rec.responder = scriptByRole({
      solver: [
        tools(escalated('call_a', 'echo a > a.txt')),
        tools(escalated('call_d', 'echo d > d.txt')),
        tools(escalated('call_t', 'echo t > t.txt')),
        tools(addFile('deliverable/x.txt', ['x'])),
        deliver('deliverable/x.txt'),
      ],
    });
    const decide = (async () => {
      for (const [callId, act] of [
        ['call_a', () => rec.h.infty.approve(runId, 'call_a')],
        ['call_d', () => rec.h.infty.deny(runId, 'call_d', 'not today')],
      ] as const) {
        for (;;) {
          const p = await rec.h.infty.progress(runId).catch(() => undefined);
          if (p?.approvals?.pending.some((x) => x.callId === callId)) break;
          await new Promise((r) => setTimeout(r, 100));
        }
        await act();
      }
    })();
    await rec.h.run({ objective: 'Approvals scenario', verifiers: [], approval: 'on-request', approvalTimeoutSecs: 3, runId });
    await decide;
    await rec.save('approvals-decided', runId);
  });
});
