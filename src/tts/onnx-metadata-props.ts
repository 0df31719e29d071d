const MODEL_METADATA_PROPS = 14;
const STRING_KEY = 1;
const STRING_VALUE = 2;
const WIRE_LEN = 2;

function varint(value: number): Buffer {
  const out: number[] = [];
  let v = value;
  do {
    let byte = v % 128;
    v = Math.floor(v / 128);
    if (v > 0) byte |= 0x80;
    out.push(byte);
  } while (v > 0);
  return Buffer.from(out);
}

function lengthDelimited(field: number, payload: Buffer): Buffer {
  return Buffer.concat([varint((field << 3) | WIRE_LEN), varint(payload.length), payload]);
}

/**
 * ModelProto.metadata_props entries as protobuf bytes. Protobuf merges a message with whatever follows it, so
 * these bytes appended to a whole .onnx file add the entries and leave every byte of the original in place: the
 * original stays checkable against its published digest.
 */
export function encodeMetadataProps(entries: Readonly<Record<string, string>>): Buffer {
  return Buffer.concat(
    Object.entries(entries).map(([key, value]) =>
      lengthDelimited(
        MODEL_METADATA_PROPS,
        Buffer.concat([lengthDelimited(STRING_KEY, Buffer.from(key, 'utf8')), lengthDelimited(STRING_VALUE, Buffer.from(value, 'utf8'))]),
      ),
    ),
  );
}
