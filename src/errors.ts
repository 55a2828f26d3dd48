/**
 * One error style for the whole project: classes with a `name`, and a message
 * that says which file or object is concerned and what the user can do.
 */
export class MistError extends Error {
  constructor (message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'MistError'
  }
}

/** The codec refused or failed on an image. */
export class CodecError extends MistError {
  constructor (message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'CodecError'
  }
}

/** The input is a valid image we do not (yet) handle. */
export class UnsupportedInputError extends MistError {
  constructor (message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'UnsupportedInputError'
  }
}

/** The input is not a readable image of its claimed format (truncated, corrupt, not an image). */
export class InvalidInputError extends MistError {
  constructor (message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'InvalidInputError'
  }
}

/** A codestream whose layout cannot be streamed by resolution, or is malformed. */
export class CodestreamError extends MistError {
  constructor (message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'CodestreamError'
  }
}

/** A DAG node that does not follow docs/FORMAT.md. */
export class FormatError extends MistError {
  constructor (message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'FormatError'
  }
}

/** A block is missing from the repo (and, offline, cannot be fetched). */
export class MissingBlockError extends MistError {
  constructor (message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'MissingBlockError'
  }
}

/** A block's bytes do not hash to its CID. */
export class BlockVerificationError extends MistError {
  constructor (message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'BlockVerificationError'
  }
}

/** Repo problems: locked, not initialised, unwritable. */
export class RepoError extends MistError {
  constructor (message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'RepoError'
  }
}

/** Bad command-line usage. */
export class UsageError extends MistError {
  constructor (message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'UsageError'
  }
}

/** Private-network key problems: missing, malformed or unsafe swarm.key. Never carries the key itself. */
export class SwarmKeyError extends MistError {
  constructor (message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'SwarmKeyError'
  }
}

/** The node identity (identity.key) cannot be read, parsed or written. */
export class IdentityError extends MistError {
  constructor (message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'IdentityError'
  }
}

/** Peer-to-peer problems: bad multiaddr or peer ID, dial refused or failed, node not started. */
export class NetworkError extends MistError {
  constructor (message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'NetworkError'
  }
}

/** The repo is held by another live process (its lock says which). */
export class RepoBusyError extends RepoError {
  constructor (message: string, readonly holder: { pid: number, command: string, since: string }, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'RepoBusyError'
  }
}

/** An output path that mist-p2p will not write: unsafe name, outside the output directory, through a symbolic link, or taken by another entry. */
export class OutputPathError extends MistError {
  constructor (message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'OutputPathError'
  }
}

/** An output file exists with other content (or is not a regular file) and replacing it was not asked for (`--force`). */
export class OutputExistsError extends MistError {
  constructor (message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'OutputExistsError'
  }
}
