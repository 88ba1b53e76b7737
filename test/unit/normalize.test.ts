import { describe, expect, it } from 'vitest';
import { normalizeHistory } from '../../src/activities/normalize';
import type { TranscriptItem } from '../../src/protocol/items';

const instr = (text: string): TranscriptItem => ({ type: 'instructions', text });
const user = (text: string): TranscriptItem => ({ type: 'message', role: 'user', text });
const asst = (text: string): TranscriptItem => ({ type: 'message', role: 'assistant', text });
const call = (callId: string, name = 'shell'): TranscriptItem => ({ type: 'function_call', callId, name, arguments: '{}' });
const out = (callId: string, output = `out-${callId}`): TranscriptItem => ({ type: 'function_call_output', callId, output });
const aborted = (callId: string): TranscriptItem => ({ type: 'function_call_output', callId, output: 'aborted' });

describe('normalizeHistory', () => {
  it('leaves a well-formed history unchanged (order preserved)', () => {
    const items = [instr('be good'), user('hi'), call('c1'), out('c1'), call('c2'), call('c3'), out('c2'), out('c3'), asst('done')];
    const r = normalizeHistory(items);
    expect(r.instructions).toBe('be good');
    expect(r.items).toEqual(items.slice(1));
  });

  it('extracts the instructions (joined when several) and removes them from the items', () => {
    const r = normalizeHistory([instr('one'), user('u'), instr('two')]);
    expect(r.instructions).toBe('one\n\ntwo');
    expect(r.items).toEqual([user('u')]);
  });

  it('has empty instructions when there are none', () => {
    expect(normalizeHistory([user('u')])).toEqual({ instructions: '', items: [user('u')] });
    expect(normalizeHistory([])).toEqual({ instructions: '', items: [] });
  });

  it('adds "aborted" for a missing output at the end of the history', () => {
    const r = normalizeHistory([user('u'), call('c1')]);
    expect(r.items).toEqual([user('u'), call('c1'), aborted('c1')]);
  });

  it('places the aborted outputs right after the run of calls, before the next item', () => {
    const r = normalizeHistory([user('u'), call('c1'), call('c2'), user('next')]);
    expect(r.items).toEqual([user('u'), call('c1'), call('c2'), aborted('c1'), aborted('c2'), user('next')]);
  });

  it('with some outputs present, the aborted ones come after the calls and before the real outputs', () => {
    const r = normalizeHistory([call('c1'), call('c2'), call('c3'), out('c2'), asst('a')]);
    expect(r.items).toEqual([call('c1'), call('c2'), call('c3'), aborted('c1'), aborted('c3'), out('c2'), asst('a')]);
    // every call has exactly one output
    const outputs = r.items.filter((i) => i.type === 'function_call_output').map((i) => (i as { callId: string }).callId);
    expect(outputs.sort()).toEqual(['c1', 'c2', 'c3']);
  });

  it('drops outputs that have no call', () => {
    const r = normalizeHistory([user('u'), out('ghost'), call('c1'), out('c1'), out('ghost2'), asst('a')]);
    expect(r.items).toEqual([user('u'), call('c1'), out('c1'), asst('a')]);
  });

  it('handles separate runs of calls independently', () => {
    const items = [call('a'), asst('x'), call('b'), out('b'), call('c')];
    expect(normalizeHistory(items).items).toEqual([call('a'), aborted('a'), asst('x'), call('b'), out('b'), call('c'), aborted('c')]);
  });

  it('is stable: the same input gives deep-equal output, and normalizing again changes nothing', () => {
    const items = [instr('i'), user('u'), call('c1'), call('c2'), out('c2'), out('orphan'), user('v'), call('c3')];
    const a = normalizeHistory(items);
    const b = normalizeHistory(structuredClone(items));
    expect(a).toEqual(b);
    const again = normalizeHistory([instr(a.instructions), ...a.items]);
    expect(again).toEqual(a);
  });

  it('keeps prefixes: normalizing a longer transcript extends the normalized shorter one when calls are answered', () => {
    const base = [instr('i'), user('u'), call('c1'), out('c1'), asst('a')];
    const longer = [...base, user('more'), call('c2'), out('c2')];
    const short = normalizeHistory(base).items;
    expect(normalizeHistory(longer).items.slice(0, short.length)).toEqual(short);
  });

  it('does not mutate its input', () => {
    const items = [call('c1'), out('ghost')];
    const copy = structuredClone(items);
    normalizeHistory(items);
    expect(items).toEqual(copy);
  });
});
