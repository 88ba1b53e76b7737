/** One real Temporal dev server for the whole suite, and one workflow bundle shared by every test worker. */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { freePort, startDevServer } from '../src/server';
import { writeWorkflowBundle } from './support/workflowBundle';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    workflowBundlePath: string;
  }
}

export default async function setup(project: TestProject) {
  const dir = mkdtempSync(join(tmpdir(), 'infty-suite-'));
  const port = await freePort();
  // In-memory: the suite measures behaviour, not SQLite fsyncs (persistence has its own tests).
  const server = await startDevServer({ port, headless: true });
  project.provide('temporalAddress', server.address);
  project.provide('workflowBundlePath', await writeWorkflowBundle(dir));
  return async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  };
}
