/**
 * On a terminal, `infty run` / `infty create` ask about a waiting call where the user sits
 * (docs/interface.md §1 "Approvals"): y approves, n denies (with an optional reason), Enter leaves it
 * waiting for `infty approve` / `infty deny`. A decision made elsewhere meanwhile closes the question.
 */
import { createInterface, type Interface } from 'node:readline/promises';
import type { InftyClient } from '../client';
import type { Hold } from './follow';

export interface ApprovalPrompter {
  onHold(hold: Hold | undefined): void;
  dispose(): void;
}

/** Only when both ends are a terminal: a prompt must never wait on a pipe. */
export function canPrompt(): boolean {
  return process.stdin.isTTY === true && process.stdout.isTTY === true;
}

export function approvalPrompter(infty: InftyClient, runId: string, print: (line: string) => void): ApprovalPrompter {
  let open: { callId: string; abort: AbortController; rl: Interface } | undefined;
  const close = () => {
    if (!open) return;
    open.abort.abort();
    open.rl.close();
    open = undefined;
  };
  const ask = async (callId: string): Promise<void> => {
    const abort = new AbortController();
    const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true });
    // Ctrl+C at the prompt is the same Ctrl+C as anywhere else: stop following (src/cli/interrupt.ts).
    rl.on('SIGINT', () => {
      close();
      process.kill(process.pid, 'SIGINT');
    });
    open = { callId, abort, rl };
    const question = (text: string) => rl.question(text, { signal: abort.signal });
    try {
      const answer = (await question(`approve ${callId}? [y]es / [n]o / Enter: decide later > `)).trim().toLowerCase();
      if (answer === 'y' || answer === 'yes') {
        await infty.approve(runId, callId);
        print(`approved ${callId}`);
      } else if (answer === 'n' || answer === 'no') {
        const reason = (await question('reason for the Solver (Enter: none) > ')).trim();
        await infty.deny(runId, callId, reason || undefined);
        print(`denied ${callId}${reason ? `: ${reason}` : ''}`);
      } else {
        print(`left waiting; decide later with: infty approve ${runId} ${callId}`);
      }
    } catch (err) {
      if (!abort.signal.aborted) print(`not decided here: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      if (open?.callId === callId) close();
    }
  };
  return {
    onHold(hold) {
      const callId = hold?.kind === 'approval' ? hold.call?.callId : undefined;
      if (open && open.callId !== callId) close(); // decided elsewhere, or another hold now
      if (callId && !open) void ask(callId);
    },
    dispose: close,
  };
}
