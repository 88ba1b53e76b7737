import { describe, expect, it } from 'vitest';
import { extractJsonText } from '../../src/protocol/json';
import { parseSolverSignal, type SignalParse, SolverSignalSchema } from '../../src/protocol/signals';

const direction = { type: 'direction_request', prompt: 'Which database?', deliverable_path: null, summary: null };
const delivery = { type: 'final_delivery', prompt: null, deliverable_path: 'deliverable', summary: 'done, tests pass' };
const json = (v: unknown) => JSON.stringify(v);

function malformedError(r: SignalParse): string {
  expect(r.kind).toBe('malformed');
  return r.kind === 'malformed' ? r.error : '';
}

describe('parseSolverSignal: recognising a signal', () => {
  it('parses raw JSON', () => {
    expect(parseSolverSignal(json(direction))).toEqual({ kind: 'signal', signal: direction });
    expect(parseSolverSignal(json(delivery))).toEqual({ kind: 'signal', signal: delivery });
  });

  it('ignores whitespace around the JSON', () => {
    expect(parseSolverSignal(`\n\n   ${json(delivery)}  \n\t`)).toEqual({ kind: 'signal', signal: delivery });
  });

  it('accepts pretty-printed JSON', () => {
    expect(parseSolverSignal(JSON.stringify(delivery, null, 2))).toEqual({ kind: 'signal', signal: delivery });
  });

  it.each([
    ['```json', `\`\`\`json\n${json(delivery)}\n\`\`\``],
    ['```JSON', `\`\`\`JSON\n${json(delivery)}\n\`\`\``],
    ['bare ```', `\`\`\`\n${json(delivery)}\n\`\`\``],
    ['fence with whitespace around', `  \n\`\`\`json\n${JSON.stringify(delivery, null, 2)}\n\`\`\`\n  `],
    ['CRLF line ends', `\`\`\`json\r\n${json(delivery)}\r\n\`\`\``],
  ])('parses a whole-text fenced block (%s)', (_label, text) => {
    expect(parseSolverSignal(text)).toEqual({ kind: 'signal', signal: delivery });
  });

  it('keeps the signal fields exactly (no trimming of values)', () => {
    const s = { ...direction, prompt: '  spaced prompt  ', summary: 'why' };
    expect(parseSolverSignal(json(s))).toEqual({ kind: 'signal', signal: s });
  });
});

describe('parseSolverSignal: not a signal', () => {
  it.each([[null], [undefined], ['']])('%j is none', (text) => {
    expect(parseSolverSignal(text)).toEqual({ kind: 'none' });
  });

  it('prose is none', () => {
    expect(parseSolverSignal('I have finished the first step; next I will write the tests.')).toEqual({ kind: 'none' });
  });

  it('text before a fence defeats it', () => {
    expect(parseSolverSignal(`Here is my delivery:\n\`\`\`json\n${json(delivery)}\n\`\`\``)).toEqual({ kind: 'none' });
  });

  it('text after a fence defeats it', () => {
    expect(parseSolverSignal(`\`\`\`json\n${json(delivery)}\n\`\`\`\nLet me know!`)).toEqual({ kind: 'none' });
  });

  it('prose that merely contains the JSON is none', () => {
    expect(parseSolverSignal(`Sending ${json(delivery)} now`)).toEqual({ kind: 'none' });
  });

  it('a fence in another language is none', () => {
    expect(parseSolverSignal('```python\nprint(1)\n```')).toEqual({ kind: 'none' });
  });

  it.each([
    [{ type: 'status_update', prompt: null, deliverable_path: null, summary: null }],
    [{ type: 'verification_request', claim_path: 'x' }],
    [{ prompt: 'no type at all' }],
    [{ type: 'FINAL_DELIVERY', prompt: null, deliverable_path: 'd', summary: null }],
  ])('JSON with an unknown type is none: %j', (v) => {
    expect(parseSolverSignal(json(v))).toEqual({ kind: 'none' });
  });
});

describe('parseSolverSignal: malformed signals', () => {
  it('invalid JSON starting with "{" is malformed', () => {
    expect(malformedError(parseSolverSignal('{"type": "final_delivery", deliverable_path: deliverable}'))).toMatch(/not valid JSON/);
  });

  it('a JSON object followed by prose is malformed (the whole text must be JSON)', () => {
    expect(parseSolverSignal(`${json(delivery)}\nDone!`).kind).toBe('malformed');
  });

  it('invalid JSON inside a json fence is malformed', () => {
    expect(parseSolverSignal('```json\n{"type": "final_delivery",}\n```').kind).toBe('malformed');
  });

  it('a fenced block that is not a JSON object is not a signal', () => {
    expect(parseSolverSignal('```json\n[1, 2]\n```')).toEqual({ kind: 'none' });
    expect(parseSolverSignal('```\nls -la\n```')).toEqual({ kind: 'none' });
  });

  it('several fenced blocks are prose, not a signal', () => {
    const d = json(delivery);
    expect(parseSolverSignal(`\`\`\`\n${d}\n\`\`\`\nsee above\n\`\`\`\nx\n\`\`\``)).toEqual({ kind: 'none' });
    expect(parseSolverSignal(`\`\`\`json\n${d}\n\`\`\`\n\n\`\`\`json\n${d}\n\`\`\``)).toEqual({ kind: 'none' });
  });

  it.each([['   '], [''], [null]])('direction_request with prompt %j is malformed, naming prompt', (prompt) => {
    const error = malformedError(parseSolverSignal(json({ ...direction, prompt })));
    expect(error).toMatch(/prompt/);
    expect(error).not.toMatch(/deliverable_path/);
  });

  it.each([['  \n '], [''], [null]])('final_delivery with deliverable_path %j is malformed, naming deliverable_path', (p) => {
    const error = malformedError(parseSolverSignal(json({ ...delivery, deliverable_path: p })));
    expect(error).toMatch(/deliverable_path/);
  });

  it('extra properties are malformed and the error names them', () => {
    const error = malformedError(parseSolverSignal(json({ ...delivery, confidence: 0.9 })));
    expect(error).toMatch(/confidence/);
  });

  it('a final_delivery without its deliverable_path is malformed and names it', () => {
    const v: Record<string, unknown> = { ...delivery };
    delete v.deliverable_path;
    expect(malformedError(parseSolverSignal(json(v)))).toContain('deliverable_path');
  });

  it.each([['prompt'], ['summary']])('a missing optional %s key reads as null', (field) => {
    const v: Record<string, unknown> = { ...delivery, deliverable_path: 'deliverable' };
    delete v[field];
    const parsed = parseSolverSignal(json(v));
    expect(parsed.kind).toBe('signal');
    expect(parsed.kind === 'signal' && parsed.signal[field as 'prompt' | 'summary']).toBeNull();
  });

  it("the reference's documented shape is a signal, raw, fenced, and in an inline fence", () => {
    const doc = '{"type":"final_delivery","deliverable_path":"deliverable","summary":"s"}';
    for (const text of [doc, `\`\`\`json\n${doc}\n\`\`\``, `\`\`\`json ${doc}\`\`\``, `\`\`\`${doc}\`\`\``]) {
      expect(parseSolverSignal(text)).toEqual({
        kind: 'signal',
        signal: { type: 'final_delivery', prompt: null, deliverable_path: 'deliverable', summary: 's' },
      });
    }
    expect(parseSolverSignal(`Done: \`\`\`json ${doc}\`\`\``).kind).toBe('none'); // text around a fence defeats it
  });

  it('a field of the wrong type is malformed', () => {
    expect(parseSolverSignal(json({ ...delivery, summary: 42 })).kind).toBe('malformed');
  });

  it('a final_delivery may carry a prompt and a direction_request a path (unused fields are not checked)', () => {
    const s = { ...delivery, prompt: 'ignored' };
    expect(parseSolverSignal(json(s))).toEqual({ kind: 'signal', signal: s });
  });
});

describe('extractJsonText and SolverSignalSchema', () => {
  it('returns the inside of a whole-text fence, trimmed', () => {
    expect(extractJsonText('```json\n  {"a":1}  \n```')).toBe('{"a":1}');
  });

  it('returns undefined for prose', () => {
    expect(extractJsonText('hello')).toBeUndefined();
  });

  it('the schema is strict; missing optional keys read as null', () => {
    expect(SolverSignalSchema.safeParse(delivery).success).toBe(true);
    expect(SolverSignalSchema.parse({ type: 'final_delivery', deliverable_path: 'x' })).toEqual({
      type: 'final_delivery',
      deliverable_path: 'x',
      prompt: null,
      summary: null,
    });
    expect(SolverSignalSchema.safeParse({ ...delivery, extra: 1 }).success).toBe(false);
  });
});
