/** Solver → direction_request → Director → directive (SPEC §3 "Direction"). */
import { directionRequestMessage, parseDirectorReply, type DirectorReply } from '../protocol/director';
import { userMessage } from '../protocol/items';
import { OUTPUT_SCHEMAS } from '../protocol/outputSchemas';
import { RunFailure, type RunContext } from './context';
import { abbreviate, READ_ONLY_TOOLS, roleTurn, withTimeout } from './roleTurn';

export function correctionMessage(error: string, schema: object): string {
  return (
    `Your reply could not be used: ${error}.\n` +
    `Reply with exactly one JSON object (no prose, no code fence) matching this JSON schema:\n` +
    JSON.stringify(schema)
  );
}

/** Asks the Director; returns the directive JSON to forward to the Solver. Fails the run on timeout or a second invalid reply. */
export async function askDirector(ctx: RunContext, prompt: string): Promise<string> {
  ctx.setPhase('directing', 'director');
  ctx.syncSearchAttributes();
  ctx.event('direction_request', abbreviate(prompt, 300), 'solver');
  const timeoutSecs = ctx.input.directorTimeoutSecs;
  const result = await withTimeout(ctx, timeoutSecs * 1000, async (): Promise<DirectorReply | string> => {
    const opts = { schema: 'director_reply' as const, tools: READ_ONLY_TOOLS };
    const first = await roleTurn(ctx, 'director', [userMessage(directionRequestMessage(prompt, ctx.state.goal.objective))], opts);
    const parsed = parseDirectorReply(first.text);
    if (parsed.ok) return parsed.reply;
    const retry = await roleTurn(ctx, 'director', [userMessage(correctionMessage(parsed.error, OUTPUT_SCHEMAS.director_reply))], opts);
    const reparsed = parseDirectorReply(retry.text);
    return reparsed.ok ? reparsed.reply : reparsed.error;
  });
  if (!result.ok) throw new RunFailure(`the Director did not reply within ${timeoutSecs} s (director timeout)`);
  if (typeof result.value === 'string') {
    throw new RunFailure(`the Director's reply was not a valid directive after one corrective retry: ${result.value}`);
  }
  const reply = result.value;
  ctx.event('directive', abbreviate(reply.directive, 300), 'director');
  return JSON.stringify({ directive: reply.directive, rationale: reply.rationale });
}
