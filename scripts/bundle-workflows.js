#!/usr/bin/env node
// Prebuilds the workflow bundle at build time so `infty worker` starts without bundling.
'use strict';
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { bundleWorkflowCode } = require('@temporalio/worker');
const { bundleOptions } = require('../dist/src/workflowBundle');

const root = join(__dirname, '..');
const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error };
bundleWorkflowCode({ ...bundleOptions(), logger: quiet }).then(
  ({ code }) => writeFileSync(join(root, 'dist', 'workflow-bundle.js'), code),
  (err) => {
    console.error(`infty: could not bundle the workflows: ${err.message}`);
    process.exit(1);
  },
);
