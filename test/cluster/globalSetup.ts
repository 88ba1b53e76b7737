/**
 * The cluster suite's one Temporal server: production Temporal on PostgreSQL, set up by
 * docker-compose.yml's own scripts (./cluster.ts). Provides the same `temporalAddress` and
 * `workflowBundlePath` as the default suite's setup, so test/support and shared test files work
 * unchanged, and `cluster` for the tests that restart the server.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { writeWorkflowBundle } from '../support/workflowBundle';
import { type ClusterInfo, startCluster } from './cluster';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    workflowBundlePath: string;
    cluster: ClusterInfo;
  }
}

export default async function setup(project: TestProject) {
  const cluster = await startCluster();
  const dir = mkdtempSync(join(tmpdir(), 'infty-cluster-suite-'));
  const steps = Object.entries(cluster.timings)
    .map(([step, s]) => `${step} ${s.toFixed(1)} s`)
    .join(', ');
  console.log(`cluster: Temporal on PostgreSQL at ${cluster.info.address}, namespace ${cluster.info.namespace} (${steps})`);
  project.provide('temporalAddress', cluster.info.address);
  project.provide('workflowBundlePath', await writeWorkflowBundle(dir));
  project.provide('cluster', cluster.info);
  return async () => {
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  };
}
