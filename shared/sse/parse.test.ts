import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { createSSEParser, parseSSE, type SSEEvent } from './parse.ts';

const encoder = new TextEncoder();
type Chunk = string | number[] | Uint8Array;
const toBytes = (chunk: Chunk) =>
  typeof chunk === 'string' ? encoder.encode(chunk) : chunk instanceof Uint8Array ? chunk : new Uint8Array(chunk);

function parseChunks(chunks: Chunk[]): { events: SSEEvent[]; retries: number[] } {
  const events: SSEEvent[] = [];
  const retries: number[] = [];
  const parser = createSSEParser({ onEvent: (e) => events.push(e), onRetry: (ms) => retries.push(ms) });
  for (const chunk of chunks) parser.feed(toBytes(chunk));
  parser.end();
  return { events, retries };
}

const eventsOf = (...chunks: Chunk[]) => parseChunks(chunks).events;
const message = (data: string, id = '', event = 'message'): SSEEvent => ({ event, data, id });

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function cut(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let from = 0;
  for (const p of [...points, bytes.length]) {
    chunks.push(bytes.subarray(from, p));
    from = p;
  }
  return chunks;
}

const byteByByte = (bytes: Uint8Array) => Array.from(bytes, (b) => [b]);

describe('createSSEParser: parsing an event stream (§9.2.5)', () => {
  it('strips one leading BOM, even split byte by byte, and only at the very start', () => {
    expect(eventsOf([0xef], [0xbb], [0xbf], 'data: a\n\n')).toEqual([message('a')]);
    // A second BOM is content: it becomes part of the first field name, an unknown field.
    expect(eventsOf('\uFEFF\uFEFFdata: a\n\n')).toEqual([]);
    expect(eventsOf('data: a\n\n\uFEFFdata: b\n\n')).toEqual([message('a')]);
  });

  it('ends lines at LF, CR and CRLF alike', () => {
    expect(eventsOf('data: a\n\n')).toEqual([message('a')]);
    expect(eventsOf('data: a\r\r')).toEqual([message('a')]);
    expect(eventsOf('data: a\r\n\r\n')).toEqual([message('a')]);
    expect(eventsOf('data: a\rdata: b\r\ndata: c\n\r\n')).toEqual([message('a\nb\nc')]);
  });

  it('counts a CR ending one chunk and the LF starting the next as one line end', () => {
    expect(eventsOf('data: a\r', '\ndata: b\r', '\n\r', '\n')).toEqual([message('a\nb')]);
    // Chunks that decode to nothing (empty, or half a character) do not break up the pair.
    expect(eventsOf('data: a\r', '', '\ndata: b\n\n')).toEqual([message('a\nb')]);
    expect(eventsOf('data: a\r', [0xc3], [0xa9, 0x0a, 0x0a])).toEqual([message('a')]);
    // Two CRs are two line ends, however they are split.
    expect(eventsOf('data: a\r', '\r')).toEqual([message('a')]);
    // Only a CR at the very end of a chunk waits for an LF; one inside it does not.
    expect(eventsOf('data: a', 'b\rdata: c', '\n\n')).toEqual([message('ab\nc')]);
  });

  it('decodes UTF-8 with multi-byte characters split across chunks', () => {
    const bytes = encoder.encode('data: 🙂é€\n\n');
    expect(eventsOf(...byteByByte(bytes))).toEqual([message('🙂é€')]);
    expect(eventsOf('data: ', [0xf0, 0x9f], [0x99, 0x82], '\n\n')).toEqual([message('🙂')]);
  });

  it('replaces invalid UTF-8 with U+FFFD', () => {
    expect(eventsOf('data: ', [0xff, 0x61], '\n\n')).toEqual([message('\uFFFDa')]);
    // A character cut short by a line end is an error, not a reason to swallow the line end.
    expect(eventsOf('data: ', [0xf0, 0x9f], '\n\n')).toEqual([message('\uFFFD')]);
  });

  it('ignores comment lines and never dispatches for them', () => {
    expect(eventsOf(': heartbeat\n\n', ':\n\n', 'data: a\n: in between\ndata: b\n\n')).toEqual([message('a\nb')]);
  });

  it('takes a line without a colon as a field name with an empty value', () => {
    expect(eventsOf('data\n\n')).toEqual([message('')]);
    expect(eventsOf('data\ndata\n\n')).toEqual([message('\n')]);
    expect(eventsOf('event: x\nevent\ndata: a\n\n')).toEqual([message('a')]);
  });

  it('strips exactly one space after the colon, and only a space', () => {
    expect(eventsOf('data:a\n\n')).toEqual([message('a')]);
    expect(eventsOf('data: a\n\n')).toEqual([message('a')]);
    expect(eventsOf('data:  a \n\n')).toEqual([message(' a ')]);
    expect(eventsOf('data:\ta\n\n')).toEqual([message('\ta')]);
    expect(eventsOf('data: a: b\n\n')).toEqual([message('a: b')]);
  });

  it('compares field names literally', () => {
    expect(eventsOf('Data: a\ndata : b\ndatum: c\ndat: d\n\n')).toEqual([]);
  });

  it('joins multi-line data with LF, keeping empty lines', () => {
    expect(eventsOf('data: a\ndata:\ndata: b\n\n')).toEqual([message('a\n\nb')]);
    expect(eventsOf('data:\n\n')).toEqual([message('')]);
  });

  it('does not dispatch a blank line without data, and forgets its event type', () => {
    expect(eventsOf('event: ping\n\n', 'data: a\n\n')).toEqual([message('a')]);
    expect(eventsOf('\n\n\n')).toEqual([]);
  });

  it('resets the event type after each dispatch and defaults it to "message"', () => {
    expect(eventsOf('event: delta\ndata: 1\n\ndata: 2\n\nevent:\ndata: 3\n\n')).toEqual([
      message('1', '', 'delta'),
      message('2'),
      message('3'),
    ]);
  });

  it('keeps the last event ID across events until the server changes or clears it', () => {
    expect(eventsOf('data: a\n\nid: 7\ndata: b\n\ndata: c\n\nid: 8\n\ndata: d\n\nid\ndata: e\n\nid: 9\n\nid:\ndata: f\n\n')).toEqual([
      message('a', ''),
      message('b', '7'),
      message('c', '7'),
      message('d', '8'),
      message('e', ''),
      message('f', ''),
    ]);
  });

  it('ignores an id containing U+0000', () => {
    expect(eventsOf('id: 1\ndata: a\n\nid: 2\0x\ndata: b\n\n')).toEqual([message('a', '1'), message('b', '1')]);
  });

  it('takes retry only when it is ASCII digits', () => {
    const { retries, events } = parseChunks(['retry: 1000\nretry:250\nretry: 10a\nretry: -5\nretry:  5\nretry: 1.5\nretry: ٣\nretry:\nretry\n\n']);
    expect(retries).toEqual([1000, 250]);
    expect(events).toEqual([]);
  });

  it('ignores unknown fields', () => {
    expect(eventsOf('foo: bar\nretry_ms: 1\ndata: a\nx\n\n')).toEqual([message('a')]);
  });

  it('does not dispatch an unterminated final event, and discards a partial final line', () => {
    expect(eventsOf('data: a\n\ndata: b\n')).toEqual([message('a')]);
    expect(eventsOf('data: a\n\ndata: b')).toEqual([message('a')]);
    expect(eventsOf('data: a\r\rid: 1\rdata: b\r')).toEqual([message('a')]);
  });

  it('starts afresh after end(), as for a new stream', () => {
    const events: SSEEvent[] = [];
    const parser = createSSEParser({ onEvent: (e) => events.push(e) });
    parser.feed(encoder.encode('id: 1\ndata: a\n\ndata: half'));
    parser.end();
    parser.feed(encoder.encode('\uFEFFdata: b\n\n'));
    expect(events).toEqual([message('a', '1'), message('b', '')]);
  });

  it('keeps a long line arriving in many small chunks intact', () => {
    const value = 'x'.repeat(20_000);
    const chunks = ['data: ', ...value.match(/.{1,7}/g)!, '\n\n'];
    expect(eventsOf(...chunks)).toEqual([message(value)]);
  });
});

// The spec, read line by line over the whole stream, with no thought for speed or chunks.
function referenceParse(bytes: Uint8Array): { events: SSEEvent[]; retries: number[] } {
  // UTF-8 decode: one leading BOM dropped, errors become U+FFFD.
  const text = new TextDecoder().decode(bytes);
  const events: SSEEvent[] = [];
  const retries: number[] = [];
  let data = '';
  let type = '';
  let lastId = '';
  let i = 0;
  for (;;) {
    let j = i;
    while (j < text.length && text[j] !== '\r' && text[j] !== '\n') j++;
    // Text after the last line end is an incomplete line: discarded at end of stream.
    if (j === text.length) break;
    const line = text.slice(i, j);
    i = text[j] === '\r' && text[j + 1] === '\n' ? j + 2 : j + 1;

    if (line === '') {
      if (data === '') {
        type = '';
        continue;
      }
      if (data.endsWith('\n')) data = data.slice(0, -1);
      events.push({ event: type === '' ? 'message' : type, data, id: lastId });
      data = '';
      type = '';
      continue;
    }
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') type = value;
    else if (field === 'data') data += value + '\n';
    else if (field === 'id') {
      if (!value.includes('\0')) lastId = value;
    } else if (field === 'retry') {
      if (/^[0-9]+$/.test(value)) retries.push(parseInt(value, 10));
    }
  }
  return { events, retries };
}

const valueArb = fc
  .oneof(
    fc.string({ unit: 'binary', maxLength: 12 }),
    fc.string({ unit: 'grapheme', maxLength: 8 }),
    fc.nat().map(String),
    fc.constantFrom('', ' ', '  two', 'a: b', '\0', '4 2', '-5', '🙂', 'é', '\uFEFF'),
  )
  .map((v) => v.replace(/[\r\n]/g, ''));

const separatorArb = fc.constantFrom('', ':', ': ', ':  ');
const field = ([name, separator, value]: [string, string, string]) => (separator === '' ? name : name + separator + value);

// Weighted so that most streams dispatch several events, with the other line kinds mixed in.
const lineArb = fc.oneof(
  { arbitrary: fc.tuple(fc.constant('data'), separatorArb, valueArb).map(field), weight: 4 },
  {
    arbitrary: fc
      .tuple(fc.constantFrom('event', 'id', 'retry', 'dat', 'datax', 'Data', 'x', ''), separatorArb, valueArb)
      .map(field),
    weight: 3,
  },
  { arbitrary: valueArb.map((v) => ':' + v), weight: 1 },
  { arbitrary: fc.constant(''), weight: 3 },
);

const streamArb = fc
  .record({
    bom: fc.boolean(),
    lines: fc.array(fc.tuple(lineArb, fc.constantFrom('\n', '\r', '\r\n')), { maxLength: 40, size: 'medium' }),
    tail: fc.option(lineArb, { nil: undefined }),
  })
  .map(({ bom, lines, tail }) => encoder.encode((bom ? '\uFEFF' : '') + lines.map(([l, e]) => l + e).join('') + (tail ?? '')));

// Bytes built to hit the edges: line ends, BOM and multi-byte pieces, invalid bytes, field names.
const rawArb = fc
  .array(
    fc.oneof(
      {
        arbitrary: fc
          .constantFrom('data', 'data:', 'data: x\n', 'event: x', 'id:', 'id: 7\n', 'retry: 5\n', ':', ' ', '\n', '\n\n', '\r', '\r\r', '\r\n', '1', '\0', 'é', '🙂')
          .map((s) => encoder.encode(s)),
        weight: 6,
      },
      {
        arbitrary: fc.constantFrom([0xef, 0xbb, 0xbf], [0xf0, 0x9f], [0x99, 0x82], [0xc3], [0xff], [0x80]).map((b) => new Uint8Array(b)),
        weight: 2,
      },
      { arbitrary: fc.uint8Array({ maxLength: 3 }), weight: 1 },
    ),
    { maxLength: 60, size: 'medium' },
  )
  .map(concat);

const cutsArb = fc.array(fc.nat(), { maxLength: 24 });

describe('createSSEParser: properties', () => {
  for (const [name, arb] of [
    ['generated event streams', streamArb],
    ['edge-case byte soup', rawArb],
  ] as const) {
    it(`gives the same result for any chunking as for the whole stream (${name})`, () => {
      fc.assert(
        fc.property(arb, cutsArb, (bytes, cuts) => {
          const whole = parseChunks([bytes]);
          expect(parseChunks(cut(bytes, cuts))).toEqual(whole);
          expect(parseChunks(byteByByte(bytes))).toEqual(whole);
        }),
        { numRuns: 300 },
      );
    });

    it(`agrees with a line-by-line reference written from the spec (${name})`, () => {
      fc.assert(
        fc.property(arb, cutsArb, (bytes, cuts) => {
          expect(parseChunks(cut(bytes, cuts))).toEqual(referenceParse(bytes));
        }),
        { numRuns: 500 },
      );
    });
  }
});

// The client many people write first. Each case below is one of its known bugs.
function naiveParse(text: string): { event: string; data: string; id: string }[] {
  const events: { event: string; data: string; id: string }[] = [];
  for (const block of text.split('\n\n')) {
    const e = { event: 'message', data: '', id: '' };
    for (const line of block.split('\n')) {
      if (line.startsWith('data:')) e.data += line.slice(5).trim();
      else if (line.startsWith('event:')) e.event = line.slice(6).trim();
    }
    if (block.trim() !== '') events.push(e);
  }
  return events;
}

describe('createSSEParser: the naive client bugs are absent', () => {
  const cases: [string, string, SSEEvent[]][] = [
    ['CRLF frames', 'data: a\r\n\r\ndata: b\r\n\r\n', [message('a'), message('b')]],
    ['multi-line data joined without a newline', 'data: {"a":\ndata: 1}\n\n', [message('{"a":\n1}')]],
    ['meaningful spaces trimmed', 'data:   indented \n\n', [message('  indented ')]],
    ['empty events for comments', ': heartbeat\n\ndata: a\n\n', [message('a')]],
    ['id ignored', 'id: 41\ndata: a\n\n', [message('a', '41')]],
  ];
  for (const [bug, stream, expected] of cases) {
    it(bug, () => {
      expect(naiveParse(stream)).not.toEqual(expected);
      expect(eventsOf(stream)).toEqual(expected);
    });
  }

  it('retry ignored', () => {
    expect(parseChunks(['retry: 3000\n\n']).retries).toEqual([3000]);
  });
});

function streamOf(chunks: Chunk[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(toBytes(chunk));
      controller.close();
    },
  });
}

describe('parseSSE', () => {
  it('yields the events of a ReadableStream and reports retry', async () => {
    const retries: number[] = [];
    const events: SSEEvent[] = [];
    const stream = streamOf(['retry: 500\nid: 1\nevent: delta\ndata: a\r', '\n\r\ndata: ', [0xf0, 0x9f], [0x99, 0x82], '\n\ndata: cut']);
    for await (const e of parseSSE(stream, { onRetry: (ms) => retries.push(ms) })) events.push(e);
    expect(events).toEqual([message('a', '1', 'delta'), message('🙂', '1')]);
    expect(retries).toEqual([500]);
    expect(stream.locked).toBe(false);
  });

  it('cancels the stream and releases it when the consumer stops early', async () => {
    let cancels = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(encoder.encode('data: tick\n\ndata: tock\n\n'));
      },
      cancel() {
        cancels++;
      },
    });
    const seen: SSEEvent[] = [];
    for await (const e of parseSSE(stream)) {
      seen.push(e);
      if (seen.length === 3) break;
    }
    expect(seen.map((e) => e.data)).toEqual(['tick', 'tock', 'tick']);
    expect(cancels).toBe(1);
    expect(stream.locked).toBe(false);
  });

  it('cancels on an explicit return()', async () => {
    let cancels = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(encoder.encode('data: x\n\n'));
      },
      cancel() {
        cancels++;
      },
    });
    const events = parseSSE(stream);
    expect((await events.next()).value).toEqual(message('x'));
    expect(await events.return(undefined)).toEqual({ done: true, value: undefined });
    expect(cancels).toBe(1);
    expect(stream.locked).toBe(false);
  });

  it('passes on a stream error after the events before it', async () => {
    const failure = new Error('connection reset');
    let sent = false;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent) controller.error(failure);
        else controller.enqueue(encoder.encode('data: a\n\n'));
        sent = true;
      },
    });
    const seen: SSEEvent[] = [];
    await expect(
      (async () => {
        for await (const e of parseSSE(stream)) seen.push(e);
      })(),
    ).rejects.toBe(failure);
    expect(seen).toEqual([message('a')]);
    expect(stream.locked).toBe(false);
  });
});
