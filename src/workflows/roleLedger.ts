/**
 * Where each role stands in its transcript (docs/architecture.md decision 1): the generation, the
 * lines the workflow committed, and whether it compacts before its next step. The one writer of
 * those fields; `test/unit/importGraph.test.ts` keeps it so.
 */
import type { RoleState } from './state';

/** A model step (or recorded items) committed the transcript up to `length`; the step may ask for compaction. */
export function committed(r: RoleState, length: number, compactionDue = r.compactionDue): void {
  r.committedLength = length;
  r.compactionDue = compactionDue;
}

/** The endpoint refused the request for length: compact before retrying. */
export function compactionNeeded(r: RoleState): void {
  r.compactionDue = true;
}

/** A compaction wrote a new generation of `length` lines. */
export function compacted(r: RoleState, generation: number, length: number): void {
  r.generation = generation;
  r.committedLength = length;
  r.compactionDue = false;
}

/** A Verifier that passed starts its next round in a fresh conversation (docs/behaviour.md §3.3). */
export function rotated(r: RoleState): void {
  r.generation += 1;
  r.committedLength = 0;
  // A fresh conversation has nothing to compact; compacting it would drop its instructions.
  r.compactionDue = false;
}

/** A fork's role continues where the source's stood at the fork turn (docs/architecture.md decision 13). */
export function adopted(r: RoleState, position: { generation: number; committedLength: number }): void {
  r.generation = position.generation;
  r.committedLength = position.committedLength;
}
