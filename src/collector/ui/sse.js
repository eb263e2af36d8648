// @ts-check
/**
 * Server-sent events (a streamed OpenAI-style answer) → events, the assembled text and usage.
 *
 *   "data: {…delta…}\n\ndata: {…}\n\ndata: [DONE]\n\n" ──▶ [{ event, data, json }], text, usage
 */

/**
 * @typedef {{ event: string, data: string, json: any }} SseEvent
 * @typedef {{ events: SseEvent[], text: string, usage: any }} ParsedStream
 */

/** True when the response looks like an event stream. @param {string|null|undefined} contentType @param {string} body */
export function isEventStream(contentType, body) {
  if (contentType && /^text\/event-stream\b/i.test(contentType)) return true;
  return /^(data|event|id|retry):/.test(body.trimStart().slice(0, 8));
}

/** @param {string} body @returns {ParsedStream} */
export function parseSse(body) {
  /** @type {SseEvent[]} */
  const events = [];
  let text = '';
  /** @type {any} */
  let usage = null;
  for (const block of body.split(/\r?\n\r?\n/)) {
    if (block.trim() === '') continue;
    let event = 'message';
    /** @type {string[]} */
    const data = [];
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith(':')) continue;
      const i = line.indexOf(':');
      const field = i === -1 ? line : line.slice(0, i);
      const value = i === -1 ? '' : line.slice(i + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
    const d = data.join('\n');
    /** @type {any} */
    let json = null;
    try {
      json = d && d !== '[DONE]' ? JSON.parse(d) : null;
    } catch {
      json = null;
    }
    if (json && typeof json === 'object') {
      for (const c of Array.isArray(json.choices) ? json.choices : []) {
        const piece = c?.delta?.content ?? c?.text ?? c?.message?.content;
        if (typeof piece === 'string') text += piece;
      }
      if (json.usage && typeof json.usage === 'object') usage = json.usage;
    }
    events.push({ event, data: d, json });
  }
  return { events, text, usage };
}
