/**
 * One error class for everything the library refuses, with a stable `code` and
 * the place (file, byte offset, record index) so the CLI can print one line.
 */
export const ErrorCode = {
  /** The file does not start with a pcap or pcapng magic number. */
  BAD_MAGIC: 'ERR_BAD_MAGIC',
  /** A pcap/pcapng header names a version this reader does not know. */
  BAD_VERSION: 'ERR_BAD_VERSION',
  /** A file header (not a record) is shorter than its fixed size. */
  TRUNCATED_HEADER: 'ERR_TRUNCATED_HEADER',
  /** A record length is impossible: caplen > snaplen, a block shorter than its header, misaligned, huge. */
  BAD_RECORD_LENGTH: 'ERR_BAD_RECORD_LENGTH',
  /** A pcapng block's trailing length differs from its leading length. */
  BLOCK_LENGTH_MISMATCH: 'ERR_BLOCK_LENGTH_MISMATCH',
  /** A pcapng packet block refers to an interface no IDB defined. */
  UNKNOWN_INTERFACE: 'ERR_UNKNOWN_INTERFACE',
  /** A pcapng interface's if_tsresol or if_tsoffset describes no capture clock (finer than 10^-19 or 2^-63 s, an offset beyond years 0001..9999). */
  BAD_TIME_OPTION: 'ERR_BAD_TIME_OPTION',
  /** The first pcapng block is not a Section Header Block. */
  MISSING_SECTION_HEADER: 'ERR_MISSING_SECTION_HEADER',
  /** A gzip-compressed capture whose compressed data is damaged. */
  BAD_GZIP: 'ERR_BAD_GZIP',
  /** The file cannot be opened or read. */
  READ_FAILED: 'ERR_READ_FAILED',
  /** A command-line argument or option value is not usable. */
  BAD_USAGE: 'ERR_BAD_USAGE',
  /** A host-context snapshot is not JSON, has no or another schema, or a field of the wrong type. */
  BAD_CONTEXT: 'ERR_BAD_CONTEXT',
  /** A host tool (`ip -j`, the Docker API) or kernel file gave output that cannot be read. */
  BAD_HOST_OUTPUT: 'ERR_BAD_HOST_OUTPUT',
  /** An output file cannot be written. */
  WRITE_FAILED: 'ERR_WRITE_FAILED',
  /** Live capture cannot start here: libpcap, the cap binding or the native addon is missing. */
  CAPTURE_UNAVAILABLE: 'ERR_CAPTURE_UNAVAILABLE',
  /** The process lacks a capability the operation needs (CAP_NET_RAW to capture, CAP_SYS_ADMIN for setns). */
  PERMISSION: 'ERR_PERMISSION',
  /** No network interface of that name exists (in the namespace given). */
  UNKNOWN_DEVICE: 'ERR_UNKNOWN_DEVICE',
  /** A network namespace given by name, path or pid does not exist. */
  NETNS_NOT_FOUND: 'ERR_NETNS_NOT_FOUND',
} as const;

export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface ErrorPlace {
  readonly file?: string;
  /** Byte offset in the file where the bad structure starts. */
  readonly offset?: number;
  /** 0-based index of the record (pcap) or block (pcapng) involved. */
  readonly record?: number;
}

export class SynscopeError extends Error {
  readonly code: ErrorCodeValue;
  readonly file: string | undefined;
  readonly offset: number | undefined;
  readonly record: number | undefined;

  constructor(code: ErrorCodeValue, message: string, place: ErrorPlace = {}) {
    super(message);
    this.name = 'SynscopeError';
    this.code = code;
    this.file = place.file;
    this.offset = place.offset;
    this.record = place.record;
  }

  /** "file: byte 1234: message [ERR_CODE]" on one line. */
  oneLine(): string {
    const where: string[] = [];
    if (this.file !== undefined) where.push(this.file);
    if (this.offset !== undefined) where.push(`byte ${this.offset}`);
    const prefix = where.length > 0 ? `${where.join(': ')}: ` : '';
    return `${prefix}${this.message} [${this.code}]`;
  }
}

export function isSynscopeError(e: unknown): e is SynscopeError {
  return e instanceof SynscopeError;
}
