/**
 * A project run (docs/behaviour.md §4.4): the run directory starts as a copy of the user's project
 * (a directory, a git work tree, or a git repository the owner worker clones), the Solver works in
 * it, and the change against the starting tree (the base) is handed back as a diff.
 */
import { z } from 'zod';

/** Where Infty puts the project inside the run directory; Infty's own files stay beside it. */
export const PROJECT_DIR = 'project';

/** Cap of the concatenated AGENTS.md text given to the Solver and the Verifiers. */
export const PROJECT_DOCS_MAX_BYTES = 32 * 1024;

export const DELIVER_MODES = ['path', 'diff'] as const;
export type DeliverMode = (typeof DELIVER_MODES)[number];

export const ProjectSourceSchema = z
  .object({
    /** An absolute path on the machine that started the run (`--from PATH`). */
    path: z
      .string()
      .min(1)
      .refine((p) => p.startsWith('/'), 'project path must be absolute')
      .optional(),
    /** The host name of that machine: a worker in local storage on another host cannot see the path. */
    host: z.string().optional(),
    /** A git repository the owner worker clones (`--from-git URL[#REF]`). */
    gitUrl: z.string().min(1).optional(),
    /** Branch, tag or commit of `gitUrl` (default: its HEAD). */
    ref: z.string().min(1).optional(),
    /** `diff`: the deliverable is the patch of the change (written to deliverable/changes.patch). */
    deliver: z.enum(DELIVER_MODES).default('path'),
  })
  .strict()
  .refine((p) => (p.path === undefined) !== (p.gitUrl === undefined), 'a project has exactly one of "path" and "gitUrl"')
  .refine((p) => p.ref === undefined || p.gitUrl !== undefined, '"ref" goes with "gitUrl"');

export type ProjectSource = z.output<typeof ProjectSourceSchema>;

/** What run.json (`project`) and the base record say about where a project run started. */
export interface ProjectRecord {
  /** The project tree inside the run directory (absolute). */
  root: string;
  /** The Solver's working directory (absolute, inside `root`). */
  workdir: string;
  source: { kind: 'path'; path: string; gitTopLevel: string | null } | { kind: 'git'; url: string; ref: string | null };
  /** The commit the source's HEAD was at (git sources only). */
  commit: string | null;
  branch: string | null;
  files: number;
  bytes: number;
  /** Symbolic links left out because they point outside the project. */
  skippedLinks: string[];
  deliver: DeliverMode;
}

/** The AGENTS.md text a run read at its start (docs/behaviour.md §4.5). */
export interface ProjectDocsRecord {
  files: string[];
  bytes: number;
  sha256: string;
  truncated: boolean;
}

/** A change's summary, as Verifiers and the Director see it. */
export interface ChangeSummary {
  files: { path: string; added: number | null; removed: number | null; status: string }[];
  added: number;
  removed: number;
  /** More files changed than `files` lists. */
  more: number;
}

/** `--from-git URL#REF` → url and ref. */
export function splitGitSource(spec: string): { url: string; ref?: string } {
  const hash = spec.lastIndexOf('#');
  if (hash < 0) return { url: spec };
  const ref = spec.slice(hash + 1);
  return ref ? { url: spec.slice(0, hash), ref } : { url: spec.slice(0, hash) };
}

/** A URL with any user:password part masked, for run.json and messages. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/]*@/i, '$1***@');
}
