/** Project runs' input (docs/behaviour.md §4.4): the flags, the schema, the Solver's opening. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPrompt, renderTemplate } from '../../src/activities/prompts';
import { runInputFromFlags } from '../../src/cli/flags';
import { UsageError } from '../../src/errors';
import { ProjectSourceSchema, redactUrl, splitGitSource } from '../../src/protocol/project';
import { RunInputSchema } from '../../src/protocol/runInput';
import { projectOpening } from '../../src/workflows/project';

const dir = mkdtempSync(join(tmpdir(), 'infty-flags-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const usage = (flags: Record<string, unknown>) => {
  try {
    runInputFromFlags({ objective: 'x', runId: 'r1', ...flags });
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error('expected a usage error');
};

describe('project flags', () => {
  it('--from makes the path absolute and canonical and names this host', () => {
    const input = runInputFromFlags({ objective: 'x', runId: 'r1', from: dir });
    expect(input.project).toEqual({ path: dir, host: hostname(), deliver: 'path' });
    expect(RunInputSchema.parse(input).project).toEqual({ path: dir, host: hostname(), deliver: 'path' });
  });

  it('--from-git splits URL and REF at the last #', () => {
    expect(runInputFromFlags({ objective: 'x', runId: 'r1', fromGit: 'https://h/r.git#v1.2', deliver: 'diff' }).project).toEqual({
      gitUrl: 'https://h/r.git',
      ref: 'v1.2',
      deliver: 'diff',
    });
    expect(splitGitSource('/srv/repo.git')).toEqual({ url: '/srv/repo.git' });
    expect(splitGitSource('/srv/repo.git#')).toEqual({ url: '/srv/repo.git' });
  });

  it('refuses, before anything starts, a missing path, a file, both sources, a stray or unknown --deliver', () => {
    expect(usage({ from: join(dir, 'nope') })).toMatch(/no such directory.*nothing was started/);
    const file = join(dir, 'file.txt');
    writeFileSync(file, 'x');
    expect(usage({ from: file })).toMatch(/not a directory/);
    expect(usage({ from: dir, fromGit: 'https://h/r.git' })).toMatch(/cannot be combined/);
    expect(usage({ deliver: 'diff' })).toMatch(/goes with --from or --from-git/);
    expect(usage({ from: dir, deliver: 'zip' })).toMatch(/--deliver must be "path" or "diff"/);
  });

  it('--no-project-docs turns AGENTS.md off; the default reads it', () => {
    expect(runInputFromFlags({ objective: 'x', runId: 'r1', projectDocs: false }).projectDocs).toBe(false);
    expect(RunInputSchema.parse(runInputFromFlags({ objective: 'x', runId: 'r1' })).projectDocs).toBe(true);
  });
});

describe('the project source schema', () => {
  it('takes exactly one of path and gitUrl, an absolute path, and ref only with gitUrl', () => {
    expect(ProjectSourceSchema.safeParse({}).success).toBe(false);
    expect(ProjectSourceSchema.safeParse({ path: '/a', gitUrl: 'x' }).success).toBe(false);
    expect(ProjectSourceSchema.safeParse({ path: 'relative/dir' }).success).toBe(false);
    expect(ProjectSourceSchema.safeParse({ path: '/a', ref: 'main' }).success).toBe(false);
    expect(ProjectSourceSchema.safeParse({ path: '/a', extra: 1 }).success).toBe(false);
    expect(ProjectSourceSchema.parse({ gitUrl: 'x', ref: 'main' })).toEqual({ gitUrl: 'x', ref: 'main', deliver: 'path' });
  });

  it('masks credentials in URLs', () => {
    expect(redactUrl('https://user:tok3n@example.com/r.git')).toBe('https://***@example.com/r.git');
    expect(redactUrl('git@example.com:r.git')).toBe('git@example.com:r.git');
    expect(redactUrl('/srv/r.git')).toBe('/srv/r.git');
  });
});

describe("the Solver's opening in a project run", () => {
  it('names the project, the working directory and what to deliver, relative to the working directory', () => {
    const item = projectOpening('/runs/r1', { root: '/runs/r1/project', workdir: '/runs/r1/project/pkg/a', deliver: 'diff' });
    if (item.type !== 'prompt_message') throw new Error('expected a prompt message');
    const text = renderTemplate(loadPrompt(item.template), item.vars);
    expect(text).toContain('/runs/r1/project/pkg/a');
    expect(text).toContain('"project"');
    expect(text).toContain('deliverable_path "../.."');
    expect(text).toContain('deliverable/changes.patch');
  });
});
