#!/usr/bin/env node
'use strict';
const { main } = require('../dist/src/cli.js');
main(process.argv).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`infty: ${err?.stack ? err.stack : err}\n`);
    process.exit(1);
  },
);
