/**
 * The one cap on what passes through workflow history in a single activity input or result
 * (docs/architecture.md decision 9). Temporal refuses payloads over 2 MB and warns from 512 KB; keeping
 * every payload under this cap, far below both, means no output can kill a run. Producers bound
 * their data well under it (tool outputs ~10 KiB, model text 64 KiB); this is the backstop that
 * turns a bug into a clear error instead of a terminated workflow.
 */
export const MAX_PAYLOAD_BYTES = 256 * 1024;

/** Model text returned to the workflow is cut to this (the transcript keeps all of it). */
export const MAX_RESULT_TEXT_BYTES = 64 * 1024;

/** Tool-call arguments passed inline per model step; larger ones are read from the transcript. */
export const MAX_INLINE_ARGUMENTS_BYTES = 64 * 1024;

function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/** JSON size in bytes of `value` as the data converter will encode it (no Node built-ins: the workflow uses it too). */
export function jsonBytes(value: unknown): number {
  const json = JSON.stringify(value);
  return json === undefined ? 0 : utf8Length(json);
}

/** A clear error text when `value` exceeds the cap, else undefined. */
export function payloadTooLarge(what: string, value: unknown): string | undefined {
  const bytes = jsonBytes(value);
  if (bytes <= MAX_PAYLOAD_BYTES) return undefined;
  return (
    `${what} is ${bytes} bytes, more than the ${MAX_PAYLOAD_BYTES} bytes one activity may pass through workflow history; ` +
    'this is a bug in Infty (every producer bounds its data below the cap): please report it with the run id'
  );
}

export const PAYLOAD_TOO_LARGE = 'PayloadTooLarge';
