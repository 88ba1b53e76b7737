/**
 * `infty worker` tries bubblewrap once before it takes any work (docs/behaviour.md §7.3): without
 * a working sandbox it does not start, unless INFTY_SANDBOX=none acknowledges running without one.
 */
import type { InftyConfig } from '../config';
import { UsageError } from '../errors';
import { sandboxAdvice } from '../host/sandboxAdvice';
import { detectSandbox } from '../worker';
import { note } from './session';

export async function checkWorkerSandbox(config: InftyConfig): Promise<void> {
  const sandbox = await detectSandbox();
  if (sandbox.available) {
    if (config.workerSandbox === 'none') note('INFTY_SANDBOX=none is set, but bubblewrap works here: runs that ask for the sandbox (the default) get it');
    return;
  }
  const advice = sandboxAdvice(sandbox);
  if (config.workerSandbox !== 'none') {
    throw new UsageError(
      `this worker cannot sandbox the Solver's commands, so it does not start: ${advice}. ` +
        "Or set INFTY_SANDBOX=none to run this worker without a sandbox (it then serves only runs started with --sandbox none, whose commands run as the worker's user). Nothing was started.",
    );
  }
  note(
    [
      '==========================================================================',
      "WARNING: NO SANDBOX. INFTY_SANDBOX=none: this worker runs the Solver's commands unsandboxed,",
      "as the worker's user, able to read its files, other runs and its environment.",
      'Runs that ask for the sandbox (--sandbox auto, the default) fail at their start when this worker',
      'creates them; runs started with --sandbox none are served.',
      `Why there is no sandbox: ${advice}.`,
      '==========================================================================',
    ].join('\ninfty: '),
  );
}
