/**
 * Temporal's user metadata for a run, which the Temporal Web UI and CLI show: the workflow's static
 * summary (the objective) and static details (its setup), set by the client at start, plus the text
 * helpers the workflow's activity summaries (src/workflows/summaries.ts) and current details
 * (src/workflows/details.ts) share. Pure: no Node built-ins, no clock (the workflow bundle imports it).
 */
import { modelFor, type RunInput, reasoningEffortFor } from './runInput';

/**
 * The server refuses a summary whose serialized payload exceeds 400 bytes
 * (`limit.userMetadataSummarySize`); a JSON-encoded summary stays under this many UTF-8 bytes.
 */
export const MAX_SUMMARY_JSON_BYTES = 380;

/** The workflow's static summary: the objective, cut to this many characters. */
export const MAX_STATIC_SUMMARY_CHARS = 200;

/** The objective's share of the static details (the server caps details at 20,000 bytes). */
const MAX_DETAILS_OBJECTIVE_CHARS = 2000;

/**
 * One line: control characters and runs of whitespace become one space; cut to `max` characters
 * (code points), marked "…". Only a bounded prefix of `s` is looked at: it may be huge.
 */
export function oneLine(s: string, max: number): string {
  const limit = max * 4 + 16;
  const head = s.length > limit ? s.slice(0, limit) : s;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this replaces (metadata shown on one line)
  const flat = head.replace(/[\s\u0000-\u001f\u007f]+/g, ' ').trim();
  const chars = [...flat];
  if (chars.length <= max && head === s) return flat;
  return `${chars
    .slice(0, max - 1)
    .join('')
    .trimEnd()}…`;
}

/** UTF-8 length without Buffer (the workflow sandbox has no Node built-ins). */
export function utf8Bytes(s: string): number {
  let n = 0;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    n += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
  }
  return n;
}

/** Cuts `s` (on code-point boundaries, marked "…") until its JSON encoding fits `maxBytes`. */
export function fitSummary(s: string, maxBytes = MAX_SUMMARY_JSON_BYTES): string {
  if (utf8Bytes(JSON.stringify(s)) <= maxBytes) return s;
  const chars = [...s];
  let lo = 0;
  let hi = chars.length;
  // The longest prefix whose encoding, with the mark, fits.
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (utf8Bytes(JSON.stringify(`${chars.slice(0, mid).join('')}…`)) <= maxBytes) lo = mid;
    else hi = mid - 1;
  }
  return `${chars.slice(0, lo).join('').trimEnd()}…`;
}

/** Text shown literally in markdown: the inline specials escaped. */
export function markdownText(text: string): string {
  return text.replace(/[\\`*_[\]<>~|#]/g, (c) => `\\${c}`);
}

/** 1234567 → "1,234,567" (no Intl: the same output on every machine). */
export function groupDigits(n: number): string {
  const sign = n < 0 ? '-' : '';
  return sign + String(Math.trunc(Math.abs(n))).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** The workflow's static summary: the objective, on one line. */
export function runStaticSummary(input: Pick<RunInput, 'objective'>): string {
  return fitSummary(oneLine(input.objective, MAX_STATIC_SUMMARY_CHARS));
}

/** The workflow's static details, as markdown: run id, roles and models, verifiers, budget (and the objective when the summary cut it). */
export function runStaticDetails(input: RunInput): string {
  const model = (role: string): string => {
    if (input.demo) return "Infty's scripted demo endpoint (not a real model)";
    const m = modelFor(input, role);
    const effort = reasoningEffortFor(input, role);
    const name = m ? `\`${oneLine(m, 80).replace(/`/g, "'")}\`` : "the worker's default model";
    return `${name}${effort ? ` (reasoning effort ${effort})` : ''}`;
  };
  const verifiers = input.verifiers.map(markdownText);
  const roles = ['**Roles and models**', '', `- solver: ${model('solver')}`, `- director: ${model('director')}`];
  if (verifiers.length) roles.push(`- ${verifiers.join(', ')}: ${model(input.verifiers[0]!)}`);
  const budget =
    input.tokenBudget === null ? 'none' : `${groupDigits(input.tokenBudget)} tokens, then at most ${input.budgetGraceTurns} Solver turn(s) to deliver`;
  const objective = input.objective.length > MAX_DETAILS_OBJECTIVE_CHARS ? `${input.objective.slice(0, MAX_DETAILS_OBJECTIVE_CHARS - 1)}…` : input.objective;
  const blocks = [
    `**Infty run** \`${input.runId}\``,
    roles.join('\n'),
    [
      `**Verifiers:** ${verifiers.length ? `${verifiers.join(', ')} (every one must pass)` : 'none (a valid delivery passes)'}`,
      `**Token budget:** ${budget}`,
      `**Sandbox:** ${input.sandbox} · **network:** ${input.allowNetwork ? 'allowed' : 'off'}`,
    ].join('  \n'), // markdown hard breaks: one compact paragraph
  ];
  // The summary shows the objective; the details repeat it only when the summary had to shorten it.
  if (runStaticSummary(input) !== input.objective) {
    blocks.push(
      `**Objective**\n\n${objective
        .split(/\r?\n/)
        .map((l) => `> ${markdownText(l)}`)
        .join('\n')}`,
    );
  }
  return blocks.join('\n\n');
}
