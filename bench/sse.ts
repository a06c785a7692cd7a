// Throughput of our SSE parser against eventsource-parser on the load tester's traffic shape.
// Run: npx tsx bench/sse.ts   (prints figures; fails only if the two parsers disagree on the count)
import { createParser } from 'eventsource-parser';
import { createSSEParser } from '../shared/sse/parse.ts';
import { createRandom } from '../shared/random.ts';

const TARGET_BYTES = 50 * 1024 * 1024;
const CHUNK_BYTES = 64 * 1024;
const WARMUP_ROUNDS = 3;
const ROUNDS = 15;

const WORDS = ['the', 'stream', 'token', 'latency', 'answer', 'model', 'café', 'naïve', 'ok 🙂', 'résumé', 'p95', 'edge'];

function buildStream(): { bytes: Uint8Array; frames: number } {
  const random = createRandom(42);
  const hex = () => Math.floor(random() * 0x100000000).toString(16).padStart(8, '0');
  const encoder = new TextEncoder();
  const parts: string[] = [];
  let size = 0;
  let frames = 0;
  let traceId = '';
  while (size < TARGET_BYTES) {
    // One trace per answer of ~200 deltas, as the load tester sees it.
    if (frames % 200 === 0) traceId = hex() + hex() + hex() + hex();
    const words: string[] = [];
    const count = 1 + Math.floor(random() * 5);
    for (let i = 0; i < count; i++) words.push(WORDS[Math.floor(random() * WORDS.length)]);
    const delta = words.join(' ') + (random() < 0.1 ? '\\n\\n' : ' ');
    const frame = `event: chat.delta\nid: ${frames}\ndata: {"trace_id":"${traceId}","seq":${frames},"delta":"${delta}"}\n\n`;
    parts.push(frame);
    // Byte length, not string length: é and 🙂 take more than one byte.
    size += encoder.encode(frame).byteLength;
    frames++;
    if (frames % 50 === 0) {
      parts.push(': heartbeat\n\n');
      size += 13;
    }
  }
  return { bytes: encoder.encode(parts.join('')), frames };
}

function toChunks(bytes: Uint8Array): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += CHUNK_BYTES) chunks.push(bytes.subarray(i, i + CHUNK_BYTES));
  return chunks;
}

function runOurs(chunks: Uint8Array[]): number {
  let events = 0;
  const parser = createSSEParser({ onEvent: () => void events++ });
  for (const chunk of chunks) parser.feed(chunk);
  parser.end();
  return events;
}

// eventsource-parser takes strings, so it is fed through a streaming decoder: that is how it is used.
function runTheirs(chunks: Uint8Array[]): number {
  let events = 0;
  const decoder = new TextDecoder();
  const parser = createParser({ onEvent: () => void events++ });
  for (const chunk of chunks) parser.feed(decoder.decode(chunk, { stream: true }));
  parser.feed(decoder.decode());
  return events;
}

function time(run: (chunks: Uint8Array[]) => number, chunks: Uint8Array[]): { ms: number; events: number } {
  const started = performance.now();
  const events = run(chunks);
  return { ms: performance.now() - started, events };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const { bytes, frames } = buildStream();
const chunks = toChunks(bytes);
const mb = bytes.length / 1e6;
// Chunks that start with a UTF-8 continuation byte: a character was cut in two at the boundary.
const splitChars = chunks.filter((chunk) => (chunk[0] & 0xc0) === 0x80).length;

const ours: number[] = [];
const theirs: number[] = [];
let ourEvents = 0;
let theirEvents = 0;
// Interleaved, alternating who goes first, so drift in the machine's speed hits both alike.
for (let round = 0; round < WARMUP_ROUNDS + ROUNDS; round++) {
  const order = round % 2 === 0 ? ['ours', 'theirs'] : ['theirs', 'ours'];
  for (const who of order) {
    const result = who === 'ours' ? time(runOurs, chunks) : time(runTheirs, chunks);
    if (who === 'ours') ourEvents = result.events;
    else theirEvents = result.events;
    if (round >= WARMUP_ROUNDS) (who === 'ours' ? ours : theirs).push(result.ms);
  }
}

const row = (name: string, ms: number, events: number) =>
  `${name.padEnd(22)}${(mb / (ms / 1000)).toFixed(1).padStart(10)}${((events / (ms / 1000)) / 1e6).toFixed(2).padStart(12)}${ms.toFixed(1).padStart(12)}`;

const oursMs = median(ours);
const theirsMs = median(theirs);
console.log(
  `input ${mb.toFixed(1)} MB, ${chunks.length} chunks of ${CHUNK_BYTES / 1024} KiB (${splitChars} cut inside a character), ` +
    `${frames} events; median of ${ROUNDS} rounds after ${WARMUP_ROUNDS} warm-up`,
);
console.log(`${'parser'.padEnd(22)}${'MB/s'.padStart(10)}${'M events/s'.padStart(12)}${'median ms'.padStart(12)}`);
console.log(row('streamscope', oursMs, ourEvents));
console.log(row('eventsource-parser', theirsMs, theirEvents));
console.log(`ratio ours/theirs (throughput): ${(theirsMs / oursMs).toFixed(2)}x`);

if (ourEvents !== theirEvents || ourEvents !== frames) {
  console.error(`event counts differ: ours ${ourEvents}, eventsource-parser ${theirEvents}, frames written ${frames}`);
  process.exitCode = 1;
}
