#!/usr/bin/env node
'use strict';
/*
 * Health check of a containerised `infty worker` (the Dockerfile's HEALTHCHECK and the `worker`
 * service of docker-compose.yml). Healthy when
 *   - the Temporal frontend at TEMPORAL_ADDRESS (default 127.0.0.1:7233) accepts a TCP connection,
 *     and
 *   - when INFTY_METRICS_PORT is set, the worker's Prometheus endpoint in this container answers
 *     GET /metrics with 200 (the endpoint lives in the worker process, so this also says the
 *     worker is up, not only the container).
 * Exit 0 when healthy, 1 otherwise, with the reason on stderr (`docker inspect` shows it).
 * Plain Node built-ins: the runtime image has no dev dependencies.
 */
const net = require('node:net');
const http = require('node:http');

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
  check().then(
    (problems) => {
      for (const p of problems) process.stderr.write(`unhealthy: ${p}\n`);
      process.exit(problems.length === 0 ? 0 : 1);
    },
    (err) => {
      process.stderr.write(`unhealthy: health check crashed: ${err?.stack ? err.stack : err}\n`);
      process.exit(1);
    },
  );
}

module.exports = { check, parseAddress };
