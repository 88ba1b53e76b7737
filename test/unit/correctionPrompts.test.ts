import { describe, expect, it } from 'vitest';
import { loadPrompt, renderTemplate } from '../../src/activities/prompts';
import type { NewItem } from '../../src/protocol/activities';
import { OUTPUT_SCHEMAS, type OutputSchemaName } from '../../src/protocol/outputSchemas';
import { correctionItem } from '../../src/workflows/ask';

function render(item: NewItem): string {
  if (item.type !== 'prompt_message') throw new Error(`expected a prompt_message, got ${item.type}`);
  return renderTemplate(loadPrompt(item.template), item.vars);
}

describe('correction.md', () => {
  it.each(Object.keys(OUTPUT_SCHEMAS) as OutputSchemaName[])('renders the error and the %s schema as the workflow used to write them', (name) => {
    const error = 'deliverable_path: final_delivery needs a non-blank "deliverable_path"';
    expect(render(correctionItem(error, name))).toBe(
      `Your reply could not be used: ${error}.\n` +
        'Reply with exactly one JSON object (no prose, no code fence) matching this JSON schema:\n' +
        JSON.stringify(OUTPUT_SCHEMAS[name]),
    );
  });

  it('does not expand placeholders inside the error', () => {
    expect(render(correctionItem('bad {{schema}}', 'verdict'))).toMatch(/^Your reply could not be used: bad \{\{schema\}\}\.\n/);
  });
});

describe('invalid_delivery.md', () => {
  it('renders the reason as the workflow used to write it', () => {
    const reason = 'deliverable_path "../outside.txt" is outside the run directory';
    const item: NewItem = { type: 'prompt_message', template: 'invalid_delivery', vars: { reason } };
    expect(render(item)).toBe(
      `Your final_delivery was not accepted: ${reason}. No verification was run. ` +
        'Fix the deliverable and deliver again with a deliverable_path relative to the run directory.',
    );
  });
});
