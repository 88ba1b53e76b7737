/** What the fake server's request checks answer (an OpenAI-shaped HTTP 400 body). */
export interface Rejection {
  message: string;
  param: string | null;
  code: string | null;
}

/** The `openai` package's ReasoningEffort values. */
export const REASONING_EFFORTS = ['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max'];

export function invalid(param: string | null, message: string, code: string | null = 'invalid_value'): Rejection {
  return { message: `${message} (fake model server)`, param, code };
}
