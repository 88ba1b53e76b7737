import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseJson, parseJsonReply } from '../../src/protocol/json';
import { parseUpdatePlan } from '../../src/protocol/plan';

const Point = z.object({ x: z.number(), label: z.string().nullable().default(null) });

describe('parseJsonReply', () => {
  it('parses the whole text or one whole-text fenced block, applying the contract (defaults included)', () => {
    expect(parseJsonReply(' {"x":1} ', Point)).toEqual({ ok: true, value: { x: 1, label: null } });
    expect(parseJsonReply('```json\n{"x":2,"label":"b"}\n```', Point)).toEqual({ ok: true, value: { x: 2, label: 'b' } });
  });

  it.each([[null], [undefined], [''], ['x = 1'], ['See: ```json\n{"x":1}\n```'], ['[1]']])('finds no JSON object in %j', (text) => {
    expect(parseJsonReply(text, Point)).toEqual({ ok: false, reason: 'no_json', error: 'reply is not a JSON object' });
  });

  it('reports JSON that does not parse, with the syntax error', () => {
    const r = parseJsonReply('{"x": one}', Point);
    expect(r).toMatchObject({ ok: false, reason: 'invalid_json' });
    if (!r.ok) expect(r.error).toMatch(/^reply is not valid JSON \(.+\)$/);
  });

  it('reports what the contract refuses, with the parsed value', () => {
    expect(parseJsonReply('{"x":"1","y":2}', Point)).toEqual({
      ok: false,
      reason: 'invalid_value',
      error: 'x: Invalid input: expected number, received string',
      value: { x: '1', y: 2 },
    });
  });
});

describe('parseJson (no fences: tool arguments)', () => {
  it('leaves the JSON error unprefixed and does not look inside fences', () => {
    expect(parseJson('```json\n{"x":1}\n```', Point)).toMatchObject({ ok: false, reason: 'invalid_json' });
    expect(parseJson('{"x":1}', Point)).toEqual({ ok: true, value: { x: 1, label: null } });
  });
});

describe('parseUpdatePlan', () => {
  it('accepts a plan and reads a missing explanation as null', () => {
    expect(parseUpdatePlan('{"plan":[{"step":"a","status":"in_progress"}]}')).toEqual({
      ok: true,
      explanation: null,
      steps: [{ step: 'a', status: 'in_progress' }],
    });
  });

  it('words its errors for tool arguments', () => {
    expect(parseUpdatePlan('{"plan": [')).toMatchObject({ ok: false, error: expect.stringMatching(/^update_plan arguments are not valid JSON \(.+\)$/) });
    const two = '{"plan":[{"step":"a","status":"in_progress"},{"step":"b","status":"in_progress"}]}';
    expect(parseUpdatePlan(two)).toEqual({ ok: false, error: 'invalid arguments for update_plan: plan: at most one step may be in_progress' });
  });
});
