/**
 * Activity summaries for the Temporal Web UI (src/workflows/summaries.ts) and the workflow's static
 * summary and details (src/protocol/userMetadata.ts): who does what, on one line, bounded, from any input.
 */
import { describe, expect, it } from 'vitest';
import type { ToolCallInput } from '../../src/protocol/activities';
import { RunInputSchema } from '../../src/protocol/runInput';
import { fitSummary, MAX_SUMMARY_JSON_BYTES, runStaticDetails, runStaticSummary, utf8Bytes } from '../../src/protocol/userMetadata';
import { activitySummary, commandLine, MAX_DETAIL_CHARS, patchFiles } from '../../src/workflows/summaries';

const toolInput = (role: string, name: string, args: unknown, extra: Partial<ToolCallInput['call']> = {}): ToolCallInput => ({
  runId: 'r',
  journalKey: 'k',
  runDir: '/runs/r',
  role,
  generation: 0,
  call: { callId: 'c1', name, arguments: typeof args === 'string' ? args : JSON.stringify(args), ...extra },
  sandbox: 'none',
  allowNetwork: false,
  passEnv: [],
});
const patch = (...lines: string[]) => ['*** Begin Patch', ...lines, '*** End Patch'].join('\n');
const jsonBytes = (s: string) => utf8Bytes(JSON.stringify(s));

describe('activitySummary', () => {
  it('names the role and what it does, for every activity of the run', () => {
    expect(activitySummary('modelStep', { role: 'verifier-beta', generation: 2 })).toBe('verifier-beta · model step');
    expect(activitySummary('compact', { role: 'director' })).toBe('director · compaction');
    expect(activitySummary('createRun', { runId: 'r', objective: 'x', roles: [], sandbox: 'none' })).toBe('run store · create run');
    expect(activitySummary('updateRunRecord', { runId: 'r', status: 'delivered', roles: [] })).toBe('run store · record outcome: delivered');
    expect(activitySummary('updateRunRecord', { runId: 'r', roles: [], extra: {} })).toBe('run store · record roles');
    expect(activitySummary('updateRunRecord', { runId: 'r', extra: { objective: 'x' } })).toBe('run store · record objective');
    expect(activitySummary('recordItems', { runId: 'r', role: 'solver', generation: 0, committedLength: 3, items: [] })).toBe('solver · record items');
    expect(activitySummary('validateDeliverable', { runDir: '/runs/r', path: 'out/report.md' })).toBe('solver · deliverable check: out/report.md');
  });

  it('shell: the command as typed, a shell wrapper dropped', () => {
    expect(activitySummary('runToolCall', toolInput('solver', 'shell', { command: ['bash', '-lc', 'npm test'] }))).toBe('solver · shell: npm test');
    expect(activitySummary('runToolCall', toolInput('solver', 'shell', { command: ['/bin/sh', '-c', 'wc -l a.txt'] }))).toBe('solver · shell: wc -l a.txt');
    expect(activitySummary('runToolCall', toolInput('solver', 'shell', { command: ['ls', '-la', 'my dir'], workdir: 'sub' }))).toBe(
      "solver · shell: ls -la 'my dir'",
    );
    // The old activity (before tool outputs went by reference) is summarized the same way.
    expect(activitySummary('runTool', toolInput('solver', 'shell', { command: ['make'] }))).toBe('solver · shell: make');
  });

  it('shell: a multi-line or long command becomes one line of at most MAX_DETAIL_CHARS characters', () => {
    const long = `echo start\n${'x'.repeat(500)}\necho end`;
    const s = activitySummary('runToolCall', toolInput('solver', 'shell', { command: ['bash', '-lc', long] }));
    expect(s).not.toContain('\n');
    const detail = s.slice('solver · shell: '.length);
    expect([...detail].length).toBeLessThanOrEqual(MAX_DETAIL_CHARS);
    expect(detail.startsWith('echo start xxx')).toBe(true);
    expect(detail.endsWith('…')).toBe(true);
  });

  it('apply_patch: the files it touches', () => {
    const one = patch('*** Add File: src/x.ts', '+export {};');
    expect(activitySummary('runToolCall', toolInput('solver', 'apply_patch', { input: one }))).toBe('solver · apply_patch: src/x.ts');
    const many = patch('*** Update File: a.ts', '@@', '-a', '+b', '*** Delete File: b.ts', '*** Update File: c.ts', '*** Move to: d.ts', '@@', '-x', '+y');
    expect(activitySummary('runToolCall', toolInput('solver', 'apply_patch', { input: many }))).toBe('solver · apply_patch: a.ts, b.ts, c.ts → d.ts');
    const lots = patch(...Array.from({ length: 40 }, (_, i) => `*** Add File: deliverable/some/long/path/file-${i}.txt\n+x`));
    const s = activitySummary('runToolCall', toolInput('solver', 'apply_patch', { input: lots }));
    expect(s).toMatch(/^solver · apply_patch: deliverable\/some\/long\/path\/file-0\.txt, .* \+\d+ more$/);
    expect([...s.slice('solver · apply_patch: '.length)].length).toBeLessThanOrEqual(MAX_DETAIL_CHARS);
  });

  it('read_file and list_dir: the path, for every role', () => {
    expect(activitySummary('runToolCall', toolInput('verifier-alpha', 'read_file', { path: 'deliverable/README.md', offset: 3 }))).toBe(
      'verifier-alpha · read_file: deliverable/README.md',
    );
    expect(activitySummary('runToolCall', toolInput('director', 'list_dir', { path: '.' }))).toBe('director · list_dir: .');
  });

  it('arguments that are not JSON, or cut short (argumentsInTranscript), are salvaged or shown raw, never thrown on', () => {
    const full = JSON.stringify({ command: ['bash', '-lc', 'npm run build && npm test -- --reporter=dot'] });
    const preview = full.slice(0, 40);
    expect(activitySummary('runToolCall', toolInput('solver', 'shell', preview, { argumentsInTranscript: true }))).toBe('solver · shell: npm run build');
    const patchPreview = JSON.stringify({ input: patch('*** Add File: deliverable/big.bin', `+${'y'.repeat(1000)}`) }).slice(0, 200);
    expect(activitySummary('runToolCall', toolInput('solver', 'apply_patch', patchPreview, { argumentsInTranscript: true }))).toBe(
      'solver · apply_patch: deliverable/big.bin',
    );
    expect(activitySummary('runToolCall', toolInput('solver', 'read_file', '{"path": "a\\u00e9b.txt", "offs'))).toBe('solver · read_file: aéb.txt');
    expect(activitySummary('runToolCall', toolInput('solver', 'read_file', '{"path": "cut\\u00'))).toBe('solver · read_file: cut');
    expect(activitySummary('runToolCall', toolInput('solver', 'shell', 'not json at all'))).toBe('solver · shell: not json at all');
    expect(activitySummary('runToolCall', toolInput('solver', 'shell', '[1,2]'))).toBe('solver · shell: [1,2]');
    expect(activitySummary('runToolCall', toolInput('solver', 'shell', { command: 'ls -la' }))).toBe('solver · shell: ls -la');
    expect(activitySummary('runToolCall', toolInput('solver', 'apply_patch', { input: 'no patch here' }))).toBe(
      'solver · apply_patch: {"input":"no patch here"}',
    );
    expect(activitySummary('runToolCall', toolInput('solver', 'shell', ''))).toBe('solver · shell');
  });

  it('huge arguments are not parsed whole, and the summary stays small', () => {
    const hugePatch = JSON.stringify({
      input: patch('*** Add File: deliverable/data.csv', Array.from({ length: 200_000 }, (_, i) => `+${i},${i * 2}`).join('\n')),
    });
    expect(hugePatch.length).toBeGreaterThan(1_000_000);
    const started = performance.now();
    const s = activitySummary('runToolCall', toolInput('solver', 'apply_patch', hugePatch));
    expect(s).toBe('solver · apply_patch: deliverable/data.csv');
    const hugeShell = JSON.stringify({ command: ['bash', '-lc', `echo ${'z'.repeat(2_000_000)}`] });
    const t = activitySummary('runToolCall', toolInput('solver', 'shell', hugeShell));
    expect(t.startsWith('solver · shell: echo zzz')).toBe(true);
    expect(jsonBytes(t)).toBeLessThanOrEqual(MAX_SUMMARY_JSON_BYTES);
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('never exceeds the server limit, whatever the script of the role names or arguments', () => {
    const wide = '漢'.repeat(300);
    for (const s of [
      activitySummary('runToolCall', toolInput(`verifier-${'a'.repeat(500)}`, 'shell', { command: ['echo', wide] })),
      activitySummary('runToolCall', toolInput('solver', 'read_file', { path: `"${'\\'.repeat(300)}"` })),
      activitySummary('runToolCall', toolInput('solver', 'x'.repeat(1000), { a: '😀'.repeat(500) })),
      activitySummary('someFutureActivity', { role: 'solver' }),
    ]) {
      expect(jsonBytes(s)).toBeLessThanOrEqual(MAX_SUMMARY_JSON_BYTES);
      expect(s).not.toMatch(/[\n\r\t]/);
      expect(s).not.toMatch(/[\ud800-\udbff]$/); // never half an emoji
    }
    expect(activitySummary('someFutureActivity', { role: 'solver' })).toBe('solver · someFutureActivity');
  });

  it('odd inputs give a summary, not an exception', () => {
    expect(activitySummary('modelStep', undefined)).toBe('run · model step');
    expect(activitySummary('modelStep', null)).toBe('run · model step');
    expect(activitySummary('runToolCall', { role: 'solver', call: null })).toBe('solver · tool');
    expect(activitySummary('runToolCall', { role: 'solver', call: { name: 'shell', arguments: 42 } })).toBe('solver · shell');
    expect(activitySummary('validateDeliverable', 'x')).toBe('solver · deliverable check');
  });
});

describe('helpers', () => {
  it('commandLine quotes what a shell would need quoted, and drops bash -lc wrappers', () => {
    expect(commandLine(['bash', '-lc', 'ls | head'])).toBe('ls | head');
    expect(commandLine(['zsh', '-euc', 'true'])).toBe('true');
    expect(commandLine(['bash', 'script.sh', 'arg'])).toBe('bash script.sh arg');
    expect(commandLine(['grep', '-r', "it's", ''])).toBe(`grep -r 'it'\\''s' ''`);
  });

  it('patchFiles lists added, updated, deleted and moved files in order', () => {
    expect(patchFiles(patch('*** Add File: a', '+1', '*** Update File: b', '*** Move to: c', '*** Delete File: d'))).toEqual(['a', 'b → c', 'd']);
    expect(patchFiles('nothing')).toEqual([]);
  });

  it('fitSummary cuts on code points until the JSON encoding fits', () => {
    expect(fitSummary('short')).toBe('short');
    const cut = fitSummary('😀'.repeat(200), 50);
    expect(jsonBytes(cut)).toBeLessThanOrEqual(50);
    expect(cut.endsWith('…')).toBe(true);
    expect([...cut.slice(0, -1)].every((c) => c === '😀')).toBe(true);
  });
});

describe('static summary and details', () => {
  const input = RunInputSchema.parse({
    runId: 'run-1',
    objective: `Write a haiku about durable execution\ninto deliverable/haiku.txt. ${'More words. '.repeat(40)}`,
    tokenBudget: 200_000,
    solverModel: 'gpt-5',
    reasoningEffort: 'high',
  });

  it('the summary is the objective on one line, about 200 characters at most', () => {
    const s = runStaticSummary(input);
    expect(s.startsWith('Write a haiku about durable execution into deliverable/haiku.txt. More words.')).toBe(true);
    expect([...s].length).toBeLessThanOrEqual(200);
    expect(s.endsWith('…')).toBe(true);
    expect(runStaticSummary({ objective: 'Fix the bug' })).toBe('Fix the bug');
    expect(jsonBytes(runStaticSummary({ objective: '"'.repeat(4000) }))).toBeLessThanOrEqual(MAX_SUMMARY_JSON_BYTES);
  });

  it('the details name the run, the roles and models, the verifiers and the budget', () => {
    const d = runStaticDetails(input);
    expect(d).toContain('`run-1`');
    expect(d).toContain('- solver: `gpt-5` (reasoning effort high)');
    expect(d).toContain("- director: the worker's default model (reasoning effort high)");
    expect(d).toContain('- verifier-alpha, verifier-beta, verifier-gamma:');
    expect(d).toContain('**Verifiers:** verifier-alpha, verifier-beta, verifier-gamma (every one must pass)');
    expect(d).toContain('**Token budget:** 200,000 tokens');
    expect(d).toContain('> Write a haiku about durable execution\n> into deliverable/haiku.txt.');
    const none = runStaticDetails(RunInputSchema.parse({ runId: 'r2', objective: 'x', verifiers: [], demo: true }));
    expect(none).toContain('**Verifiers:** none');
    expect(none).toContain('**Token budget:** none');
    expect(none).toContain('scripted demo endpoint');
    expect(none).not.toContain('**Objective**'); // the summary shows it whole
    const big = runStaticDetails(RunInputSchema.parse({ runId: 'r3', objective: '<b>'.repeat(1300) }));
    expect(utf8Bytes(JSON.stringify(big))).toBeLessThan(20_000);
    expect(big).not.toContain('<b>');
  });
});
