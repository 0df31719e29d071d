import { BinaryReadError, BinaryReader } from '../util/binary-reader.js';

/** What a loader needs to know about an ONNX file before handing it to a native runtime. */
export interface OnnxModelInfo {
  /** ModelProto.metadata_props. */
  metadata: Record<string, string>;
  /** Names of the main graph's inputs, in order. */
  inputNames: string[];
  /** Names of the main graph's outputs, in order. */
  outputNames: string[];
  /** Keys that metadata_props lists more than once (runtimes disagree on which copy wins). */
  repeatedMetadata: string[];
  /** The main graph's nodes: operator and the names of the values it reads and writes. */
  nodes: OnnxNodeInfo[];
  /** Shape of every initializer (stored weight) of the main graph, by name; the weights themselves are not read. */
  initializerDims: Map<string, number[]>;
  /** Bytes read as the model (the file size, or the `bytes` option). */
  bytes: number;
}

export interface OnnxNodeInfo {
  op: string;
  inputs: string[];
  outputs: string[];
}

export interface ReadOnnxOptions {
  /** Read only this many bytes from the start of the file as the model. Default: the whole file. */
  bytes?: number;
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
const GRAPH_NODE = 1;
const GRAPH_INITIALIZER = 5;
const GRAPH_INPUT = 11;
const GRAPH_OUTPUT = 12;
const NODE_INPUT = 1;
const NODE_OUTPUT = 2;
const NODE_OP_TYPE = 4;
const TENSOR_DIMS = 1;
const TENSOR_NAME = 8;

interface FieldHeader {
  field: number;
  wire: number;
  /** Payload length for length-delimited fields, else 0. */
  length: number;
}

/** Reads one field header and, for fixed-size and varint fields, steps over the value. */
function nextField(r: BinaryReader, end: number): FieldHeader {
  return fieldAfterTag(r, r.varint(), end);
}

function fieldAfterTag(r: BinaryReader, tag: bigint, end: number): FieldHeader {
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

/** Parses a small message (already in memory) into field number -> its length-delimited payloads, in order. */
function decodeFields(buf: Buffer): Map<number, Buffer[]> {
  const out = new Map<number, Buffer[]>();
  const r = BinaryReader.fromBuffer(buf);
  try {
    while (r.pos < r.size) {
      const h = nextField(r, r.size);
      if (h.wire === 2) out.set(h.field, [...(out.get(h.field) ?? []), r.bytes(h.length)]);
    }
  } catch (e) {
    if (e instanceof BinaryReadError || e instanceof OnnxFormatError) throw new OnnxFormatError('has a malformed entry');
    throw e;
  }
  return out;
}

function text(fields: Map<number, Buffer[]>, field: number): string[] {
  return (fields.get(field) ?? []).map((b) => b.toString('utf8'));
}

/** A TensorProto's name and dims, stepping over its data (an initializer can be tens of megabytes). */
function readTensorShape(r: BinaryReader, end: number): { name: string; dims: number[] } {
  let name = '';
  const dims: number[] = [];
  while (r.pos < end) {
    const tag = r.varint();
    const field = Number(tag >> 3n);
    const wire = Number(tag & 7n);
    if (field === TENSOR_DIMS && wire === 0) {
      dims.push(Number(r.varint()));
      continue;
    }
    const h = fieldAfterTag(r, tag, end);
    if (h.wire !== 2) continue;
    if (h.field === TENSOR_NAME) name = r.utf8(h.length);
    else if (h.field === TENSOR_DIMS) {
      const packed = BinaryReader.fromBuffer(r.bytes(h.length));
      while (packed.pos < packed.size) dims.push(Number(packed.varint()));
    } else skipWithin(r, h.length, end);
  }
  return { name, dims };
}

function readGraph(r: BinaryReader, end: number, info: OnnxModelInfo): void {
  while (r.pos < end) {
    const h = nextField(r, end);
    if (h.wire !== 2) continue;
    if (h.field === GRAPH_INPUT || h.field === GRAPH_OUTPUT) {
      const name = text(decodeFields(r.bytes(h.length)), 1)[0] ?? '';
      (h.field === GRAPH_INPUT ? info.inputNames : info.outputNames).push(name);
    } else if (h.field === GRAPH_NODE) {
      const node = decodeFields(r.bytes(h.length));
      info.nodes.push({ op: text(node, NODE_OP_TYPE)[0] ?? '', inputs: text(node, NODE_INPUT), outputs: text(node, NODE_OUTPUT) });
    } else if (h.field === GRAPH_INITIALIZER) {
      const tensor = readTensorShape(r, r.pos + h.length);
      info.initializerDims.set(tensor.name, tensor.dims);
    } else {
      skipWithin(r, h.length, end);
    }
  }
}

/**
 * Reads an ONNX file's metadata, graph inputs, outputs, nodes and weight shapes without loading the weights.
 * Throws `OnnxFormatError` for anything that is not a whole ONNX ModelProto (truncated downloads, HTML error
 * pages, Git LFS pointers).
 */
export async function readOnnxModelInfo(file: string, options: ReadOnnxOptions = {}): Promise<OnnxModelInfo> {
  const r = BinaryReader.open(file, { limit: options.bytes });
  try {
    if (r.limit === 0) throw new OnnxFormatError('is empty');
    return readModel(r);
  } catch (e) {
    if (e instanceof BinaryReadError) {
      throw new OnnxFormatError(e.kind === 'malformed' ? `has a ${e.message}` : `ends early (a field runs past byte ${r.limit})`);
    }
    throw e;
  } finally {
    r.close();
  }
}

function readModel(r: BinaryReader): OnnxModelInfo {
  const info: OnnxModelInfo = {
    // No prototype: a file's keys (even "__proto__") are plain entries.
    metadata: Object.create(null) as Record<string, string>,
    inputNames: [],
    outputNames: [],
    repeatedMetadata: [],
    nodes: [],
    initializerDims: new Map(),
    bytes: r.limit,
  };
  let sawIrVersion = false;
  let sawGraph = false;
  while (r.pos < r.limit) {
    const h = nextField(r, r.limit);
    if (h.field === MODEL_IR_VERSION && h.wire === 0) sawIrVersion = true;
    if (h.wire !== 2) continue;
    if (h.field === MODEL_GRAPH) {
      sawGraph = true;
      readGraph(r, r.pos + h.length, info);
    } else if (h.field === MODEL_METADATA) {
      const entry = decodeFields(r.bytes(h.length));
      const key = text(entry, 1)[0];
      if (key === undefined) continue;
      if (Object.hasOwn(info.metadata, key)) info.repeatedMetadata.push(key);
      info.metadata[key] = text(entry, 2)[0] ?? '';
    } else {
      skipWithin(r, h.length, r.limit);
    }
  }
  if (!sawIrVersion || !sawGraph) throw new OnnxFormatError('is not an ONNX model (no ir_version or graph)');
  return info;
}
