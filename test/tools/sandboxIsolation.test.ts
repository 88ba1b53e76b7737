import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ToolContext } from '../../src/activities/tools/context';
import { detectSandbox, hiddenPaths, wrapCommand } from '../../src/activities/tools/sandbox';
import { shellTool } from '../../src/activities/tools/shell';
import { type ShellWire, shellWire } from './support/results';

describe('wrapCommand masks', () => {
  it('hides what exists, around the run dir bind', () => {
    const base = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'infty-mask-')));
    try {
      const home = path.join(base, 'home');
      const runDir = path.join(home, 'runs', 'r1');
      mkdirSync(path.join(runDir, 'inner'), { recursive: true });
      writeFileSync(path.join(base, 'netrc'), 'machine x password y');
      const { args } = wrapCommand('bwrap', ['true'], {
        runDir,
        cwd: runDir,
        allowNetwork: false,
        hide: [home, path.join(base, 'netrc'), path.join(base, 'missing'), path.join(runDir, 'inner'), runDir, '/'],
      });
      const joined = args.join(' ');
      const bind = joined.indexOf(`--bind ${runDir} ${runDir}`);
      expect(joined.indexOf(`--tmpfs ${home}`)).toBeGreaterThan(-1);
      expect(joined.indexOf(`--tmpfs ${home}`)).toBeLessThan(bind);
      expect(joined).toContain(`--ro-bind /dev/null ${path.join(base, 'netrc')}`);
      // Inside the run dir: masked after the bind, or the bind would uncover it.
      expect(joined.indexOf(`--tmpfs ${path.join(runDir, 'inner')}`)).toBeGreaterThan(bind);
      expect(joined).not.toContain('missing');
      expect(joined).not.toContain(`--tmpfs ${runDir} `);
      expect(joined).not.toContain('--tmpfs / ');
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });

  it('hides INFTY_HOME, the runs root and credential stores by default', () => {
    const paths = hiddenPaths({ HOME: '/home/u', INFTY_RUNS_ROOT: '/srv/runs' });
    expect(paths).toEqual(expect.arrayContaining(['/home/u/.infty', '/srv/runs', '/home/u/.ssh', '/home/u/.aws', '/home/u/.netrc']));
    expect(hiddenPaths({ HOME: '/home/u', INFTY_HOME: '/var/infty' }).slice(0, 2)).toEqual(['/var/infty', '/var/infty/runs']);
  });
});

const detection = await detectSandbox();

describe('what a sandboxed command can reach', () => {
  let base: string;
  let inftyHome: string;
  let runDir: string;
  let ctx: ToolContext;
  const saved = { INFTY_HOME: process.env.INFTY_HOME, HOME: process.env.HOME };
  const run = (script: string): Promise<ShellWire> => shellWire(shellTool({ command: ['bash', '-c', script], timeout_ms: 20_000 }, ctx));

  beforeAll(() => {
    if (!detection.available) throw new Error(`bubblewrap is required: ${detection.reason}`);
  });
  beforeEach(() => {
    base = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'infty-isolation-')));
    // The worker's state lives beside the run dir, as with the default INFTY_HOME/runs/<id>.
    inftyHome = path.join(base, 'infty');
    runDir = path.join(inftyHome, 'runs', 'run-1');
    mkdirSync(runDir, { recursive: true });
    mkdirSync(path.join(inftyHome, 'journal', 'run-0'), { recursive: true });
    writeFileSync(path.join(inftyHome, 'journal', 'run-0', 'call.json'), '{"output":"another run"}');
    mkdirSync(path.join(inftyHome, 'runs', 'run-0'));
    writeFileSync(path.join(inftyHome, 'runs', 'run-0', 'notes.md'), 'another run');
    const home = path.join(base, 'home');
    mkdirSync(path.join(home, '.ssh'), { recursive: true });
    writeFileSync(path.join(home, '.ssh', 'id_ed25519'), 'PRIVATE KEY');
    writeFileSync(path.join(home, '.netrc'), 'machine example.com password hunter2');
    process.env.INFTY_HOME = inftyHome;
    process.env.HOME = home;
    ctx = { runDir, sandbox: 'bwrap', allowNetwork: false };
  });
  afterEach(() => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    rmSync(base, { recursive: true, force: true });
  });

  it('sees only its own processes', async () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: ${p#/proc/} is shell parameter expansion in the command
    const res = await run('for p in /proc/[0-9]*; do echo "${p#/proc/} $(tr "\\0" " " < $p/cmdline)"; done');
    expect(res.metadata.exit_code).toBe(0);
    const pids = res.output
      .trim()
      .split('\n')
      .map((l) => Number(l.split(' ')[0]));
    expect(pids).not.toContain(process.pid);
    expect(Math.max(...pids)).toBeLessThan(20);
    expect(res.output).not.toMatch(/node|vitest/);
  });

  it('neither reads nor writes INFTY_HOME or other runs, but writes its run dir', async () => {
    const res = await run(
      [
        `ls -A ${inftyHome}; ls -A ${inftyHome}/runs`,
        `cat ${inftyHome}/journal/run-0/call.json ${inftyHome}/runs/run-0/notes.md 2>/dev/null || echo unreadable`,
        `touch ${inftyHome}/planted 2>/dev/null || echo home-not-writable`,
        `echo ok > ${runDir}/mine.txt && cat ${runDir}/mine.txt`,
      ].join('; '),
    );
    expect(res.output).toBe('runs\nrun-1\nunreadable\nhome-not-writable\nok\n');
    expect(existsSync(path.join(inftyHome, 'planted'))).toBe(false);
    expect(readFileSync(path.join(runDir, 'mine.txt'), 'utf8')).toBe('ok\n');
  });

  it('cannot read the credential stores in HOME', async () => {
    const res = await run('cat ~/.ssh/id_ed25519 ~/.netrc 2>/dev/null; echo "ssh: [$(ls -A ~/.ssh)]"');
    expect(res.output).toBe('ssh: []\n');
  });
});
