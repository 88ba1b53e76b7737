/**
 * Where a worker gets Infty's workflow code: the prebuilt bundle, or the sources bundled at start.
 * Every bundle carries the same workflow interceptor modules (workflow spans, docs/interface.md §14).
 */

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkerOptions } from '@temporalio/worker';
import { projectRoot } from './temporalCli';

const compiled = __filename.endsWith('.js');

/** The workflows module (compiled or TypeScript, whichever this process runs). */
export function workflowsPath(): string {
  return join(__dirname, 'workflows', compiled ? 'index.js' : 'index.ts');
}

/** The modules passed as bundleWorkflowCode's workflowInterceptorModules. */
export function workflowInterceptorModules(): string[] {
  return [join(__dirname, 'workflows', compiled ? 'tracing.js' : 'tracing.ts')];
}

/** The modules every workflow on a worker shares (src/workflows/sharedModules.ts). */
export function preloadModules(): string[] {
  return [join(__dirname, 'workflows', compiled ? 'sharedModules.js' : 'sharedModules.ts')];
}

/** What bundleWorkflowCode takes to bundle Infty's workflows, the same for every bundle. */
export function bundleOptions(): { workflowsPath: string; workflowInterceptorModules: string[]; preloadModules: string[] } {
  return { workflowsPath: workflowsPath(), workflowInterceptorModules: workflowInterceptorModules(), preloadModules: preloadModules() };
}

/** INFTY_WORKFLOW_BUNDLE, else the bundle `npm run build` writes, else the sources (bundled now). */
export function workflowSource(): Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath' | 'bundlerOptions'> & { workflowModules?: string[] } {
  const explicit = process.env.INFTY_WORKFLOW_BUNDLE;
  if (explicit) return { workflowBundle: { codePath: explicit } };
  const bundle = join(projectRoot(), 'dist', 'workflow-bundle.js');
  if (compiled && existsSync(bundle)) return { workflowBundle: { codePath: bundle } };
  return { workflowsPath: workflowsPath(), workflowModules: workflowInterceptorModules(), bundlerOptions: { preloadModules: preloadModules() } };
}
