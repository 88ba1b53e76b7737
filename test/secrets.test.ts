/**
 * The worker's secrets never leave it: not through a command's environment, not through /proc,
 * not in model requests, transcripts, journals, run files or (decoded) workflow history.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Responder } from './support/fakeModel';
import { filePathsUnder } from './support/files';
import { type Harness, startHarness } from './support/harness';
import { decodedHistoryText } from './support/history';
import { scriptByRole } from './support/modelScript';
import { addFile, deliver, shell, tools } from './support/replies';

const SECRETS = { OPENAI_API_KEY: 'sk-live-TOPSECRET-0123456789abcdef', MY_SERVICE_TOKEN: 'tok-ABCDEFGH-98765' };
const PASSED = { INFTY_TEST_PASSED: 'plainly-passed-value' };

describe('secrets stay in the worker', () => {
  let h: Harness;
  let responder: Responder;
  const saved: Record<string, string | undefined> = {};

  beforeAll(async () => {
    for (const [k, v] of Object.entries({ ...SECRETS, ...PASSED })) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
    h = await startHarness({ responder: (req) => responder(req) });
  });
  afterAll(async () => {
    await h?.close();
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  for (const sandbox of ['auto', 'none'] as const) {
    it(`commands reach no secret (sandbox ${sandbox}): env, /proc of every process, a file holding one; nothing stored anywhere has it`, async () => {
      responder = scriptByRole({
        solver: [
          tools(
            shell('env; echo ---; tr "\\0" "\\n" < /proc/self/environ'),
            shell('for f in /proc/[0-9]*/environ; do tr "\\0" "\\n" < "$f" 2>/dev/null; done | sort -u'),
            shell(`printf '%s\\n' "key=$OPENAI_API_KEY" "passed=$INFTY_TEST_PASSED"`),
          ),
          // A secret that reached the run directory some other way is scrubbed from outputs too.
          tools(shell(`echo "${'${'}HOME}" > /dev/null; printf 'api_key: %s\\n' "$(printf '%s' sk-live-TOPSECRET-0123456789abcde)f" > leaked.cfg`)),
          tools({ name: 'read_file', arguments: { path: 'leaked.cfg' } }, shell('cat leaked.cfg')),
          tools(addFile('deliverable/a.txt', ['a'])),
          deliver('deliverable/a.txt'),
        ],
      });
      const { runId, outcome } = await h.run({ objective: 'x', verifiers: [], sandbox, passEnv: ['INFTY_TEST_PASSED'] });
      expect(outcome.status).toBe('delivered');

      const requests = JSON.stringify(h.model.requests.filter((r) => r.runId === runId).map((r) => r.body));
      expect(requests).toContain('passed=plainly-passed-value'); // passEnv passes what the run asks for
      expect(requests).toContain('[REDACTED:OPENAI_API_KEY]'); // the file's copy was caught by scrubbing
      const stored = [
        requests,
        ...filePathsUnder(join(h.home, 'transcripts', runId)).map((f) => readFileSync(f, 'utf8')),
        ...filePathsUnder(join(h.home, 'journal', runId)).map((f) => readFileSync(f, 'utf8')),
        ...filePathsUnder(join(h.runsRoot, runId))
          .filter((f) => !f.endsWith('leaked.cfg'))
          .map((f) => readFileSync(f, 'utf8')),
        await decodedHistoryText(h.client, runId),
      ];
      for (const text of stored) {
        for (const secret of Object.values(SECRETS)) expect(text).not.toContain(secret);
      }
    });
  }
});
