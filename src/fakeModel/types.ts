/**
 * Types for the scripted OpenAI-compatible model server.
 *
 * The server is the offline demo's model (src/demo) and the base of the tests' fake model
 * (test/support/fakeModel.ts adds fault injection through `answerOther`); it speaks enough of the
 * Responses API and the Chat Completions API (streaming and not) that the real `openai` npm
 * client parses its answers.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

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
  /** Set once answered ('fault': answered with an error, or a fault was applied). */
  status?: 'completed' | 'fault';
  /** Set when the client went away before the response was complete (e.g. an aborted request). */
  clientAbortedAt?: number;
  /**
   * What went wrong when status === 'fault': 'http' (an error reply), 'responder_error',
   * 'invalid_request', 'unknown_reply', or the kind of a fault a reply extension applied.
   */
  fault?: string;
}

export type ToolCallSpec = { name: string; arguments: Record<string, unknown> | string; callId?: string };

/** Why a reply stopped early: Responses `incomplete_details.reason`; Chat `finish_reason` "length" / "content_filter". */
export type IncompleteReason = 'max_output_tokens' | 'content_filter';

/**
 * Options of a successful reply.
 * `omitUsage`: answer without any usage (as many OpenAI-compatible servers do), even when a stream asks for it.
 * `reasoning`: reasoning the model "did" before its output, one reasoning item per string (Responses:
 * `reasoning` output items whose summary is the string, with `encrypted_content` when the request
 * asked for it; Chat: the message's `reasoning_content`, the strings joined).
 * `incomplete`: the reply stopped early (Responses `status: "incomplete"`; Chat `finish_reason: "length"`).
 * `model`: the response's `model` (the model that answered); default the request's.
 * `streamGapMs`: a streamed reply waits this long between its events (a long, slow stream; the
 * text comes in about a dozen deltas); default a little when `latencyMs` is set, else none.
 */
export interface ReplyOptions {
  usage?: Partial<Usage>;
  omitUsage?: boolean;
  latencyMs?: number;
  streamGapMs?: number;
  reasoning?: string[];
  incomplete?: IncompleteReason;
  model?: string;
}

export type ScriptedReply =
  | ({ kind: 'message'; text: string } & ReplyOptions)
  | ({ kind: 'tool_calls'; calls: ToolCallSpec[]; text?: string } & ReplyOptions)
  /** An OpenAI-style JSON error body {error:{message,type,param,code}} with this HTTP status. */
  | { kind: 'error'; status: number; message: string; code?: string; latencyMs?: number };

export type Refusable = 'include' | 'developer_role' | 'reasoning_content';

/** A reply of a kind the server does not render itself: handed to `answerOther`. */
export interface OtherReply {
  kind: string;
  latencyMs?: number;
}

export type Responder<R = ScriptedReply> = (req: RecordedRequest) => R | Promise<R>;

export interface FakeModelServer<R = ScriptedReply> {
  /** e.g. http://127.0.0.1:PORT/v1 (what OPENAI_BASE_URL gets) */
  baseUrl: string;
  requests: RecordedRequest[];
  setResponder(r: Responder<R>): void;
  requestsFor(role: string): RecordedRequest[];
  /** Closes the listener and all open sockets (hanging requests included). */
  close(): Promise<void>;
}

/** The open HTTP exchange of one request, as a reply extension sees it (see Exchange in server.ts). */
export interface ReplyExchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** True once the client went away before the response was complete. */
  readonly gone: boolean;
  /** Resolves after `ms`, or false as soon as the client disconnects. */
  sleep(ms: number): Promise<boolean>;
  /** Writes unless the client is gone; false when it is. */
  write(chunk: string): boolean;
  end(chunk?: string): void;
}

export interface StartFakeModelServerOptions<X extends OtherReply = never> {
  responder: Responder<ScriptedReply | X>;
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
  /** false: `POST /responses/compact` answers 404, as endpoints without remote compaction do (default true). */
  responsesCompact?: boolean;
  /**
   * Optional features this endpoint refuses with HTTP 400 naming them, as some OpenAI-compatible
   * servers do: `include` (Responses `include: [...]`), `developer_role`, `reasoning_content` (Chat
   * assistant messages carrying it).
   */
  refuse?: Refusable[];
  /**
   * Answers replies whose kind is not one of ScriptedReply's (after their latency): the tests'
   * fault injection (test/support/fakeModel.ts). Without it such a reply is answered HTTP 500.
   */
  answerOther?: (ex: ReplyExchange, rec: RecordedRequest, reply: X) => Promise<void>;
}

/** A successful reply normalised for the wire renderers. */
export interface WireReply {
  seq: number;
  /** The reply's `model` option, else body.model, or 'fake-model' when the request named none. */
  model: string;
  /** unix seconds */
  createdAt: number;
  /** Assistant text; undefined when the reply carries tool calls only. */
  text?: string;
  calls: Array<{ callId: string; name: string; arguments: string }>;
  /** null: the reply reports no usage. */
  usage: Usage | null;
  /** Reasoning items before the output: summary text, and the opaque content when the request asked for it. */
  reasoning: Array<{ id: string; summary: string; encryptedContent: string | null }>;
  incomplete?: IncompleteReason;
}

/** One server-sent-event frame, already formatted (`event: ...\ndata: ...\n\n`). */
export type SseFrame = string;
