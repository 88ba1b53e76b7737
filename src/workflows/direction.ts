/** Solver → direction_request → Director → directive (docs/behaviour.md §3.1). */
import { directionRequestMessage } from '../protocol/director';
import { userMessage } from '../protocol/items';
import { askForJson } from './ask';
import { type RunContext, RunFailure } from './context';
import { changeView, currentChange } from './project';
import { abbreviate, withTimeout } from './roleTurn';

/** Asks the Director; returns the directive JSON to forward to the Solver. Fails the run on timeout or a second invalid reply. */
export async function askDirector(ctx: RunContext, prompt: string): Promise<string> {
  ctx.setPhase('directing', 'director');
  ctx.syncSearchAttributes();
  ctx.event('direction_request', abbreviate(prompt, 300), 'solver');
  const timeoutSecs = ctx.input.directorTimeoutSecs;
  const change = await currentChange(ctx, false);
  const request = userMessage(directionRequestMessage(prompt, ctx.state.goal.objective, change ? changeView(ctx, change.summary) : undefined));
  const result = await withTimeout(
    ctx,
    timeoutSecs * 1000,
    () => askForJson(ctx, 'director', [request], 'director_reply'),
    `director · timeout (${timeoutSecs} s of active time)`,
  );
  if (!result.ok) throw new RunFailure(`the Director did not reply within ${timeoutSecs} s (director timeout)`);
  const reply = result.value;
  if (!reply.ok) throw new RunFailure(`the Director's reply was not a valid directive after one corrective retry: ${reply.error}`);
  const { directive, rationale } = reply.value;
  ctx.event('directive', abbreviate(directive, 300), 'director');
  return JSON.stringify({ directive, rationale });
}
