// CPU time (not wall time) spent by this process and by every process of the
// benchmark's own PostgreSQL cluster: on a shared, busy machine wall-clock rates
// swing with the neighbours' load, CPU seconds per unit of work do not.
import { readFileSync, readdirSync } from 'node:fs'
import type { Sql } from 'postgres'

const TICK_MS = 10 // USER_HZ = 100 on Linux

function procCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS // utime + stime
  } catch { return 0 } // exited meanwhile
}

function childrenOf(ppid: number): number[] {
  const out: number[] = []
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8')
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === ppid) out.push(Number(d))
    } catch { /* gone */ }
  }
  return out
}

export interface CpuMeter { read(): Promise<{ nodeMs: number; pgMs: number }> }

/** Cumulative CPU of this process and of the cluster's postmaster and its children (backends, WAL writer…). */
export async function createCpuMeter(sql: Sql): Promise<CpuMeter> {
  const [{ dir }] = await sql`select setting as dir from pg_settings where name = 'data_directory'`
  const postmaster = Number(readFileSync(`${dir}/postmaster.pid`, 'utf8').split('\n')[0])
  // Exited backends' CPU is lost from /proc; keep the pool's connections alive for the run instead.
  return {
    async read() {
      const cpu = process.cpuUsage()
      const pg = [postmaster, ...childrenOf(postmaster)].reduce((sum, pid) => sum + procCpuMs(pid), 0)
      return { nodeMs: (cpu.user + cpu.system) / 1000, pgMs: pg }
    },
  }
}
