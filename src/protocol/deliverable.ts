export type DeliverableCheck =
  | {
      ok: true;
      /** Canonical absolute path. */
      path: string;
      /** Path relative to the run directory ('.' for the run directory itself). */
      relativePath: string;
      kind: 'file';
      size: number;
      sha256: string;
      /** What a verification round is bound to (docs/behaviour.md §4.2): the file's sha256. Absent in histories from before it existed. */
      contentHash?: string;
    }
  | {
      ok: true;
      path: string;
      relativePath: string;
      kind: 'directory';
      /** Total bytes and number of files; `manifest` lists at most the first 200 (sorted). */
      size: number;
      files: number;
      manifest: { path: string; size: number; sha256: string }[];
      /** sha256 of the canonical JSON of the full manifest, every file (docs/behaviour.md §4.2). */
      contentHash?: string;
    }
  | { ok: false; reason: string };

/** The deliverable as reported in the outcome (docs/behaviour.md §4): the check without where it was found. */
export type DeliverableReport =
  | { kind: 'file'; size: number; sha256: string }
  | { kind: 'directory'; size: number; files: number; manifest: { path: string; size: number; sha256: string }[] };
