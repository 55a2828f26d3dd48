/**
 * One error style for the whole project: classes with a `name`, and a message
 * that says which file or object is concerned and what the user can do.
 */
export class MistError extends Error {
  constructor (message: string, options?: { cause?: unknown }) {
    super(message, options)
    // set once for every subclass: the class's own name (kept by tsc, and what crosses a worker or socket)
    this.name = new.target.name
  }
}

/** The codec refused or failed on an image. */
export class CodecError extends MistError {}

/** The input is a valid image we do not (yet) handle. */
export class UnsupportedInputError extends MistError {}

/** The input is not a readable image of its claimed format (truncated, corrupt, not an image). */
export class InvalidInputError extends MistError {}

/** A codestream whose layout cannot be streamed by resolution, or is malformed. */
export class CodestreamError extends MistError {}

/** A DAG node that does not follow docs/FORMAT.md. */
export class FormatError extends MistError {}

/** A block is missing from the repo (and, offline, cannot be fetched). */
export class MissingBlockError extends MistError {}

/** A block's bytes do not hash to its CID. */
export class BlockVerificationError extends MistError {}

/** Repo problems: locked, not initialised, unwritable. */
export class RepoError extends MistError {}

/** Bad command-line usage. */
export class UsageError extends MistError {}

/** Private-network key problems: missing, malformed or unsafe swarm.key. Never carries the key itself. */
export class SwarmKeyError extends MistError {}

/** The node identity (identity.key) cannot be read, parsed or written. */
export class IdentityError extends MistError {}

/** Peer-to-peer problems: bad multiaddr or peer ID, dial refused or failed, node not started. */
export class NetworkError extends MistError {}

/** The repo is held by another live process (its lock says which). */
export class RepoBusyError extends RepoError {
  constructor (message: string, readonly holder: { pid: number, command: string, since: string }, options?: { cause?: unknown }) {
    super(message, options)
  }
}

/** A failure as the user sees it: the error's class name and a message that names the file or entry. */
export function describeError (err: any, path: string): { name: string, message: string } {
  const name = err instanceof MistError || typeof err?.name === 'string' ? String(err.name) : 'Error'
  let message = String(err?.message ?? err)
  if (!message.includes(path)) message = `${path}: ${message}`
  return { name, message }
}

/** A repo file that must be the user's own (repo.lock, api.sock) belongs to someone else or is reachable by others: not trusted. */
export class UnsafeRepoError extends RepoError {}

/** An output path that mist-p2p will not write: unsafe name, outside the output directory, through a symbolic link, or taken by another entry. */
export class OutputPathError extends MistError {}

/** An output file exists with other content (or is not a regular file) and replacing it was not asked for (`--force`). */
export class OutputExistsError extends MistError {}

/** A name (`<peer-id>/<name>`) that cannot be resolved: no record, or records refused (forged, older than one already seen, expired, malformed). */
export class NameError extends MistError {}

/** An HTTP gateway request that cannot be answered as asked; `status` is the HTTP status it ends in. */
export class HttpRequestError extends MistError {
  constructor (readonly status: number, message: string, options?: ErrorOptions) {
    super(message, options)
  }
}

/** An error as it crosses a worker or the control socket: its class name and message. */
export interface WireError { name: string, message: string }

export function errorToWire (err: any): WireError {
  return { name: typeof err?.name === 'string' ? err.name : 'Error', message: String(err?.message ?? err) }
}

const WIRE_CLASSES: Record<string, new (message: string) => Error> = {
  MistError, CodecError, UnsupportedInputError, InvalidInputError, CodestreamError, FormatError, MissingBlockError, BlockVerificationError,
  RepoError, UsageError, SwarmKeyError, IdentityError, NetworkError, UnsafeRepoError, OutputPathError, OutputExistsError, NameError
}

/** Rebuilds the error class the caller would have seen had it run the operation itself. */
export function errorFromWire (wire: WireError): Error {
  const Class = WIRE_CLASSES[wire.name]
  if (Class != null) return new Class(wire.message)
  if (wire.name === 'AbortError' || wire.name === 'TimeoutError') {
    const e = new Error(wire.message)
    e.name = wire.name
    return e
  }
  return new MistError(wire.message)
}
