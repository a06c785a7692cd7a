import type { Quantiles } from './quantiles.ts'
import type { LoadSummary, Progress } from './run.ts'

const ms = (v: number) => (Number.isFinite(v) ? (v >= 100 ? v.toFixed(0) : v.toFixed(1)) : '–')
const n = (v: number) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '–')
const codes = (m: Record<string, number>) =>
  Object.keys(m).length ? Object.entries(m).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ') : 'none'

function row(label: string, q: Quantiles, extra = ''): string {
  return `  ${label.padEnd(16)} ${ms(q.p50).padStart(8)} ${ms(q.p95).padStart(8)} ${ms(q.p99).padStart(8)} ${ms(q.max).padStart(8)}   n=${n(q.count)}${extra}`
}

/** The human summary printed at the end of a run. */
export function formatSummary(s: LoadSummary): string {
  const lines = [
    `run ${s.run_id}  ${s.url}`,
    `  ${s.streams} streams for ${s.duration_s}s (ramp ${s.ramp_s}s)`,
    '',
    `  ${'ms'.padEnd(16)} ${'p50'.padStart(8)} ${'p95'.padStart(8)} ${'p99'.padStart(8)} ${'max'.padStart(8)}`,
    row('ttfb', s.ttfb_ms),
    row('duration', s.duration_ms, '  (finished chats)'),
    row('inter-frame gap', s.gap_ms, '  (after the ramp)'),
    '',
    `  chats            ${n(s.chats.started)} started, ${n(s.chats.done)} done, ${n(s.chats.failed)} failed, ${n(s.chats.cut_at_end)} cut at the end of the run`,
    `  frames           ${n(s.frames)} (${n(s.frames_per_s)}/s after the ramp), tokens ${n(s.tokens)}`,
    `  lost frames      ${n(s.lost_frames)} (seq gaps)   repeated frames ${n(s.repeated_frames)} (seq repeats)`,
    `  retries          ${n(s.retries)}   resumes ${n(s.resumes)}   restarts ${n(s.restarts)}`,
    `  errors           ${codes(s.errors)}`,
    `  mid-stream       ${codes(s.errors_mid_stream)}`,
    `  load tool        CPU ${s.tool.cpu_percent.toFixed(0)}% of a core, event-loop lag p50 ${ms(s.tool.event_loop_lag_ms.p50)} / p99 ${ms(s.tool.event_loop_lag_ms.p99)} / max ${ms(s.tool.event_loop_lag_ms.max)} ms, RSS ${s.tool.rss_mib.toFixed(0)} MiB`,
  ]
  if (s.server) {
    const r = s.server.rss_mib
    lines.push(`  server pid ${s.server.pid}   CPU ${s.server.cpu_percent.toFixed(0)}% of a core, RSS ${r.first.toFixed(0)} → ${r.last.toFixed(0)} MiB (max ${r.max.toFixed(0)})`)
  }
  if (s.dashboard) {
    const d = s.dashboard
    lines.push(row('dashboard read', d.latency_ms, `  (${d.readers} readers; ${n(d.failed)} failed: ${codes(d.by_status)})`))
    for (const f of d.failures) lines.push(`    ${f}`)
  }
  return lines.join('\n')
}

/** One progress line: rewritten in place on a terminal, appended every few seconds otherwise. */
export function createProgressPrinter(stream: NodeJS.WriteStream, everySOnPipe = 5) {
  const tty = Boolean(stream.isTTY)
  let lastPrinted = -Infinity
  return {
    update(p: Progress) {
      const line = `[${p.elapsedS.toFixed(0).padStart(4)}s/${p.durationS}s] open ${p.open}  done ${p.done}  errors ${p.errors}  frames/s ${n(p.framesPerS)}  tool lag p99 ${ms(p.lagP99Ms)} ms`
      if (tty) stream.write(`\r\x1b[2K${line}`)
      else if (p.elapsedS - lastPrinted >= everySOnPipe) { stream.write(`${line}\n`); lastPrinted = p.elapsedS }
    },
    end() { if (tty) stream.write('\n') },
  }
}
