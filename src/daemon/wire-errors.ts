import * as errors from '../errors.js'

/** An error as it crosses the control socket: its class name and message. */
export interface WireError { name: string, message: string }

export function toWire (err: any): WireError {
  return { name: typeof err?.name === 'string' ? err.name : 'Error', message: String(err?.message ?? err) }
}

/** Rebuilds the error class a client would have seen had it run the operation itself. */
export function fromWire (wire: WireError): Error {
  const Class = (errors as Record<string, unknown>)[wire.name]
  if (typeof Class === 'function' && wire.name !== 'RepoBusyError') {
    return new (Class as new (m: string) => Error)(wire.message)
  }
  if (wire.name === 'AbortError' || wire.name === 'TimeoutError') {
    const e = new Error(wire.message)
    e.name = wire.name
    return e
  }
  return new errors.MistError(wire.message)
}
