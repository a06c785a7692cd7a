import { spawn } from 'node:child_process'

const ROOT = new URL('../..', import.meta.url).pathname

export interface Floor { url: string; pid: number; stop(): Promise<void> }

/** Starts bench/floor-server.ts as its own process with these SIM_* settings. */
export function startFloor(env: Record<string, string>): Promise<Floor> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/floor-server.ts'], {
      cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'],
    })
    let out = ''
    const timer = setTimeout(() => { child.kill(); reject(new Error(`floor server did not start: ${out}`)) }, 30_000)
    child.stdout!.on('data', (d) => {
      out += d
      const m = /floor listening on (\S+)/.exec(out)
      if (!m) return
      clearTimeout(timer)
      resolve({
        url: m[1],
        pid: child.pid!,
        stop: () => new Promise((done) => {
          if (child.exitCode !== null) return done()
          child.once('exit', () => done())
          child.kill('SIGTERM')
        }),
      })
    })
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`floor server exited with ${code}: ${out}`)) })
  })
}
