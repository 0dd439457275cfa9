/**
 * A one-node ONNX model, encoded by hand: y = Softmax(x, axis=-1) (or LogSoftmax), opset 13,
 * x of shape [rows, cols] with symbolic dimensions. Only the few protobuf wire types the
 * ONNX schema needs here: varint (0) and length-delimited (2).
 */

type Field = number[];

function varint(value: bigint): number[] {
  // Negative int64 values are sent as their 64-bit two's complement (10 bytes).
  let v = BigInt.asUintN(64, value);
  const bytes: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) b |= 0x80;
    bytes.push(b);
  } while (v !== 0n);
  return bytes;
}

const key = (field: number, wire: 0 | 2): number[] => varint(BigInt((field << 3) | wire));
const int = (field: number, value: number): Field => [...key(field, 0), ...varint(BigInt(value))];
const bytesField = (field: number, payload: number[]): Field => [
  ...key(field, 2),
  ...varint(BigInt(payload.length)),
  ...payload,
];
const str = (field: number, text: string): Field => bytesField(field, [...new TextEncoder().encode(text)]);
const msg = (field: number, ...parts: Field[]): Field => bytesField(field, parts.flat());

/** ONNX TensorProto.DataType: FLOAT = 1, DOUBLE = 11. */
const elemType = { float32: 1, float64: 11 } as const;

// ValueInfoProto { name = 1; type = 2 } / TypeProto { tensor_type = 1 } /
// TypeProto.Tensor { elem_type = 1; shape = 2 } / TensorShapeProto { dim = 1 } / Dimension { dim_param = 2 }
const valueInfo = (field: number, name: string, dtype: keyof typeof elemType): Field =>
  msg(
    field,
    str(1, name),
    msg(2, msg(1, int(1, elemType[dtype]), msg(2, msg(1, str(2, 'rows')), msg(1, str(2, 'cols'))))),
  );

export function softmaxModel(op: 'Softmax' | 'LogSoftmax', dtype: keyof typeof elemType): Uint8Array {
  // NodeProto { input = 1; output = 2; name = 3; op_type = 4; attribute = 5 }
  // AttributeProto { name = 1; i = 3; type = 20 (INT = 2) }
  const node = msg(
    1,
    str(1, 'x'),
    str(2, 'y'),
    str(3, 'softmax'),
    str(4, op),
    msg(5, str(1, 'axis'), int(3, -1), int(20, 2)),
  );
  // GraphProto { node = 1; name = 2; input = 11; output = 12 }
  const graph = msg(7, node, str(2, 'softmax_graph'), valueInfo(11, 'x', dtype), valueInfo(12, 'y', dtype));
  // ModelProto { ir_version = 1; producer_name = 2; graph = 7; opset_import = 8 { domain = 1; version = 2 } }
  return new Uint8Array([...int(1, 8), ...str(2, 'softmax-bench'), ...graph, ...msg(8, str(1, ''), int(2, 13))]);
}
