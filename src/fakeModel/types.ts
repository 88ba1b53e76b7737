/**
 * Types for the scripted fake OpenAI-compatible model server.
 *
 * The server is used by tests and by the offline demo; it speaks enough of the
 * Responses API and the Chat Completions API (streaming and not) that the real
 * `openai` npm client parses its answers.
 */

export interface Usage {
  inputTokens: number;
  cachedInputTokens: number;
  outputTokens: number;
  reasoningTokens: number;
}

export interface RecordedRequest {
  /** 1-based arrival order (assigned once the request body has been read). */
  seq: number;
  /** Normalised path: '/v1/responses' | '/v1/chat/completions' (also when the client omitted '/v1'). */
  path: string;
  wire: 'responses' | 'chat';
  /** Request headers, names lower-cased. */
  headers: Record<string, string>;
  /** Parsed JSON body. */
  body: any;
  /** x-infty-role header */
  role?: string;
  /** x-infty-run-id header */
  runId?: string;
  /** x-infty-purpose header */
  purpose?: string;
  stream: boolean;
  /** Set once answered (for faults: once the fault has been applied). */
  status?: 'completed' | 'fault';
  /** Set when the client went away before the response was complete (e.g. an aborted request). */
  clientAbortedAt?: number;
  /** Fault kind when status === 'fault' ('http', 'drop', 'truncated_stream', 'invalid_json', 'hang', 'responder_error', 'invalid_request'). */
  fault?: string;
}

export type ToolCallSpec = { name: string; arguments: Record<string, unknown> | string; callId?: string };

export type Fault =
  /** JSON error body {error:{message,type,param,code}}; `retry-after` / `retry-after-ms` headers when set. */
  | { kind: 'http'; status: number; retryAfterSeconds?: number; retryAfterMs?: number; code?: string; message?: string }
  /** Destroy the socket without answering. */
  | { kind: 'drop' }
  /** Streams: some events, then a clean end without the completion event / [DONE]. Non-stream: half a JSON body. */
  | { kind: 'truncated_stream' }
  /** 200 with a body that is not JSON (for streams: an SSE data line that is not JSON). */
  | { kind: 'invalid_json' }
  /** Never answer (until the client aborts or the server closes). */
  | { kind: 'hang' };

/** `omitUsage`: answer without any usage (as many OpenAI-compatible servers do), even when a stream asks for it. */
export type ScriptedReply =
  | { kind: 'message'; text: string; usage?: Partial<Usage>; omitUsage?: boolean; latencyMs?: number }
  | { kind: 'tool_calls'; calls: ToolCallSpec[]; text?: string; usage?: Partial<Usage>; omitUsage?: boolean; latencyMs?: number }
  | { kind: 'fault'; fault: Fault; latencyMs?: number };

export type Responder = (req: RecordedRequest) => ScriptedReply | Promise<ScriptedReply>;

export interface FakeModelServer {
  /** e.g. http://127.0.0.1:PORT/v1 (what OPENAI_BASE_URL gets) */
  baseUrl: string;
  requests: RecordedRequest[];
  setResponder(r: Responder): void;
  requestsFor(role: string): RecordedRequest[];
  /** Closes the listener and all open sockets (hanging requests included). */
  close(): Promise<void>;
}

export interface StartFakeModelServerOptions {
  responder: Responder;
  /** 0 / omitted: an ephemeral port. */
  port?: number;
  /** Default 127.0.0.1 */
  host?: string;
  /**
   * Body fields the Chat Completions endpoint does not know, e.g. ['prompt_cache_key']: a request
   * carrying one is answered HTTP 400 "Unrecognized request argument supplied: <field>" before the
   * responder is asked, as strict OpenAI-compatible servers do.
   */
  chatUnsupportedParams?: string[];
}

/** A successful reply normalised for the wire renderers. */
export interface WireReply {
  seq: number;
  /** body.model, or 'fake-model' when the request named none. */
  model: string;
  /** unix seconds */
  createdAt: number;
  /** Assistant text; undefined when the reply carries tool calls only. */
  text?: string;
  calls: Array<{ callId: string; name: string; arguments: string }>;
  /** null: the reply reports no usage. */
  usage: Usage | null;
}

/** One server-sent-event frame, already formatted (`event: ...\ndata: ...\n\n`). */
export type SseFrame = string;
