/**
 * Incremental assembly of a streamed model response into what a human wants to read.
 *
 *   upstream ──chunk──▶ capture ──chunk (unchanged)──▶ client
 *                          │
 *                          └─push(chunk)─▶ UTF-8 decode (streaming) ─▶ SSE lines ─▶ events ─▶ text + usage
 *                                                                                       finish() ─▶ StreamInfo fields
 *
 * The SSE parser follows the WHATWG event-stream rules: lines end in CRLF, LF or CR (a CR at the end
 * of one chunk and an LF at the start of the next are one line end); `:` starts a comment
 * (keep-alive); `data:` lines of one event are joined with LF; a blank line dispatches the event.
 * Unlike a browser, an event still pending when the stream ends is dispatched at finish(), because
 * a cut-off stream's last words are exactly what a log reader wants.
 *
 * Never throws on input: malformed events are counted. Memory is bounded: the assembled text is
 * capped (`maxTextChars`) and a line longer than `maxLineChars` is dropped and counted as malformed.
 */

/**
 * - `openai-chat`: `/chat/completions` SSE, text from `choices[0].delta.content`.
 * - `openai-completion`: `/completions` SSE, text from `choices[0].text`.
 * - `v2-generate`: Open Inference Protocol `/generate_stream` SSE, text from `text_output`.
 * - `sse`: any other event stream; text taken from whichever of the shapes above an event has.
 * - `raw`: a chunked body that is not an event stream; nothing is parsed.
 */
export type StreamKind = 'openai-chat' | 'openai-completion' | 'v2-generate' | 'sse' | 'raw';

export interface StreamUsage {
  promptTokens?: number;
  completionTokens?: number;
  totalTokens?: number;
}

export interface AssembledStream {
  /** The concatenated generated text (choice 0), when any event carried text. */
  assembledText?: string;
  /** True when assembledText was cut at `maxTextChars`. */
  textTruncated?: boolean;
  /** The last token usage an event reported (OpenAI `usage`, with `stream_options.include_usage`). */
  usage?: StreamUsage;
  /** Data events seen, not counting `[DONE]`. */
  events: number;
  /** Events whose data was not the JSON the kind expects, plus over-long lines. */
  malformed: number;
  /** True when the stream ended with `data: [DONE]` (OpenAI's normal end). */
  done: boolean;
}

export interface StreamAssembler {
  push(chunk: Uint8Array): void;
  /** Flushes what is pending and returns the result. Further pushes are ignored. */
  finish(): AssembledStream;
}

export interface StreamAssemblerOptions {
  /** Cap on the assembled text, in UTF-16 code units (default 1 Mi). */
  maxTextChars?: number;
  /** Cap on one SSE line, in UTF-16 code units (default 4 Mi). */
  maxLineChars?: number;
}

const DEFAULT_MAX_TEXT = 1024 * 1024;
const DEFAULT_MAX_LINE = 4 * 1024 * 1024;

/**
 * Which assembler fits a response, from the request path and the response Content-Type.
 * Returns undefined when the response is not an event stream (capture may still use `raw` for
 * a chunked body, to count chunks).
 */
export function detectStreamKind(url: string, contentType: string | undefined): StreamKind | undefined {
  if (contentType === undefined) return undefined;
  const semi = contentType.indexOf(';');
  const media = (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
  if (media !== 'text/event-stream') return undefined;
  const q = url.search(/[?#]/);
  const path = (q === -1 ? url : url.slice(0, q)).replace(/\/+$/, '');
  if (path.endsWith('/chat/completions')) return 'openai-chat';
  if (path.endsWith('/completions')) return 'openai-completion';
  if (path.endsWith('/generate_stream')) return 'v2-generate';
  return 'sse';
}

type Extract = (data: unknown) => { text?: string; usage?: StreamUsage } | undefined;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function readUsage(v: unknown): StreamUsage | undefined {
  if (!isObject(v)) return undefined;
  const usage: StreamUsage = {};
  const p = num(v.prompt_tokens);
  const c = num(v.completion_tokens);
  const t = num(v.total_tokens);
  if (p !== undefined) usage.promptTokens = p;
  if (c !== undefined) usage.completionTokens = c;
  if (t !== undefined) usage.totalTokens = t;
  return p === undefined && c === undefined && t === undefined ? undefined : usage;
}

/** The choice with index 0 (or the first choice when none says its index). */
function firstChoice(data: Record<string, unknown>): Record<string, unknown> | undefined {
  const choices = data.choices;
  if (!Array.isArray(choices)) return undefined;
  for (const c of choices) if (isObject(c) && (c.index === 0 || c.index === undefined)) return c;
  return undefined;
}

const openaiChat: Extract = (data) => {
  if (!isObject(data)) return undefined;
  const usage = readUsage(data.usage);
  const choice = firstChoice(data);
  if (choice === undefined && !Array.isArray(data.choices)) return usage ? { usage } : undefined;
  const delta = choice?.delta;
  const text = isObject(delta) && typeof delta.content === 'string' ? delta.content : undefined;
  return { ...(text !== undefined && { text }), ...(usage && { usage }) };
};

const openaiCompletion: Extract = (data) => {
  if (!isObject(data)) return undefined;
  const usage = readUsage(data.usage);
  const choice = firstChoice(data);
  if (choice === undefined && !Array.isArray(data.choices)) return usage ? { usage } : undefined;
  const text = typeof choice?.text === 'string' ? choice.text : undefined;
  return { ...(text !== undefined && { text }), ...(usage && { usage }) };
};

const v2Generate: Extract = (data) => {
  if (!isObject(data)) return undefined;
  const text = typeof data.text_output === 'string' ? data.text_output : undefined;
  return text === undefined && data.model_name === undefined
    ? undefined
    : { ...(text !== undefined && { text }) };
};

const anyShape: Extract = (data) => {
  if (!isObject(data)) return undefined;
  if ('text_output' in data) return v2Generate(data);
  const choice = firstChoice(data);
  if (choice !== undefined && isObject(choice.delta)) return openaiChat(data);
  if (choice !== undefined && 'text' in choice) return openaiCompletion(data);
  return openaiChat(data) ?? {};
};

const EXTRACTORS: Record<Exclude<StreamKind, 'raw'>, Extract> = {
  'openai-chat': openaiChat,
  'openai-completion': openaiCompletion,
  'v2-generate': v2Generate,
  sse: anyShape,
};

/**
 * A new assembler for one response.
 *
 * @example
 *   const asm = createStreamAssembler(detectStreamKind(req.url, res.headers['content-type']) ?? 'raw');
 *   upstream.on('data', (chunk) => { client.write(chunk); asm.push(chunk); });
 *   upstream.on('end', () => { const { assembledText, usage, events } = asm.finish(); … });
 */
export function createStreamAssembler(
  kind: StreamKind,
  options: StreamAssemblerOptions = {},
): StreamAssembler {
  const maxText = options.maxTextChars ?? DEFAULT_MAX_TEXT;
  const maxLine = options.maxLineChars ?? DEFAULT_MAX_LINE;
  const result: AssembledStream = { events: 0, malformed: 0, done: false };
  let finished = false;

  if (kind === 'raw') {
    return {
      push() {},
      finish() {
        finished = true;
        return result;
      },
    };
  }

  const extract = EXTRACTORS[kind];
  const decoder = new TextDecoder('utf-8');
  let pending = ''; // an unterminated line
  let overLong = false; // the pending line went over maxLine and is being skipped
  let skipLf = false; // the previous chunk ended in CR: a leading LF belongs to that line end
  let data: string[] = [];
  let text = '';
  let hasText = false;

  const dispatch = (): void => {
    if (data.length === 0) return;
    const payload = data.join('\n');
    data = [];
    if (payload === '[DONE]') {
      result.done = true;
      return;
    }
    result.events++;
    let parsed: unknown;
    try {
      parsed = JSON.parse(payload);
    } catch {
      result.malformed++;
      return;
    }
    const got = extract(parsed);
    if (got === undefined) {
      result.malformed++;
      return;
    }
    if (got.usage) result.usage = got.usage;
    if (got.text !== undefined) {
      hasText = true;
      if (text.length < maxText) {
        const room = maxText - text.length;
        if (got.text.length > room) {
          text += got.text.slice(0, room);
          result.textTruncated = true;
        } else text += got.text;
      } else if (got.text.length > 0) result.textTruncated = true;
    }
  };

  const line = (l: string): void => {
    if (l === '') return dispatch();
    if (l.charCodeAt(0) === 0x3a /* ':' comment / keep-alive */) return;
    const colon = l.indexOf(':');
    const field = colon === -1 ? l : l.slice(0, colon);
    if (field !== 'data') return; // event:, id:, retry: and unknown fields do not carry text
    let value = colon === -1 ? '' : l.slice(colon + 1);
    if (value.charCodeAt(0) === 0x20) value = value.slice(1);
    data.push(value);
  };

  const feed = (s: string): void => {
    let start = 0;
    if (skipLf && s.length > 0) {
      if (s.charCodeAt(0) === 0x0a) start = 1;
      skipLf = false;
    }
    for (let i = start; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c !== 0x0a && c !== 0x0d) continue;
      if (overLong) {
        overLong = false;
        result.malformed++;
      } else line(pending + s.slice(start, i));
      pending = '';
      if (c === 0x0d) {
        if (i + 1 < s.length) {
          if (s.charCodeAt(i + 1) === 0x0a) i++;
        } else skipLf = true;
      }
      start = i + 1;
    }
    if (start < s.length && !overLong) {
      pending += s.slice(start);
      if (pending.length > maxLine) {
        pending = '';
        overLong = true;
      }
    }
  };

  return {
    push(chunk) {
      if (finished) return;
      feed(decoder.decode(chunk, { stream: true }));
    },
    finish() {
      if (finished) return result;
      finished = true;
      feed(decoder.decode());
      if (overLong) result.malformed++;
      else if (pending !== '') line(pending);
      pending = '';
      dispatch();
      if (hasText) result.assembledText = text;
      return result;
    },
  };
}
