// A V8 CPU profile (.cpuprofile, as the server probe writes it) as a few lines: where the main
// thread's time went, by function (self time), so a benchmark can say what its limit is.
import { readFileSync } from 'node:fs'

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }
interface CpuProfile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }

export function summarizeProfile(file: string, top = 12): string {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile
  const byId = new Map(p.nodes.map((n) => [n.id, n]))
  const self = new Map<string, number>()
  let total = 0
  p.samples.forEach((id, i) => {
    const cf = byId.get(id)!.callFrame
    const where = cf.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/(functions|shared|server)\//, '$1/')
    const key = where ? `${cf.functionName || '(anonymous)'} ${where}:${cf.lineNumber + 1}` : cf.functionName
    const dt = p.timeDeltas[i] ?? 0
    self.set(key, (self.get(key) ?? 0) + dt)
    total += dt
  })
  const lines = [`main thread, ${(total / 1e6).toFixed(1)} s sampled (self time):`]
  for (const [k, t] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${((t / total) * 100).toFixed(1).padStart(5)}%  ${k}`)
  return lines.join('\n')
}
