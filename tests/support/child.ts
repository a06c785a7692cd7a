import { spawn, type SpawnOptions } from 'node:child_process'

export interface ChildResult { status: number | null; stdout: string; stderr: string }

/**
 * Runs a program to its end without blocking the test process: spawnSync would freeze the
 * event loop, so neither vitest's timeout nor anything else could end a child that hangs.
 */
export function runChild(command: string, args: string[], options: SpawnOptions = {}): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout!.setEncoding('utf8').on('data', (d: string) => { stdout += d })
    child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d })
    child.on('error', reject)
    child.on('close', (status) => resolve({ status, stdout, stderr }))
  })
}
