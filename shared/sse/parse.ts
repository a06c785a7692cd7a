// Server-sent events parser, to the letter of the HTML Living Standard §9.2.5 "Parsing an event
// stream" and §9.2.6 "Interpreting an event stream". Web standards only, so it runs unchanged in
// browsers, Node and Deno.
//
// It sits on the hot path of the load tester, so it never builds strings per byte: each chunk is
// decoded once and scanned with indexOf, and a line is sliced out only when its value is kept.

export type SSEEvent = { event: string; data: string; id: string };

export type SSEParserOptions = {
  onEvent: (event: SSEEvent) => void;
  onRetry?: (ms: number) => void;
};

export type SSEParser = {
  feed(bytes: Uint8Array): void;
  end(): void;
};

const LF = 10;
const CR = 13;
const SPACE = 32;
const COLON = 58;
const BOM = 0xfeff;

export function createSSEParser({ onEvent, onRetry }: SSEParserOptions): SSEParser {
  // The BOM is stripped by hand (ignoreBOM: true) so "one BOM, only at the very start" is visible
  // here rather than left to each runtime's decoder; fatal stays false so bad bytes become U+FFFD.
  let decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  let atStart = true;
  // The incomplete last line of earlier chunks.
  let carry = '';
  // The previous chunk ended in CR: if this one starts with LF, the pair is one line end, not two.
  let skipLF = false;

  // The spec's data buffer gets "value + LF" per line and loses the final LF at dispatch; joining
  // lines with LF gives the same string without the strip.
  let data = '';
  let hasData = false;
  let eventType = '';
  // Never reset by a dispatch: every event carries the last ID the server set.
  let lastEventId = '';

  function feed(bytes: Uint8Array): void {
    const text = decoder.decode(bytes, { stream: true });
    // A chunk holding only part of a multi-byte character decodes to nothing; keep the state as is.
    if (text.length === 0) return;

    let pos = 0;
    if (atStart) {
      atStart = false;
      if (text.charCodeAt(0) === BOM) pos = 1;
    }
    if (skipLF) {
      skipLF = false;
      if (text.charCodeAt(pos) === LF) pos++;
    }

    // Found lazily and kept until passed, so each line costs one search, not one per terminator.
    let cr = text.indexOf('\r', pos);
    let lf = text.indexOf('\n', pos);

    if (carry !== '') {
      const end = lf !== -1 && (cr === -1 || lf < cr) ? lf : cr;
      // Appending without flattening keeps a long line that arrives in many pieces linear.
      if (end === -1) {
        carry += pos === 0 ? text : text.slice(pos);
        return;
      }
      // Only the carried line is joined (with its line end), never the whole chunk.
      const next = text.charCodeAt(end) === CR && text.charCodeAt(end + 1) === LF ? end + 2 : end + 1;
      const line = carry + text.slice(pos, next);
      carry = '';
      scan(line, 0, line.indexOf('\r'), line.indexOf('\n'));
      // A lone CR ends `line`, but only one at the very end of the chunk may pair with the next.
      if (next < text.length) skipLF = false;
      pos = next;
      if (cr !== -1 && cr < pos) cr = text.indexOf('\r', pos);
      if (lf !== -1 && lf < pos) lf = text.indexOf('\n', pos);
    }

    pos = scan(text, pos, cr, lf);
    if (pos < text.length) carry = text.slice(pos);
  }

  // Parses every complete line of `text` from `pos`, given the first CR and LF at or after it;
  // returns where the incomplete last line starts. The field handling is written inline, not in a
  // per-line function: V8 does not reliably inline one here, and the calls cost several per cent.
  function scan(text: string, pos: number, cr: number, lf: number): number {
    const length = text.length;
    for (;;) {
      let end: number;
      if (lf !== -1 && (cr === -1 || lf < cr)) end = lf;
      else if (cr !== -1) end = cr;
      else return pos;

      // `text[end]` is a line end, never a letter, colon or space, so the character comparisons
      // below cannot match past the end of the line.
      const c = text.charCodeAt(pos);
      let value: number;
      if (pos === end) dispatch();
      else if (
        c === 100 &&
        text.charCodeAt(pos + 1) === 97 &&
        text.charCodeAt(pos + 2) === 116 &&
        text.charCodeAt(pos + 3) === 97 &&
        (value = valueStart(text, pos + 4, end)) !== -1
      ) {
        const line = text.slice(value, end);
        if (hasData) data = data + '\n' + line;
        else {
          data = line;
          hasData = true;
        }
      } else if (
        c === 101 &&
        text.charCodeAt(pos + 1) === 118 &&
        text.charCodeAt(pos + 2) === 101 &&
        text.charCodeAt(pos + 3) === 110 &&
        text.charCodeAt(pos + 4) === 116 &&
        (value = valueStart(text, pos + 5, end)) !== -1
      ) {
        eventType = text.slice(value, end);
      } else if (c === 105 && text.charCodeAt(pos + 1) === 100 && (value = valueStart(text, pos + 2, end)) !== -1) {
        if (!hasNul(text, value, end)) lastEventId = text.slice(value, end);
      } else if (
        c === 114 &&
        text.charCodeAt(pos + 1) === 101 &&
        text.charCodeAt(pos + 2) === 116 &&
        text.charCodeAt(pos + 3) === 114 &&
        text.charCodeAt(pos + 4) === 121 &&
        (value = valueStart(text, pos + 5, end)) !== -1
      ) {
        retry(text, value, end);
      }
      // Anything else is a comment (leading colon) or an unknown field: ignored.

      if (end === lf) pos = lf + 1;
      else if (cr + 1 === length) {
        skipLF = true;
        return length;
      } else pos = text.charCodeAt(cr + 1) === LF ? cr + 2 : cr + 1;

      // The blank line that ends an event is the commonest line after data: dispatch it without
      // another search.
      if (text.charCodeAt(pos) === LF) {
        dispatch();
        pos++;
      }
      if (cr !== -1 && cr < pos) cr = text.indexOf('\r', pos);
      if (lf !== -1 && lf < pos) lf = text.indexOf('\n', pos);
    }
  }

  function retry(text: string, start: number, end: number): void {
    // An empty value has no digits to interpret, so it is ignored like any other non-number.
    if (start === end || onRetry === undefined) return;
    for (let i = start; i < end; i++) {
      const c = text.charCodeAt(i);
      if (c < 48 || c > 57) return;
    }
    onRetry(parseInt(text.slice(start, end), 10));
  }

  function dispatch(): void {
    if (!hasData) {
      eventType = '';
      return;
    }
    const event: SSEEvent = { event: eventType === '' ? 'message' : eventType, data, id: lastEventId };
    data = '';
    hasData = false;
    eventType = '';
    onEvent(event);
  }

  // Per the spec, an event not followed by a blank line is discarded. Every buffer starts afresh,
  // so the parser can be fed the next stream (a reconnection) from its first byte.
  function end(): void {
    decoder = new TextDecoder('utf-8', { ignoreBOM: true });
    atStart = true;
    carry = '';
    skipLF = false;
    data = '';
    hasData = false;
    eventType = '';
    lastEventId = '';
  }

  return { feed, end };
}

// After a field name of known length ends at `at`: where its value starts, or -1 if the name goes
// on ("datum:" is another field). A line without a colon is all name, with an empty value.
function valueStart(text: string, at: number, end: number): number {
  if (at === end) return end;
  if (text.charCodeAt(at) !== COLON) return -1;
  return text.charCodeAt(at + 1) === SPACE ? at + 2 : at + 1;
}

// A loop, not indexOf: indexOf would search on past the line to the end of the chunk.
function hasNul(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (text.charCodeAt(i) === 0) return true;
  return false;
}

export async function* parseSSE(
  stream: ReadableStream<Uint8Array>,
  options: { onRetry?: (ms: number) => void } = {},
): AsyncGenerator<SSEEvent> {
  let queue: SSEEvent[] = [];
  const parser = createSSEParser({ onEvent: (event) => queue.push(event), onRetry: options.onRetry });
  const reader = stream.getReader();
  let finished = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parser.feed(value);
      if (queue.length === 0) continue;
      const ready = queue;
      queue = [];
      for (const event of ready) yield event;
    }
    finished = true;
    parser.end();
  } finally {
    // The consumer stopped early (return() or a throw) or the read failed: tell the producer to
    // stop, so an HTTP body is not left downloading for nobody.
    if (!finished) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}
