/** The workflow bundle a suite's test workers share, written once to `dir`. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { workflowInterceptorModules, workflowsPath } from '../../src/workflowBundle';

export async function writeWorkflowBundle(dir: string): Promise<string> {
  const bundle = await bundleWorkflowCode({
    workflowsPath: workflowsPath(),
    workflowInterceptorModules: workflowInterceptorModules(),
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error },
  });
  const bundlePath = join(dir, 'workflow-bundle.js');
  writeFileSync(bundlePath, bundle.code);
  return bundlePath;
}
