/**
 * Content hashes of deliverables (docs/behaviour.md §4.2), one implementation shared by the
 * worker's deliverable validation and `infty verify` (docs/interface.md §1):
 * - a file's content hash is its sha256;
 * - a directory's is the sha256 of its full manifest's canonical JSON: every regular file, in
 *   sorted walk order (names compared by code unit), as `{"path","sha256","size"}` (keys sorted,
 *   no whitespace, paths relative to the directory). Symlinks and other non-regular entries are
 *   skipped, never followed.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';

export interface ManifestEntry {
  path: string;
  size: number;
  sha256: string;
}

export type HashedContent =
  | { kind: 'file'; size: number; sha256: string; contentHash: string }
  | {
      kind: 'directory';
      /** Bytes and number of every regular file; `manifest` holds the first `maxManifest` (sorted). */
      size: number;
      files: number;
      manifest: ManifestEntry[];
      contentHash: string;
    };

/** Hashes a file of any size, calling `progress` as it reads (an activity heartbeats there). */
export async function fileSha256(path: string, progress: () => void = () => undefined): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
    progress();
  }
  return hash.digest('hex');
}

/** One manifest entry as it appears in the canonical JSON. */
export function canonicalEntry(e: ManifestEntry): string {
  return JSON.stringify({ path: e.path, sha256: e.sha256, size: e.size });
}

/** The content hash of a directory whose complete manifest is `entries` (in walk order). */
export function manifestHash(entries: ManifestEntry[]): string {
  return createHash('sha256')
    .update(`[${entries.map(canonicalEntry).join(',')}]`)
    .digest('hex');
}

const SMALL_FILE = 256 * 1024;

const byCodeUnit = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** Walks `root`, hashing every regular file; yields entries in sorted walk order. */
async function* walk(root: string, dir: string, progress: () => void): AsyncGenerator<ManifestEntry> {
  const entries = (await readdir(dir, { withFileTypes: true })).sort(byCodeUnit);
  for (const e of entries) {
    const full = join(dir, e.name);
    progress();
    if (e.isDirectory()) yield* walk(root, full, progress);
    else if (e.isFile()) {
      const size = (await lstat(full)).size;
      // A small file is read whole: a stream (and its 1 MiB buffer) per file made a tree of many small files slow.
      const sha256 =
        size <= SMALL_FILE
          ? createHash('sha256')
              .update(await readFile(full))
              .digest('hex')
          : await fileSha256(full, progress);
      yield { path: relative(root, full), size, sha256 };
    }
  }
}

/**
 * Hashes the file or directory at `path` (already resolved; not a symlink). Returns undefined when
 * it is neither a file nor a directory. `maxManifest` bounds the manifest kept in the result; the
 * content hash always covers every file.
 */
export async function hashContent(path: string, opts: { maxManifest?: number; progress?: () => void } = {}): Promise<HashedContent | undefined> {
  const progress = opts.progress ?? (() => undefined);
  const info = await lstat(path);
  if (info.isFile()) {
    const sha256 = await fileSha256(path, progress);
    return { kind: 'file', size: info.size, sha256, contentHash: sha256 };
  }
  if (!info.isDirectory()) return undefined;
  const max = opts.maxManifest ?? Number.POSITIVE_INFINITY;
  const hash = createHash('sha256').update('[');
  const manifest: ManifestEntry[] = [];
  let files = 0;
  let size = 0;
  for await (const entry of walk(path, path, progress)) {
    hash.update(`${files > 0 ? ',' : ''}${canonicalEntry(entry)}`);
    files += 1;
    size += entry.size;
    if (manifest.length < max) manifest.push(entry);
  }
  return { kind: 'directory', size, files, manifest, contentHash: hash.update(']').digest('hex') };
}
