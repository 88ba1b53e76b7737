/**
 * AGENTS.md (docs/behaviour.md §4.5), as Codex reads it: $INFTY_HOME/AGENTS.md for every run, then
 * the AGENTS.md files from the project root down to the run's working directory, concatenated in
 * that order and capped at PROJECT_DOCS_MAX_BYTES. Read once when the run is created; the text is
 * kept under INFTY_HOME and given to the Solver and the Verifiers as part of their instructions.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { projectDocsPath, projectDocsRecordPath } from '../../host/project/base';
import { PROJECT_DOCS_MAX_BYTES, type ProjectDocsRecord } from '../../protocol/project';
import { sha256Hex } from '../snapshots';

const NAME = 'AGENTS.md';

async function readIfFile(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return undefined;
    throw err;
  }
}

/** The directories from `root` down to `workdir`, in that order. */
function chain(root: string, workdir: string): string[] {
  const rel = relative(root, workdir);
  const parts = rel === '' ? [] : rel.split(sep);
  return [root, ...parts.map((_, i) => join(root, ...parts.slice(0, i + 1)))];
}

/** Cuts a UTF-8 text to at most `max` bytes without splitting a character. */
function cutUtf8(text: string, max: number): string {
  const buf = Buffer.from(text, 'utf8');
  if (buf.length <= max) return text;
  return buf
    .subarray(0, max)
    .toString('utf8')
    .replace(/\uFFFD$/, '');
}

/**
 * Collects the AGENTS.md files; writes the text and its record beside the run's base, and returns
 * the record (undefined: no file was found).
 */
export async function collectProjectDocs(
  home: string,
  runId: string,
  project: { root: string; workdir: string; label: (dir: string) => string } | null,
): Promise<ProjectDocsRecord | undefined> {
  const found: { label: string; text: string }[] = [];
  const own = await readIfFile(join(home, NAME));
  if (own?.trim()) found.push({ label: '$INFTY_HOME', text: own });
  if (project) {
    for (const dir of chain(project.root, project.workdir)) {
      const text = await readIfFile(join(dir, NAME));
      if (text?.trim()) found.push({ label: project.label(dir), text });
    }
  }
  if (found.length === 0) return undefined;
  const full = found.map((f) => `# AGENTS.md instructions for ${f.label}\n\n<INSTRUCTIONS>\n${f.text.trim()}\n</INSTRUCTIONS>`).join('\n\n');
  const bytes = Buffer.byteLength(full, 'utf8');
  const truncated = bytes > PROJECT_DOCS_MAX_BYTES;
  const marker = `\n[… AGENTS.md text cut here: ${bytes - PROJECT_DOCS_MAX_BYTES} more bytes over the ${PROJECT_DOCS_MAX_BYTES / 1024} KiB limit were left out …]`;
  const text = truncated ? cutUtf8(full, PROJECT_DOCS_MAX_BYTES - Buffer.byteLength(marker, 'utf8')) + marker : full;
  const record: ProjectDocsRecord = { files: found.map((f) => f.label), bytes: Buffer.byteLength(text, 'utf8'), sha256: sha256Hex(text), truncated };
  const path = projectDocsPath(home, runId);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, text);
  await writeFile(projectDocsRecordPath(home, runId), `${JSON.stringify(record)}\n`);
  return record;
}

/** The AGENTS.md text of a run, for a new conversation of the Solver or a Verifier (undefined: none). */
export async function projectDocsFor(home: string, runId: string, role: string): Promise<string | undefined> {
  if (role !== 'solver' && !role.startsWith('verifier')) return undefined;
  return readIfFile(projectDocsPath(home, runId));
}
