import { once } from 'node:events'
import { connect, createServer } from 'node:net'
import { describe, expect, it } from 'vitest'
import { cpuSeconds, kernelQueues, pidListeningOn, rssMiB } from '../../tools/load/proc.ts'
import { until } from '../support/wait.ts'

describe('/proc readers', () => {
  it('find the process listening on a port, its CPU time and memory', async () => {
    const server = createServer().listen(0, '127.0.0.1')
    await once(server, 'listening')
    const port = (server.address() as { port: number }).port
    expect(pidListeningOn(port)).toBe(process.pid)
    expect(rssMiB(process.pid)).toBeGreaterThan(10)
    expect(cpuSeconds(process.pid)).toBeGreaterThan(0)
    expect(cpuSeconds(2 ** 22 + 12345)).toBeNaN()
    server.close()
  })

  it('see bytes a client has not read in the kernel queues', async () => {
    const server = createServer((s) => { s.on('error', () => {}); s.write(Buffer.alloc(50_000, 1)) }).listen(0, '127.0.0.1')
    await once(server, 'listening')
    const port = (server.address() as { port: number }).port
    const client = connect(port, '127.0.0.1')
    client.pause() // never read: the bytes stay in the kernel
    await once(client, 'connect')
    await until(() => { const q = kernelQueues(port); return q.serverSendQueue + q.clientReceiveQueue >= 50_000 }, 'the bytes in the kernel queues')
    expect(kernelQueues(port).connections).toBe(1)
    client.destroy()
    server.close()
  })
})
