import type { Sql, TransactionSql } from 'postgres'

/**
 * `sql.begin`, safe when the connection dies while the callback runs.
 *
 * postgres.js 3.4.9 takes the whole process down in that case (porsager/postgres#1208, open):
 * when the callback settles, the driver sends COMMIT or ROLLBACK on the transaction's
 * connection even though it has closed, and so does any query the callback issues after
 * the close; the write is deferred to a setImmediate that dereferences the socket the
 * driver's close handler has already nulled: an uncaught TypeError no try/catch reaches.
 * A database restart, a pooler recycling connections or `pg_terminate_backend` is enough.
 *
 * So, once the connection is known lost, nothing more is sent on it: the callback's outcome
 * is withheld from the driver (it then never sends COMMIT/ROLLBACK; the transaction itself
 * rejects with CONNECTION_CLOSED from the driver's own close handler, which the server has
 * rolled back anyway), and a query the callback issues after the loss throws before it
 * reaches the connection. The withheld promise is never settled; nothing references it, so
 * it is collected with the callback's frame.
 */
export function transaction<T>(sql: Sql, fn: (tx: TransactionSql) => Promise<T>, mode?: string): Promise<T> {
  let lost = false
  let confirmLoss = () => {}
  const lossConfirmed = new Promise<void>((resolve) => { confirmLoss = resolve })
  let work: typeof fn | undefined = fn // dropped once called: a withheld chain must not keep the caller's data
  const body = async (tx: TransactionSql): Promise<T> => {
    const run = work!
    work = undefined
    try {
      const result = await run(refuseAfterLoss(tx, () => lost))
      return lost ? withheld() : result
    } catch (err) {
      // The error says the connection is gone; the driver's close handler, which rejects the
      // transaction, confirms it within microtasks. Unconfirmed, the connection is alive after
      // all and ROLLBACK is safe to send.
      if (!lost && isConnectionLost(err)) await within(lossConfirmed, LOSS_CONFIRM_MS)
      if (lost) return withheld()
      throw err
    }
  }
  const outcome = (mode ? sql.begin(mode, body) : sql.begin(body)) as Promise<T>
  outcome.catch((err) => {
    if (isConnectionLost(err)) { lost = true; confirmLoss() }
  })
  return outcome
}

const LOSS_CONFIRM_MS = 1_000

async function within(signal: Promise<void>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined
  await Promise.race([signal, new Promise<void>((resolve) => { timer = setTimeout(resolve, ms) })])
  clearTimeout(timer)
}

/** Error codes that mean the connection is gone: the driver's own, and the socket's. */
const LOST_CODES = new Set(['CONNECTION_CLOSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'ENOTCONN', 'EHOSTUNREACH', 'ENETUNREACH'])

export function isConnectionLost(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' && LOST_CODES.has(code)
}

function withheld(): Promise<never> {
  return new Promise<never>(() => {})
}

/** The transaction handle, whose queries throw instead of reaching a lost connection. */
function refuseAfterLoss(tx: TransactionSql, isLost: () => boolean): TransactionSql {
  const refuse = () => {
    if (isLost()) throw Object.assign(new Error('the transaction’s connection was lost; nothing more is sent on it'), { code: 'CONNECTION_CLOSED' })
  }
  return new Proxy(tx, {
    apply(target, self, args) {
      refuse()
      return Reflect.apply(target, self, args)
    },
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver)
      if (key !== 'unsafe' && key !== 'file') return value
      return (...args: unknown[]) => { refuse(); return (value as (...a: unknown[]) => unknown).apply(target, args) }
    },
  })
}
