import { describe, expect, it } from 'vitest';
import { responsesParams } from '../../src/activities/wire/responses';
import { validateRequest } from '../../src/fakeModel/validate';
import { OUTPUT_SCHEMAS } from '../../src/protocol/outputSchemas';
import { strictSchemaViolation } from '../../src/protocol/strictSchema';
import { TOOL_NAMES, toolDefinitions } from '../../src/protocol/tools';
import { recordedRequest } from './support/recordedRequest';

const rec = recordedRequest;

describe('strict-mode JSON schemas', () => {
  it('accepts every structured-output schema the product sends', () => {
    for (const [name, schema] of Object.entries(OUTPUT_SCHEMAS)) expect(strictSchemaViolation(schema), name).toBeNull();
  });

  it('refuses optional properties, open objects, unsupported keywords and a non-object root', () => {
    const closed = { type: 'object', additionalProperties: false };
    expect(strictSchemaViolation({ ...closed, properties: { a: { type: 'string' } }, required: [] })).toMatch(/Missing 'a'/);
    expect(strictSchemaViolation({ type: 'object', properties: {}, required: [] })).toMatch(/additionalProperties/);
    expect(strictSchemaViolation({ ...closed, properties: { a: { type: 'string', minLength: 1 } }, required: ['a'] })).toMatch(/'minLength'/);
    expect(strictSchemaViolation({ ...closed, properties: { a: { type: 'string', default: 'x' } }, required: ['a'] })).toMatch(/'default'/);
    expect(strictSchemaViolation({ type: 'array', items: { type: 'string' } })).toMatch(/root/);
    const nested = { ...closed, properties: { list: { type: 'array', items: { type: 'object', properties: { x: { type: 'number' } } } } }, required: ['list'] };
    expect(strictSchemaViolation(nested)).toMatch(/properties\.list\.items/);
    expect(strictSchemaViolation({ ...closed, properties: { a: { anyOf: [{ type: 'string' }, { type: 'null' }] } }, required: ['a'] })).toBeNull();
  });

  it('tools whose schemas are not strict-mode schemas (optional parameters) are sent with strict: false', () => {
    const tools = toolDefinitions(TOOL_NAMES);
    const req = { model: 'm', instructions: 'i', items: [], tools, outputSchema: null, promptCacheKey: 'k', stream: false };
    const sent = responsesParams(req).tools as { name: string; strict: boolean; parameters: unknown }[];
    for (const t of sent) if (strictSchemaViolation(t.parameters)) expect(t.strict, t.name).toBe(false);
    expect(sent.some((t) => strictSchemaViolation(t.parameters))).toBe(true);
  });
});

describe('the scripted endpoint refuses requests OpenAI refuses', () => {
  it('Responses: unknown include values, unknown roles, unknown efforts, orphan outputs', () => {
    const base = { model: 'm', store: false };
    expect(validateRequest(rec('responses', { ...base, include: ['reasoning.encrypted_content'], input: [] }))).toBeNull();
    expect(validateRequest(rec('responses', { ...base, include: ['reasoning.summary'], input: [] }))).toMatchObject({ param: 'include[]' });
    expect(validateRequest(rec('responses', { ...base, input: [{ role: 'tool', content: 'x' }] }))).toMatchObject({ param: 'input[0].role' });
    expect(validateRequest(rec('responses', { ...base, reasoning: { effort: 'extreme' } }))).toMatchObject({ param: 'reasoning.effort' });
    expect(validateRequest(rec('responses', { ...base, input: [{ type: 'function_call_output', call_id: 'c', output: 'x' }] }))).toMatchObject({
      param: 'input[0]',
    });
    expect(
      validateRequest(
        rec('responses', {
          ...base,
          input: [
            { type: 'reasoning', id: 'rs', summary: [] },
            { role: 'assistant', content: 'x' },
          ],
        }),
      ),
    ).toMatchObject({ code: 'item_not_found' });
    expect(validateRequest(rec('responses', { ...base, input: [{ role: 'developer', content: 'x' }] }), [], ['developer_role'])).toMatchObject({
      param: 'input[0].role',
    });
  });

  it('Chat: roles, tool messages only after their call, and the calls answered before anything else', () => {
    const call = { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }] };
    expect(
      validateRequest(rec('chat', { model: 'm', messages: [{ role: 'user', content: 'x' }, call, { role: 'tool', tool_call_id: 'c1', content: 'o' }] })),
    ).toBeNull();
    expect(validateRequest(rec('chat', { model: 'm', messages: [{ role: 'tool', tool_call_id: 'c1', content: 'o' }] }))).toMatchObject({
      param: 'messages[0]',
    });
    expect(validateRequest(rec('chat', { model: 'm', messages: [call, { role: 'user', content: 'x' }] }))).toMatchObject({ param: 'messages[1]' });
    expect(validateRequest(rec('chat', { model: 'm', messages: [{ role: 'function', content: 'x' }] }))).toMatchObject({ param: 'messages[0].role' });
    const strictTool = { type: 'function', function: { name: 'f', strict: true, parameters: { type: 'object', properties: { a: { type: 'string' } } } } };
    expect(validateRequest(rec('chat', { model: 'm', messages: [], tools: [strictTool] }))).toMatchObject({ param: 'tools[0].function.parameters' });
  });
});
