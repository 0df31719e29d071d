import { open, type FileHandle } from 'node:fs/promises';

/** What a loader needs to know about an ONNX file before handing it to a native runtime. */
export interface OnnxModelInfo {
  /** ModelProto.metadata_props. */
  metadata: Record<string, string>;
  /** Names of the main graph's inputs, in order. */
  inputNames: string[];
  /** Names of the main graph's outputs, in order. */
  outputNames: string[];
  /** File size in bytes. */
  bytes: number;
}

/** The file is not a complete ONNX protobuf; `reason` says what was wrong. */
export class OnnxFormatError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'OnnxFormatError';
  }
}

const MODEL_IR_VERSION = 1;
const MODEL_GRAPH = 7;
const MODEL_METADATA = 14;
const GRAPH_INPUT = 11;
const GRAPH_OUTPUT = 12;
const WINDOW = 64 * 1024;

/**
 * Reads a file front to back through a small window. Skipping a field only moves the position, so a voice of
 * tens of megabytes costs a few reads: the big initializers are never loaded.
 */
class FileCursor {
  pos = 0;
  private buf = Buffer.alloc(0);
  private bufStart = 0;

  constructor(
    private readonly file: FileHandle,
    readonly size: number,
  ) {}

  private async fill(need: number): Promise<void> {
    if (this.pos >= this.bufStart && this.pos + need <= this.bufStart + this.buf.length) return;
    if (this.pos + need > this.size) throw new OnnxFormatError(`ends early (a field runs past byte ${this.size})`);
    const length = Math.min(Math.max(need, WINDOW), this.size - this.pos);
    const buf = Buffer.alloc(length);
    const { bytesRead } = await this.file.read(buf, 0, length, this.pos);
    if (bytesRead < need) throw new OnnxFormatError(`ends early (could not read byte ${this.pos + need})`);
    this.buf = buf.subarray(0, bytesRead);
    this.bufStart = this.pos;
  }

  async varint(): Promise<bigint> {
    await this.fill(Math.min(10, this.size - this.pos) || 1);
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.pos >= this.size) throw new OnnxFormatError('ends inside a number');
      const byte = this.buf[this.pos - this.bufStart];
      this.pos++;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
    }
    throw new OnnxFormatError(`has a malformed number at byte ${this.pos}`);
  }

  async bytes(length: number): Promise<Buffer> {
    await this.fill(length);
    const start = this.pos - this.bufStart;
    this.pos += length;
    return Buffer.from(this.buf.subarray(start, start + length));
  }

  skip(length: number, end: number): void {
    if (this.pos + length > end) throw new OnnxFormatError(`ends early (a field runs past byte ${end})`);
    this.pos += length;
  }
}

interface FieldHeader {
  field: number;
  wire: number;
  /** Payload length for length-delimited fields, else 0. */
  length: number;
}

/** Reads one field header and, for fixed-size and varint fields, steps over the value. */
async function nextField(c: FileCursor, end: number): Promise<FieldHeader> {
  const tag = await c.varint();
  const field = Number(tag >> 3n);
  const wire = Number(tag & 7n);
  if (field === 0) throw new OnnxFormatError(`has field number 0 at byte ${c.pos}`);
  switch (wire) {
    case 0:
      await c.varint();
      return { field, wire, length: 0 };
    case 1:
      c.skip(8, end);
      return { field, wire, length: 0 };
    case 5:
      c.skip(4, end);
      return { field, wire, length: 0 };
    case 2: {
      const length = Number(await c.varint());
      if (c.pos + length > end) throw new OnnxFormatError(`ends early (a field of ${length} bytes runs past byte ${end})`);
      return { field, wire, length };
    }
    default:
      throw new OnnxFormatError(`has protobuf wire type ${wire} at byte ${c.pos}, which ONNX never uses`);
  }
}

/** Parses a small message (already in memory) into field number -> length-delimited payloads. */
function decodeStrings(buf: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  let p = 0;
  const varint = (): number => {
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (p >= buf.length) throw new OnnxFormatError('has a malformed entry');
      const b = buf[p++];
      v += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) return v;
      mul *= 128;
    }
    throw new OnnxFormatError('has a malformed entry');
  };
  while (p < buf.length) {
    const tag = varint();
    const wire = tag & 7;
    if (wire === 2) {
      const len = varint();
      if (p + len > buf.length) throw new OnnxFormatError('has a malformed entry');
      out.set(tag >>> 3, buf.subarray(p, p + len));
      p += len;
    } else if (wire === 0) varint();
    else if (wire === 5) p += 4;
    else if (wire === 1) p += 8;
    else throw new OnnxFormatError('has a malformed entry');
  }
  return out;
}

async function readGraphIo(c: FileCursor, end: number, info: OnnxModelInfo): Promise<void> {
  while (c.pos < end) {
    const h = await nextField(c, end);
    if (h.wire === 2 && (h.field === GRAPH_INPUT || h.field === GRAPH_OUTPUT)) {
      const name = decodeStrings(await c.bytes(h.length)).get(1)?.toString('utf8') ?? '';
      (h.field === GRAPH_INPUT ? info.inputNames : info.outputNames).push(name);
    } else if (h.wire === 2) {
      c.skip(h.length, end);
    }
  }
}

/**
 * Reads an ONNX file's metadata and graph input/output names without loading its weights. Throws
 * `OnnxFormatError` for anything that is not a whole ONNX ModelProto (truncated downloads, HTML error pages,
 * Git LFS pointers).
 */
export async function readOnnxModelInfo(file: string): Promise<OnnxModelInfo> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    if (size === 0) throw new OnnxFormatError('is empty');
    const c = new FileCursor(handle, size);
    const info: OnnxModelInfo = { metadata: {}, inputNames: [], outputNames: [], bytes: size };
    let sawIrVersion = false;
    let sawGraph = false;
    while (c.pos < size) {
      const h = await nextField(c, size);
      if (h.field === MODEL_IR_VERSION && h.wire === 0) sawIrVersion = true;
      if (h.wire !== 2) continue;
      if (h.field === MODEL_GRAPH) {
        sawGraph = true;
        await readGraphIo(c, c.pos + h.length, info);
      } else if (h.field === MODEL_METADATA) {
        const entry = decodeStrings(await c.bytes(h.length));
        const key = entry.get(1)?.toString('utf8');
        if (key !== undefined) info.metadata[key] = entry.get(2)?.toString('utf8') ?? '';
      } else {
        c.skip(h.length, size);
      }
    }
    if (!sawIrVersion || !sawGraph) throw new OnnxFormatError('is not an ONNX model (no ir_version or graph)');
    return info;
  } finally {
    await handle.close();
  }
}
