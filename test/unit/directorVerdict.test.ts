import { describe, expect, it } from 'vitest';
import { DirectorReplySchema, directionRequestMessage } from '../../src/protocol/director';
import { parseJsonReply } from '../../src/protocol/json';
import { aggregateVerdicts, type RoleVerdict, VerdictSchema, verificationRequestMessage } from '../../src/protocol/verdict';

const parseDirectorReply = (text: string | null) => parseJsonReply(text, DirectorReplySchema);
const parseVerdict = (text: string | null) => parseJsonReply(text, VerdictSchema);

describe('a Director reply (parseJsonReply with DirectorReplySchema)', () => {
  it('parses a directive with a rationale', () => {
    expect(parseDirectorReply('{"directive":"Use SQLite","rationale":"simplest"}')).toEqual({
      ok: true,
      value: { directive: 'Use SQLite', rationale: 'simplest' },
    });
  });

  it('an absent or null rationale becomes null', () => {
    expect(parseDirectorReply('{"directive":"Go"}')).toEqual({ ok: true, value: { directive: 'Go', rationale: null } });
    expect(parseDirectorReply('{"directive":"Go","rationale":null}')).toEqual({
      ok: true,
      value: { directive: 'Go', rationale: null },
    });
  });

  it('accepts a whole-text fenced block and surrounding whitespace', () => {
    expect(parseDirectorReply('\n```json\n{"directive":"Go","rationale":"r"}\n```\n')).toEqual({
      ok: true,
      value: { directive: 'Go', rationale: 'r' },
    });
  });

  it('drops unknown properties', () => {
    const r = parseDirectorReply('{"directive":"Go","rationale":null,"confidence":1}');
    expect(r).toEqual({ ok: true, value: { directive: 'Go', rationale: null } });
  });

  it.each([[null], [''], ['Use SQLite.'], ['Sure: ```json\n{"directive":"x"}\n```']])('refuses non-JSON %j', (text) => {
    const r = parseDirectorReply(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/JSON/);
  });

  it('refuses invalid JSON', () => {
    const r = parseDirectorReply('{"directive": Go}');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/not valid JSON/);
  });

  it.each([['{"directive":"   "}'], ['{"directive":""}'], ['{"rationale":"r"}'], ['{"directive":5}']])(
    'refuses a missing, blank or non-string directive: %s',
    (text) => {
      const r = parseDirectorReply(text);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error).toMatch(/directive/);
    },
  );

  it('refuses a non-string rationale', () => {
    expect(parseDirectorReply('{"directive":"Go","rationale":3}').ok).toBe(false);
  });

  it('directionRequestMessage has the exact contract shape', () => {
    expect(JSON.parse(directionRequestMessage('which db?', 'build an app'))).toEqual({
      type: 'direction_request',
      prompt: 'which db?',
      objective: 'build an app',
    });
  });
});

describe('a verdict (parseJsonReply with VerdictSchema)', () => {
  it('parses a verdict', () => {
    const v = { verdict: 'fail', reasons: ['no tests'], suggestions: ['add tests'] };
    expect(parseVerdict(JSON.stringify(v))).toEqual({ ok: true, value: v });
  });

  it('parses a fenced verdict', () => {
    expect(parseVerdict('```json\n{"verdict":"pass","reasons":[],"suggestions":[]}\n```')).toEqual({
      ok: true,
      value: { verdict: 'pass', reasons: [], suggestions: [] },
    });
  });

  it.each([
    ['{"verdict":"maybe","reasons":[],"suggestions":[]}', /verdict/],
    ['{"verdict":"pass","suggestions":[]}', /reasons/],
    ['{"verdict":"pass","reasons":[1],"suggestions":[]}', /reasons/],
    ['{"verdict":"pass","reasons":[],', /not valid JSON/],
    ['Looks good to me', /JSON/],
  ])('refuses %s', (text, error) => {
    const r = parseVerdict(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(error);
  });

  it('refuses null', () => {
    expect(parseVerdict(null).ok).toBe(false);
  });
});

describe('aggregateVerdicts', () => {
  const pass = (role: string): RoleVerdict => ({ role, verdict: 'pass', reasons: ['ok'], suggestions: [] });
  const fail = (role: string): RoleVerdict => ({ role, verdict: 'fail', reasons: ['broken'], suggestions: ['fix'] });

  it('passes only when every verdict passes', () => {
    expect(aggregateVerdicts([pass('verifier-alpha'), pass('verifier-beta'), pass('verifier-gamma')]).overall).toBe('pass');
    expect(aggregateVerdicts([pass('verifier-alpha'), fail('verifier-beta'), pass('verifier-gamma')]).overall).toBe('fail');
    expect(aggregateVerdicts([fail('verifier-alpha')]).overall).toBe('fail');
  });

  it('no verifiers is a pass', () => {
    expect(aggregateVerdicts([])).toEqual({ type: 'verification_feedback', overall: 'pass', verdicts: [] });
  });

  it('keeps the order and the exact fields of each verdict', () => {
    const input = [fail('verifier-gamma'), pass('verifier-alpha'), fail('verifier-beta')];
    const withExtra = input.map((v) => ({ ...v, usage: 123 }) as RoleVerdict);
    const out = aggregateVerdicts(withExtra);
    expect(out).toEqual({ type: 'verification_feedback', overall: 'fail', verdicts: input });
    expect(Object.keys(out.verdicts[0]!)).toEqual(['role', 'verdict', 'reasons', 'suggestions']);
  });
});

describe('verificationRequestMessage', () => {
  it('includes notes and objective when given', () => {
    expect(JSON.parse(verificationRequestMessage('deliverable', 'all done', 'write a poem'))).toEqual({
      type: 'verification_request',
      claim_path: 'deliverable',
      notes: 'all done',
      objective: 'write a poem',
    });
  });

  it('omits notes when null, empty or blank', () => {
    for (const notes of [null, '', '   ']) {
      const msg = JSON.parse(verificationRequestMessage('d', notes, 'obj'));
      expect(msg).toEqual({ type: 'verification_request', claim_path: 'd', objective: 'obj' });
      expect('notes' in msg).toBe(false);
    }
  });

  it('omits the objective when empty', () => {
    expect(JSON.parse(verificationRequestMessage('d', 'n', ''))).toEqual({
      type: 'verification_request',
      claim_path: 'd',
      notes: 'n',
    });
    expect(JSON.parse(verificationRequestMessage('d', null, '  '))).toEqual({ type: 'verification_request', claim_path: 'd' });
  });
});
