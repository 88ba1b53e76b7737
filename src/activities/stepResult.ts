/**
 * What a model step returns to the workflow, bounded (docs/architecture.md decision 9): the text is cut to
 * MAX_RESULT_TEXT_BYTES, and tool-call arguments beyond MAX_INLINE_ARGUMENTS_BYTES stay in the
 * transcript (the tool activity reads them there). The transcript always keeps everything.
 */
import type { ModelStepResult, StepToolCall } from '../protocol/activities';
import type { StepEnd, TranscriptItem } from '../protocol/items';
import { MAX_INLINE_ARGUMENTS_BYTES, MAX_RESULT_TEXT_BYTES } from '../protocol/payloadLimits';
import { truncateToolOutput } from './tools/truncate';

const PREVIEW_CHARS = 200;

export function boundedToolCalls(outputs: TranscriptItem[]): StepToolCall[] {
  let inlineBytes = 0;
  return outputs.flatMap((item): StepToolCall[] => {
    if (item.type !== 'function_call') return [];
    const bytes = Buffer.byteLength(item.arguments, 'utf8');
    if (inlineBytes + bytes <= MAX_INLINE_ARGUMENTS_BYTES) {
      inlineBytes += bytes;
      return [{ callId: item.callId, name: item.name, arguments: item.arguments }];
    }
    return [{ callId: item.callId, name: item.name, arguments: item.arguments.slice(0, PREVIEW_CHARS), argumentsInTranscript: true }];
  });
}

/** The step's result from its output items and end record (the same whether just called or reused). */
export function stepResult(outputs: TranscriptItem[], end: StepEnd, length: number, autoCompactLimit: number): ModelStepResult {
  const message = outputs.find((i): i is Extract<TranscriptItem, { type: 'message' }> => i.type === 'message' && i.role === 'assistant');
  return {
    length,
    text: message ? truncateToolOutput(message.text, MAX_RESULT_TEXT_BYTES) : null,
    toolCalls: boundedToolCalls(outputs),
    usage: end.usage,
    compactionDue: end.usage.inputTokens >= autoCompactLimit,
    ...(end.incomplete ? { incomplete: end.incomplete } : {}),
    ...(end.model ? { answeringModel: end.model } : {}),
  };
}
