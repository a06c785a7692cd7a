// Who holds a TCP connection, from Linux's /proc: which PostgreSQL backends a process outside
// the pooler opened. pg_stat_activity.client_port is the client's own port of the connection.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs'

/** The inode of the connected socket whose local port is `local` and remote port `remote`. */
export function socketInode(local: number, remote: number): string | undefined {
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = ''
    try { text = readFileSync(table, 'utf8') } catch { continue }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/)
      // f[1] local "0100007F:D431", f[2] remote, f[9] inode
      if (f.length > 9 && parseInt(f[1]!.split(':')[1]!, 16) === local && parseInt(f[2]!.split(':')[1]!, 16) === remote) return f[9]
    }
  }
  return undefined
}

/** The inodes of the sockets process `pid` has open. */
export function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>()
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))
      if (m) inodes.add(m[1]!)
    } catch { /* closed meanwhile */ }
  }
  return inodes
}
