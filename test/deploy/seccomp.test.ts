/**
 * deploy/seccomp-bwrap.json, the worker container's system-call filter (docker-compose.yml): what
 * it allows and refuses, and that the shell tool's bubblewrap sandbox works under it and not
 * without its additions. The filter is loaded with libseccomp (test/deploy/seccompExec.py), as
 * Docker loads it, around an unprivileged process, as the image's worker is.
 */
import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wrapCommand } from '../../src/activities/tools/sandbox';

const ROOT = join(__dirname, '..', '..');
const PROFILE = join(ROOT, 'deploy', 'seccomp-bwrap.json');
const EXEC = join(__dirname, 'seccompExec.py');
const NOBODY = 65534;
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

interface Rule {
  names: string[];
  action: string;
  comment?: string;
  errnoRet?: number;
  args?: Array<{ index: number; value: number; op: string }>;
  includes?: { arches?: string[]; caps?: string[]; minKernel?: string };
  excludes?: unknown;
}

const profile = JSON.parse(readFileSync(PROFILE, 'utf8')) as { defaultAction: string; defaultErrnoRet?: number; syscalls: Rule[] };
const allowing = (name: string) => profile.syscalls.filter((r) => r.action === 'SCMP_ACT_ALLOW' && r.names.includes(name));

/** What bwrap needs beyond Docker's default for a container without capabilities. */
const ADDED = ['clone', 'unshare', 'mount', 'umount2', 'pivot_root'];

describe('deploy/seccomp-bwrap.json', () => {
  it('refuses by default and allows the namespace and mount calls bubblewrap needs, unconditionally, in one commented rule', () => {
    expect(profile.defaultAction).toBe('SCMP_ACT_ERRNO');
    expect(profile.defaultErrnoRet).toBe(1);
    const added = profile.syscalls.filter((r) => r.comment?.startsWith('ADDED'));
    expect(added).toHaveLength(1);
    expect([...added[0]!.names].sort()).toEqual([...ADDED].sort());
    for (const name of ADDED) {
      expect(allowing(name), name).toHaveLength(1);
      expect(allowing(name)[0]!.args ?? [], name).toEqual([]);
      expect(allowing(name)[0]!.includes ?? {}, name).toEqual({});
    }
    // clone3 carries its flags in memory a filter cannot read: ENOSYS, so libc falls back to clone.
    expect(profile.syscalls.find((r) => r.names.includes('clone3'))).toMatchObject({ action: 'SCMP_ACT_ERRNO', errnoRet: 38 });
  });

  it('still refuses what Docker’s default refuses a container without capabilities', () => {
    const refused = [
      'setns',
      'chroot',
      'bpf',
      'perf_event_open',
      'keyctl',
      'add_key',
      'request_key',
      'userfaultfd',
      'kexec_load',
      'init_module',
      'finit_module',
      'delete_module',
      'reboot',
      'swapon',
      'swapoff',
      'settimeofday',
      'clock_settime',
      'open_by_handle_at',
      'acct',
      'quotactl',
      'syslog',
      'fsopen',
      'fsmount',
      'open_tree',
      'move_mount',
      'mount_setattr',
      'sethostname',
      'setdomainname',
      'kcmp',
      'iopl',
      'ioperm',
      'vhangup',
      'umount',
      'lookup_dcookie',
      'nfsservctl',
      'get_mempolicy',
      'set_mempolicy',
      'mbind',
    ];
    for (const name of refused) expect(allowing(name), name).toEqual([]);
    for (const rule of profile.syscalls) expect(rule.includes?.caps, 'no rule depends on a capability: the worker has none').toBeUndefined();
    // socket: every family but AF_VSOCK (40); personality: only the listed personas.
    expect(allowing('socket')).toEqual([expect.objectContaining({ args: [{ index: 0, value: 40, op: 'SCMP_CMP_NE' }] })]);
    for (const rule of allowing('personality')) expect(rule.args?.[0]?.op).toBe('SCMP_CMP_EQ');
  });

  describe('loaded around the shell tool’s sandbox, as an unprivileged user', () => {
    let runDir: string;
    const asWorker = (args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(
          PYTHON,
          [EXEC, PROFILE, ...args],
          { env: { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: runDir }, timeout: 30_000, ...(os.userInfo().uid === 0 ? { uid: NOBODY, gid: NOBODY } : {}) },
          (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout: String(stdout), stderr: String(stderr) }),
        );
      });
    const sandboxed = (command: string[]) => {
      const { file, args } = wrapCommand('bwrap', command, { runDir, cwd: runDir, allowNetwork: false, hide: [] });
      return [file, ...args];
    };

    beforeAll(() => {
      runDir = realpathSync(mkdtempSync(join(os.tmpdir(), 'infty-seccomp-')));
      chownSync(runDir, NOBODY, NOBODY);
    });
    afterAll(() => rmSync(runDir, { recursive: true, force: true }));

    it('bubblewrap builds the sandbox and commands run in it', async () => {
      const r = await asWorker(['--', ...sandboxed(['bash', '-c', 'echo inside > out.txt && python3 -c "print(6 * 7)" && cat out.txt'])]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toBe('42\ninside\n');
    });

    it('without the added rule (Docker’s default for such a container) bubblewrap cannot create its namespaces', async () => {
      const r = await asWorker(['--without-comment', 'ADDED', '--', ...sandboxed(['true'])]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('bwrap: No permissions to create new namespace');
    });

    it('a refused call fails with EPERM under the filter', async () => {
      // keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0): allowed to any process without a filter.
      const probe = 'import ctypes; libc = ctypes.CDLL(None, use_errno=True); r = libc.syscall(250, 0, -3, 0); print(r, ctypes.get_errno())';
      const r = await asWorker(['--', PYTHON, '-c', probe]);
      expect(r.stdout).toBe('-1 1\n');
    });
  });
});
