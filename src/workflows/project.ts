/** A project run in the workflow (docs/behaviour.md §4.4): the Solver's opening, and the change Verifiers and the Director see. */
import type { NewItem, RunProject } from '../protocol/activities';
import type { ChangeSummary } from '../protocol/project';
import type { RunContext } from './context';

/** The part of `path` under `dir` ('.' for dir itself); both absolute, as the worker gave them. */
export function below(dir: string, path: string): string {
  if (path === dir) return '.';
  return path.startsWith(`${dir}/`) ? path.slice(dir.length + 1) : path;
}

/** The project root as a path relative to the working directory ('.', '..', '../..'). */
function rootFromWorkdir(project: RunProject): string {
  const rel = below(project.root, project.workdir);
  return rel === '.'
    ? '.'
    : rel
        .split('/')
        .map(() => '..')
        .join('/');
}

/** What the Solver is told before the objective: where the project is, and how its work is handed back. */
export function projectOpening(runDir: string, project: RunProject): NewItem {
  return {
    type: 'prompt_message',
    template: 'project_start',
    vars: {
      workdir: project.workdir,
      root: project.root,
      project_dir: below(runDir, project.root),
      run_dir: runDir,
      delivery:
        project.deliver === 'diff'
          ? `When the work is done, deliver the project root (deliverable_path "${rootFromWorkdir(project)}"): Infty writes the change as a patch to deliverable/changes.patch, and that patch is the deliverable the Verifiers judge.`
          : `When the work is done, deliver the project root (deliverable_path "${rootFromWorkdir(project)}"), or the part of it the objective asks for.`,
    },
  };
}

/** The change so far, for a verification request or a direction request; undefined for a run without a project. */
export async function currentChange(ctx: RunContext, writePatch: boolean): Promise<{ summary: ChangeSummary; patchPath?: string } | undefined> {
  const project = ctx.state.project;
  if (!project) return undefined;
  return ctx.activities.project.projectChange({ runId: ctx.input.runId, runDir: ctx.state.runDir, project, writePatch });
}

/** The change as the request JSON shows it: the project's place in the run directory, totals and files. */
export function changeView(ctx: RunContext, summary: ChangeSummary): Record<string, unknown> {
  const project = ctx.state.project!;
  return {
    project_dir: below(ctx.state.runDir, project.root),
    files_changed: summary.files.length + summary.more,
    lines_added: summary.added,
    lines_removed: summary.removed,
    files: summary.files.map((f) => ({ path: f.path, status: f.status, added: f.added, removed: f.removed })),
    ...(summary.more ? { more_files: summary.more } : {}),
  };
}
