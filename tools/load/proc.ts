// Another process's CPU and memory, read from Linux's /proc: the load tool samples the server it
// targets from outside, without any endpoint or code in the server.
import { execFileSync } from 'node:child_process'
import { readFileSync, readdirSync, readlinkSync } from 'node:fs'

let clockTicks: number | undefined
/** USER_HZ (almost always 100): the unit of utime/stime in /proc/<pid>/stat. */
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try { clockTicks = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100 } catch { clockTicks = 100 }
  }
  return clockTicks
}

/** CPU seconds (user + system) the process has used so far; NaN when it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name (field 2) may hold spaces or parentheses; the fields after its last ')' are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond() // utime, stime (fields 14, 15)
  } catch {
    return NaN
  }
}

/** Resident set size in MiB (VmRSS); NaN when the process is gone. */
export function rssMiB(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) / 1024 : NaN
  } catch {
    return NaN
  }
}

/** The pid of the process listening on 127.0.0.1:<port> (or any address), if this user can see it. */
export function pidListeningOn(port: number): number | undefined {
  const inodes = new Set<string>()
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = ''
    try { text = readFileSync(table, 'utf8') } catch { continue }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/)
      // f[1] local address hex "0100007F:D431", f[3] state (0A = LISTEN), f[9] inode
      if (f.length > 9 && f[3] === '0A' && parseInt(f[1].split(':')[1], 16) === port) inodes.add(f[9])
    }
  }
  if (!inodes.size) return undefined
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    let fds: string[]
    try { fds = readdirSync(`/proc/${entry}/fd`) } catch { continue }
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${entry}/fd/${fd}`))
        if (m && inodes.has(m[1])) return Number(entry)
      } catch { /* fd closed meanwhile */ }
    }
  }
  return undefined
}

export interface ProcSample { t: number; cpuPercent: number; rssMiB: number }

export interface ProcSampler {
  readonly samples: ProcSample[]
  /** CPU% of one core over the whole sampling so far. */
  cpuPercent(): number
  stop(): ProcSample[]
}

/** Samples a process every `intervalMs`: CPU% of one core since the previous sample, and RSS. */
export function sampleProcess(pid: number, intervalMs: number): ProcSampler {
  const samples: ProcSample[] = []
  const t0 = performance.now()
  const cpu0 = cpuSeconds(pid)
  let lastT = t0
  let lastCpu = cpu0
  const timer = setInterval(() => {
    const t = performance.now()
    const cpu = cpuSeconds(pid)
    samples.push({ t: (t - t0) / 1000, cpuPercent: ((cpu - lastCpu) / ((t - lastT) / 1000)) * 100, rssMiB: rssMiB(pid) })
    lastT = t
    lastCpu = cpu
  }, intervalMs)
  timer.unref()
  const cpuPercent = () => ((cpuSeconds(pid) - cpu0) / ((performance.now() - t0) / 1000)) * 100
  return {
    samples,
    cpuPercent,
    stop() { clearInterval(timer); return samples },
  }
}

/**
 * Bytes the kernel holds for TCP connections of a local server port: what the server's sockets
 * have not sent yet (send queues) and what the clients' sockets have not read yet (receive queues).
 * Data a slow reader has not taken sits here, outside every process's memory.
 */
export function kernelQueues(serverPort: number): { connections: number; serverSendQueue: number; clientReceiveQueue: number } {
  const out = { connections: 0, serverSendQueue: 0, clientReceiveQueue: 0 }
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = ''
    try { text = readFileSync(table, 'utf8') } catch { continue }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/)
      if (f.length < 5 || f[3] !== '01') continue // ESTABLISHED only
      const local = parseInt(f[1].split(':')[1], 16)
      const remote = parseInt(f[2].split(':')[1], 16)
      const [tx, rx] = f[4].split(':').map((h) => parseInt(h, 16))
      if (local === serverPort) { out.connections++; out.serverSendQueue += tx }
      else if (remote === serverPort) out.clientReceiveQueue += rx
    }
  }
  return out
}

/** CPU seconds of a process and its children (a PostgreSQL postmaster and its backends). */
export function treeCpuSeconds(pid: number): number {
  let total = cpuSeconds(pid)
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      if (ppid === pid) total += cpuSeconds(Number(entry))
    } catch { /* gone meanwhile */ }
  }
  return total
}
