/** Replies cut short (output-token limit, content filter): what of their output is kept. */
import type { WireOutputItem } from './types';

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * A cut reply keeps its text and reasoning, and the function calls whose arguments arrived whole;
 * a call cut mid-arguments is dropped (running it could only fail). Normalization later drops a
 * reasoning item left without the item it preceded.
 */
export function completeCallsOnly(output: WireOutputItem[]): WireOutputItem[] {
  return output.filter((i) => i.type !== 'function_call' || isJson(i.arguments));
}
