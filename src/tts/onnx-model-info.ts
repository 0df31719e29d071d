import { BinaryReadError, BinaryReader } from '../util/binary-reader.js';

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

interface FieldHeader {
  field: number;
  wire: number;
  /** Payload length for length-delimited fields, else 0. */
  length: number;
}

/** Reads one field header and, for fixed-size and varint fields, steps over the value. */
function nextField(r: BinaryReader, end: number): FieldHeader {
  const tag = r.varint();
  const field = Number(tag >> 3n);
  const wire = Number(tag & 7n);
  if (field === 0) throw new OnnxFormatError(`has field number 0 at byte ${r.pos}`);
  switch (wire) {
    case 0:
      r.varint();
      return { field, wire, length: 0 };
    case 1:
      skipWithin(r, 8, end);
      return { field, wire, length: 0 };
    case 5:
      skipWithin(r, 4, end);
      return { field, wire, length: 0 };
    case 2: {
      const length = Number(r.varint());
      if (r.pos + length > end) throw new OnnxFormatError(`ends early (a field of ${length} bytes runs past byte ${end})`);
      return { field, wire, length };
    }
    default:
      throw new OnnxFormatError(`has protobuf wire type ${wire} at byte ${r.pos}, which ONNX never uses`);
  }
}

function skipWithin(r: BinaryReader, length: number, end: number): void {
  if (r.pos + length > end) throw new OnnxFormatError(`ends early (a field runs past byte ${end})`);
  r.skip(length);
}

/** Parses a small message (already in memory) into field number -> length-delimited payloads. */
function decodeStrings(buf: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  const r = BinaryReader.fromBuffer(buf);
  try {
    while (r.pos < r.size) {
      const h = nextField(r, r.size);
      if (h.wire === 2) out.set(h.field, r.bytes(h.length));
    }
  } catch (e) {
    if (e instanceof BinaryReadError || e instanceof OnnxFormatError) throw new OnnxFormatError('has a malformed entry');
    throw e;
  }
  return out;
}

function readGraphIo(r: BinaryReader, end: number, info: OnnxModelInfo): void {
  while (r.pos < end) {
    const h = nextField(r, end);
    if (h.wire === 2 && (h.field === GRAPH_INPUT || h.field === GRAPH_OUTPUT)) {
      const name = decodeStrings(r.bytes(h.length)).get(1)?.toString('utf8') ?? '';
      (h.field === GRAPH_INPUT ? info.inputNames : info.outputNames).push(name);
    } else if (h.wire === 2) {
      skipWithin(r, h.length, end);
    }
  }
}

/**
 * Reads an ONNX file's metadata and graph input/output names without loading its weights. Throws
 * `OnnxFormatError` for anything that is not a whole ONNX ModelProto (truncated downloads, HTML error pages,
 * Git LFS pointers).
 */
export async function readOnnxModelInfo(file: string): Promise<OnnxModelInfo> {
  const r = BinaryReader.open(file);
  try {
    if (r.size === 0) throw new OnnxFormatError('is empty');
    return readModel(r);
  } catch (e) {
    if (e instanceof BinaryReadError) {
      throw new OnnxFormatError(e.kind === 'malformed' ? `has a ${e.message}` : `ends early (a field runs past byte ${r.size})`);
    }
    throw e;
  } finally {
    r.close();
  }
}

function readModel(r: BinaryReader): OnnxModelInfo {
  const info: OnnxModelInfo = { metadata: {}, inputNames: [], outputNames: [], bytes: r.size };
  let sawIrVersion = false;
  let sawGraph = false;
  while (r.pos < r.size) {
    const h = nextField(r, r.size);
    if (h.field === MODEL_IR_VERSION && h.wire === 0) sawIrVersion = true;
    if (h.wire !== 2) continue;
    if (h.field === MODEL_GRAPH) {
      sawGraph = true;
      readGraphIo(r, r.pos + h.length, info);
    } else if (h.field === MODEL_METADATA) {
      const entry = decodeStrings(r.bytes(h.length));
      const key = entry.get(1)?.toString('utf8');
      if (key !== undefined) info.metadata[key] = entry.get(2)?.toString('utf8') ?? '';
    } else {
      skipWithin(r, h.length, r.size);
    }
  }
  if (!sawIrVersion || !sawGraph) throw new OnnxFormatError('is not an ONNX model (no ir_version or graph)');
  return info;
}
