import net from 'node:net'

/**
 * postgres.js's `socket` option, on Node and Deno (node:net): the driver's own TCP connection,
 * with TCP_NODELAY.
 * postgres.js never sets it, and it ends every COPY with a 5-byte CopyDone written on its own:
 * Nagle holds that packet until the server ACKs the data before it, and the server delays its ACK
 * (~40 ms) because it has nothing to say until CopyDone arrives. Measured on loopback: COPYs of
 * 2,000 spans at 30k rows/s without it, 140k rows/s with it. Deno leaves Nagle on too: there a
 * small COPY transaction took 88 ms without it and 1.2 ms with it (`npm run bench:nodelay`). The
 * driver still does TLS on top (sslmode), startup and everything else; only the first host of a
 * multi-host URL is used.
 */
export function noDelaySocket(options: { host: string[]; port: number[]; path?: string | false }): net.Socket {
  // Returned still connecting, as the driver's own `new net.Socket()` is: a refused connection
  // then reaches the driver as an 'error' event and its reconnect logic (a rejected promise
  // instead leaves the connection dead for good: chaos:postgres caught that).
  const socket = new net.Socket()
  socket.setNoDelay(true) // applied once connected
  if (options.path) socket.connect(options.path)
  else socket.connect(options.port[0], options.host[0])
  return socket
}

/** Spread into postgres.js options (`socket` is missing from postgres.js 3.4's typings). */
export const NO_DELAY_SOCKET = { socket: noDelaySocket } as object
