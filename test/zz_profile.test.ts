import { it } from 'vitest';
import { startHarness, uniqueId } from './support/harness';
import { deliver, say, tools } from './support/replies';
it('profile', async () => {
  const times: number[] = [];
  let turn = 0;
  const TURNS = 200;
  const h = await startHarness({ responder: (req) => {
    if (req.purpose === 'compaction') return say('Summary');
    times.push(Date.now());
    turn += 1;
    return turn >= TURNS ? deliver('deliverable') : tools({ name: process.env.TOOL ?? 'read_file', arguments: { path: 'run.json', limit: 3, plan: [{ step: 'a', status: 'pending' }] } });
  }});
  const runId = uniqueId('p');
  const t0 = Date.now();
  await h.infty.startRun({ runId, objective: 'x', verifiers: [], sandbox: 'none', continueAsNewAfterEvents: 2000, contextWindow: 60000 });
  await h.infty.result(runId);
  const d = times.slice(1).map((t, i) => t - times[i]!);
  d.sort((a, b) => a - b);
  console.log(`total ${Date.now() - t0} ms; per turn median ${d[d.length >> 1]} p90 ${d[Math.floor(d.length * 0.9)]} max ${d[d.length - 1]}`);
  await h.close();
}, 300000);
