import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/** Where the bytes come from: an open file or a buffer already in memory. */
interface ByteSource {
  readonly size: number;
  /** Copies bytes starting at `position` into `target`; returns how many it copied. */
  readAt(target: Buffer, position: number): number;
  close(): void;
}

export interface BinaryReaderOptions {
  /**
   * Offset the reader never reads at or beyond: a length field that points past it is refused before anything
   * is allocated for it, so a file claiming a huge header costs nothing. Default: the source's size.
   */
  limit?: number;
  /** Bytes fetched from a file per read; skipped regions are never read. Default: 64 KiB. */
  windowBytes?: number;
}

/**
 * A read that would end past the end of the data (`kind` 'end': truncated, or a length that lies), past the
 * reader's limit ('limit'), or a varint longer than 64 bits ('malformed'). `end` is the offset the read would
 * have reached.
 */
export class BinaryReadError extends Error {
  constructor(
    readonly kind: 'end' | 'limit' | 'malformed',
    readonly end: number,
    readonly size: number,
  ) {
    super(kind === 'end' ? `needs ${end} bytes, has ${size}` : kind === 'limit' ? `would read past byte ${end}` : `malformed number at byte ${end}`);
    this.name = 'BinaryReadError';
  }
}

const DEFAULT_WINDOW = 64 * 1024;

/**
 * Sequential little-endian reads (integers, floats, length-prefixed strings, protobuf varints) over a file or a
 * buffer, through a small window, with every length checked against the data and a hard limit before any read.
 * One reader serves every model-file check, so each format's parser only says what the bytes mean.
 */
export class BinaryReader {
  /** Offset of the next byte to read. */
  pos = 0;
  readonly size: number;
  readonly limit: number;
  private readonly windowBytes: number;
  private buf: Buffer = Buffer.alloc(0);
  private bufStart = 0;

  private constructor(
    private readonly source: ByteSource,
    options: BinaryReaderOptions,
  ) {
    this.size = source.size;
    this.limit = Math.min(options.limit ?? source.size, source.size);
    this.windowBytes = options.windowBytes ?? DEFAULT_WINDOW;
  }

  /** Opens `path` for reading; the caller closes the reader. Throws the file system's error (ENOENT...). */
  static open(path: string, options: BinaryReaderOptions = {}): BinaryReader {
    const fd = openSync(path, 'r');
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) throw Object.assign(new Error(`${path} is not a file`), { code: 'EISDIR' });
      return new BinaryReader(
        {
          size: st.size,
          readAt: (target, position) => readSync(fd, target, 0, target.length, position),
          close: () => closeSync(fd),
        },
        options,
      );
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  static fromBuffer(bytes: Uint8Array, options: BinaryReaderOptions = {}): BinaryReader {
    const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return new BinaryReader(
      {
        size: data.length,
        readAt: (target, position) => data.copy(target, 0, position, position + target.length),
        close: () => {},
      },
      options,
    );
  }

  close(): void {
    this.source.close();
  }

  /** Bytes left before the limit. */
  get remaining(): number {
    return this.limit - this.pos;
  }

  /** Throws unless `n` more bytes exist before the limit; nothing is read. */
  require(n: number): void {
    const end = this.pos + n;
    if (!Number.isSafeInteger(end) || end > this.size) throw new BinaryReadError('end', end, this.size);
    if (end > this.limit) throw new BinaryReadError('limit', end, this.size);
  }

  /**
   * Makes [pos, pos + n) available in the window and returns its start within `buf`. Callers read `this.buf`
   * only after this returns: it may replace the buffer.
   */
  private take(n: number): number {
    this.require(n);
    const start = this.pos;
    if (start < this.bufStart || start + n > this.bufStart + this.buf.length) {
      const length = Math.min(Math.max(n, this.windowBytes), this.limit - start);
      const buf = Buffer.alloc(length);
      const got = this.source.readAt(buf, start);
      if (got < n) throw new BinaryReadError('end', start + n, start + got);
      this.buf = buf.subarray(0, got);
      this.bufStart = start;
    }
    this.pos += n;
    return start - this.bufStart;
  }

  /** Reads the next `n` bytes with one of Buffer's readers. */
  private num<T>(n: number, read: (buf: Buffer, at: number) => T): T {
    const at = this.take(n);
    return read(this.buf, at);
  }

  u8 = (): number => this.num(1, (b, at) => b.readUInt8(at));
  i8 = (): number => this.num(1, (b, at) => b.readInt8(at));
  u16 = (): number => this.num(2, (b, at) => b.readUInt16LE(at));
  i16 = (): number => this.num(2, (b, at) => b.readInt16LE(at));
  u32 = (): number => this.num(4, (b, at) => b.readUInt32LE(at));
  i32 = (): number => this.num(4, (b, at) => b.readInt32LE(at));
  u64 = (): bigint => this.num(8, (b, at) => b.readBigUInt64LE(at));
  i64 = (): bigint => this.num(8, (b, at) => b.readBigInt64LE(at));
  f32 = (): number => this.num(4, (b, at) => b.readFloatLE(at));
  f64 = (): number => this.num(8, (b, at) => b.readDoubleLE(at));

  /** A copy of the next `n` bytes. */
  bytes(n: number): Buffer {
    const at = this.take(n);
    return Buffer.from(this.buf.subarray(at, at + n));
  }

  utf8(n: number): string {
    const at = this.take(n);
    return this.buf.toString('utf8', at, at + n);
  }

  /** Moves past `n` bytes without reading them (they must exist before the limit). */
  skip(n: number): void {
    this.require(n);
    this.pos += n;
  }

  /** A protobuf base-128 varint of up to 64 bits. */
  varint(): bigint {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      const byte = this.u8();
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
    }
    throw new BinaryReadError('malformed', this.pos, this.size);
  }
}
