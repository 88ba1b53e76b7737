#!/usr/bin/env node
'use strict';
/*
 * Health check of a containerised `infty worker` (the Dockerfile's HEALTHCHECK and the `worker`
 * service of docker-compose.yml). Healthy when
 *   - the Temporal frontend at TEMPORAL_ADDRESS (default 127.0.0.1:7233) accepts a TCP connection,
 *     and
 *   - when INFTY_METRICS_PORT is set, the worker's Prometheus endpoint in this container answers
 *     GET /metrics with 200 (the endpoint lives in the worker process, so this also says the
 *     worker is up, not only the container), and
 *   - bubblewrap can build the shell tool's sandbox in this container (the same probe the worker
 *     runs at its start, from the built code), unless INFTY_SANDBOX=none acknowledges running
 *     without one (docs/behaviour.md §7.3). The sandbox state is printed on stdout either way.
 * Exit 0 when healthy, 1 otherwise, with the reason on stderr (`docker inspect` shows both).
 * Plain Node built-ins and the built code: the runtime image has no dev dependencies.
 */
const net = require('node:net');
const http = require('node:http');
const path = require('node:path');

/** The built sandbox probe and advice (dist/, as the worker runs them). */
function builtModule(relative) {
  return require(path.join(__dirname, '..', 'dist', 'src', relative));
}

/** `{ ok, text }`: whether the sandbox is as the worker needs it, and its state in one line. */
async function sandboxState(env = process.env) {
  const acknowledged = (env.INFTY_SANDBOX || '').toLowerCase() === 'none';
  let detection;
  try {
    detection = await builtModule('activities/tools/sandbox.js').detectSandbox();
  } catch (err) {
    return { ok: false, text: `sandbox: cannot run the probe (${err.message}); is the project built (dist/)?` };
  }
  if (detection.available) return { ok: true, text: `sandbox: bubblewrap works (${detection.bwrap})` };
  const advice = builtModule('host/sandboxAdvice.js').sandboxAdvice(detection);
  if (acknowledged) return { ok: true, text: `sandbox: none (INFTY_SANDBOX=none): commands run unsandboxed; ${advice}` };
  return { ok: false, text: `sandbox: ${advice}; or set INFTY_SANDBOX=none to run the worker without a sandbox` };
}

const DEFAULT_TIMEOUT_MS = 3000;

/** `host:port` or `[ipv6]:port` (an optional scheme is ignored). */
function parseAddress(address) {
  const bare = address.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').replace(/\/.*$/, '');
  const match = /^\[([^\]]+)\]:(\d+)$/.exec(bare) || /^([^:[\]]+):(\d+)$/.exec(bare);
  if (!match) throw new Error(`TEMPORAL_ADDRESS must be host:port, got "${address}"`);
  const port = Number(match[2]);
  if (!(port > 0 && port < 65536)) throw new Error(`TEMPORAL_ADDRESS has no valid port: "${address}"`);
  return { host: match[1], port };
}

function tcpConnect(host, port, timeoutMs) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const fail = (reason) => {
      socket.destroy();
      reject(new Error(reason));
    };
    socket.setTimeout(timeoutMs, () => fail(`no answer from ${host}:${port} within ${timeoutMs} ms`));
    socket.once('connect', () => {
      socket.end();
      resolve();
    });
    socket.once('error', (err) => fail(`cannot connect to ${host}:${port}: ${err.code || err.message}`));
  });
}

function httpOk(port, timeoutMs) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/metrics', timeout: timeoutMs }, (res) => {
      res.resume();
      if (res.statusCode === 200) resolve();
      else reject(new Error(`metrics endpoint 127.0.0.1:${port}/metrics answered HTTP ${res.statusCode}`));
    });
    req.once('timeout', () => req.destroy(new Error(`metrics endpoint 127.0.0.1:${port} did not answer within ${timeoutMs} ms`)));
    req.once('error', (err) => reject(new Error(err.code ? `metrics endpoint 127.0.0.1:${port}: ${err.code}` : err.message)));
  });
}

/** The problems found (an empty list when healthy). */
async function check(env = process.env) {
  const timeoutMs = Number(env.INFTY_HEALTHCHECK_TIMEOUT_MS) || DEFAULT_TIMEOUT_MS;
  const problems = [];
  const address = env.TEMPORAL_ADDRESS || '127.0.0.1:7233';
  try {
    const { host, port } = parseAddress(address);
    await tcpConnect(host, port, timeoutMs);
  } catch (err) {
    problems.push(`Temporal: ${err.message}`);
  }
  const sandbox = await sandboxState(env);
  if (!sandbox.ok) problems.push(sandbox.text);
  if (env.INFTY_METRICS_PORT) {
    const port = Number(env.INFTY_METRICS_PORT);
    if (!Number.isInteger(port) || port <= 0 || port > 65535) {
      problems.push(`INFTY_METRICS_PORT is not a port number: "${env.INFTY_METRICS_PORT}"`);
    } else {
      try {
        await httpOk(port, timeoutMs);
      } catch (err) {
        problems.push(`worker: ${err.message}`);
      }
    }
  }
  return problems;
}

if (require.main === module) {
  Promise.all([check(), sandboxState()]).then(
    ([problems, sandbox]) => {
      if (sandbox.ok) process.stdout.write(`${sandbox.text}\n`);
      for (const p of problems) process.stderr.write(`unhealthy: ${p}\n`);
      process.exit(problems.length === 0 ? 0 : 1);
    },
    (err) => {
      process.stderr.write(`unhealthy: health check crashed: ${err?.stack ? err.stack : err}\n`);
      process.exit(1);
    },
  );
}

module.exports = { check, parseAddress, sandboxState };
