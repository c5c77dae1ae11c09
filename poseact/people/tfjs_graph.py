"""Turn a TensorFlow.js graph model (model.json + .bin shards) into TFLite with TensorFlow, no tfjs packages needed.

A TFJS graph model's `model.json` holds `modelTopology`, a TF GraphDef in protobuf-JSON form whose Const
nodes have no values, and `weightsManifest`, groups of shard `paths` and `weights` (name, shape, dtype,
optional `quantization`) laid out back to back in the concatenated shards. `build_graph_def` rebuilds the GraphDef:

- each Const gets its value from the shards (quantized weights dequantized: float16 widened, uint8/uint16
  as `value * scale + min`; other schemes raise NotImplementedError);
- TFJS-only fused ops are expanded into plain TF ops so that the graph imports on any TF build:
  `_FusedConv2D`, `FusedDepthwiseConv2dNative` (and TF's own `_FusedDepthwiseConv2dNative`),
  `_FusedMatMul` become conv/matmul + BiasAdd (or FusedBatchNorm args) + activation
  (Relu, Relu6, Elu, Selu, LeakyRelu with `leakyrelu_alpha`, Sigmoid, Tanh, Prelu);
- attrs TF does not register for an op (TFJS and grappler leftovers) are dropped.

`to_tflite` imports the result with `tf.graph_util.import_graph_def` inside `tf.compat.v1.wrap_function`, prunes it
to the signature's (or the graph's Identity) outputs and converts that function to TFLite;
`poseact.people.finder_model` does so once, so workers run it like every other model.

Why our own code: the kept converters (`tensorflowjs`, and `tfjs-graph-converter` on top of it) pin TensorFlow and
jax versions that conflict with the project's lock; reading the format takes the few functions below.
"""

from __future__ import annotations

import json
import os

import numpy as np

_DTYPES = {"float32": np.float32, "int32": np.int32, "bool": np.bool_, "float16": np.float16,
           "uint8": np.uint8, "uint16": np.uint16, "int64": np.int64, "complex64": np.complex64}
_QUANT_BYTES = {"uint8": 1, "uint16": 2, "float16": 2}
_FUSED_CONV = {"_FusedConv2D": "Conv2D", "FusedDepthwiseConv2dNative": "DepthwiseConv2dNative",
               "_FusedDepthwiseConv2dNative": "DepthwiseConv2dNative", "_FusedMatMul": "MatMul"}
_ACTIVATIONS = {"Relu", "Relu6", "Elu", "Selu", "LeakyRelu", "Sigmoid", "Tanh", "Prelu"}


def read_weights(model_json: dict, folder: str) -> dict[str, np.ndarray]:
    """Name -> dequantized array for every weight in the manifest."""
    out = {}
    for group in model_json["weightsManifest"]:
        buf = b"".join(open(os.path.join(folder, p), "rb").read() for p in group["paths"])
        offset = 0
        for w in group["weights"]:
            shape = [int(s) for s in w["shape"]]
            count = int(np.prod(shape)) if shape else 1
            q = w.get("quantization")
            if w["dtype"] == "string":
                raise NotImplementedError(f"string weight {w['name']}")
            if q:
                qtype = q["dtype"]
                nbytes = count * _QUANT_BYTES[qtype]
                raw = np.frombuffer(buf, dtype=_DTYPES[qtype], count=count, offset=offset)
                if qtype == "float16":
                    value = raw.astype(np.float32)
                elif "scale" in q:  # affine uint8 / uint16
                    value = raw.astype(np.float32) * np.float32(q["scale"]) + np.float32(q["min"])
                else:
                    raise NotImplementedError(f"quantization {q} of {w['name']}")
                value = value.astype(_DTYPES[w["dtype"]])
            else:
                dt = np.dtype(_DTYPES[w["dtype"]])
                nbytes = count * dt.itemsize
                value = np.frombuffer(buf, dtype=dt, count=count, offset=offset).copy()
            out[w["name"]] = value.reshape(shape)
            offset += nbytes
    return out


def _attr_s(node, key: str) -> list[str]:
    return [s.decode() for s in node.attr[key].list.s] if key in node.attr else []


def _expand_fused(graph_def, tf) -> None:
    """Replace TFJS fused conv/matmul nodes by plain ops, keeping the node's name for its final output."""
    new_nodes = []
    for node in graph_def.node:
        if node.op not in _FUSED_CONV:
            new_nodes.append(node)
            continue
        fused = _attr_s(node, "fused_ops")
        num_args = node.attr["num_args"].i if "num_args" in node.attr else 0
        base_op = _FUSED_CONV[node.op]
        inputs = [i for i in node.input if not i.startswith("^")]
        controls = [i for i in node.input if i.startswith("^")]
        x, w, args = inputs[0], inputs[1], inputs[2:2 + num_args]
        extra = inputs[2 + num_args:]  # e.g. Prelu alpha appended after the bias
        dtype = node.attr["T"]

        base = tf.compat.v1.NodeDef(name=node.name + "/_base", op=base_op, input=[x, w] + controls)
        keep = {"Conv2D": ("T", "strides", "padding", "explicit_paddings", "data_format", "dilations",
                           "use_cudnn_on_gpu"),
                "DepthwiseConv2dNative": ("T", "strides", "padding", "explicit_paddings", "data_format",
                                          "dilations"),
                "MatMul": ("T", "transpose_a", "transpose_b")}[base_op]
        for k in keep:
            if k in node.attr:
                base.attr[k].CopyFrom(node.attr[k])
        if "padding" in node.attr and node.attr["padding"].s != b"EXPLICIT" and "explicit_paddings" in base.attr:
            del base.attr["explicit_paddings"]
        chain = [base]
        last = base.name
        activation = None
        for op in fused:
            if op == "BiasAdd":
                n = tf.compat.v1.NodeDef(name=node.name + "/_bias", op="BiasAdd", input=[last, args[0]])
                n.attr["T"].CopyFrom(dtype)
                if "data_format" in node.attr:
                    n.attr["data_format"].CopyFrom(node.attr["data_format"])
            elif op == "FusedBatchNorm":
                # args: scale, offset, mean, variance
                n = tf.compat.v1.NodeDef(name=node.name + "/_bn", op="FusedBatchNormV3",
                                         input=[last] + list(args[:4]))
                n.attr["T"].CopyFrom(dtype)
                n.attr["U"].CopyFrom(dtype)
                n.attr["epsilon"].f = node.attr["epsilon"].f if "epsilon" in node.attr else 1e-3
                n.attr["is_training"].b = False
                if "data_format" in node.attr:
                    n.attr["data_format"].CopyFrom(node.attr["data_format"])
            elif op in _ACTIVATIONS:
                activation = op
                continue
            else:
                raise NotImplementedError(f"{node.name}: fused op {op}")
            chain.append(n)
            last = n.name
        if activation:
            if activation == "Prelu":  # x if x > 0 else alpha * x  ==  relu(x) - alpha * relu(-x)
                alpha = extra[0] if extra else args[-1]
                pos = tf.compat.v1.NodeDef(name=node.name + "/_pos", op="Relu", input=[last])
                neg_in = tf.compat.v1.NodeDef(name=node.name + "/_negx", op="Neg", input=[last])
                neg = tf.compat.v1.NodeDef(name=node.name + "/_neg", op="Relu", input=[neg_in.name])
                scaled = tf.compat.v1.NodeDef(name=node.name + "/_aneg", op="Mul", input=[alpha, neg.name])
                for n in (pos, neg_in, neg, scaled):
                    n.attr["T"].CopyFrom(dtype)
                chain += [pos, neg_in, neg, scaled]
                n = tf.compat.v1.NodeDef(name=node.name, op="Sub", input=[pos.name, scaled.name])
            else:
                n = tf.compat.v1.NodeDef(name=node.name, op=activation, input=[last])
                if activation == "LeakyRelu":
                    n.attr["alpha"].f = node.attr["leakyrelu_alpha"].f if "leakyrelu_alpha" in node.attr else 0.2
            n.attr["T"].CopyFrom(dtype)
            chain.append(n)
        else:
            chain.append(tf.compat.v1.NodeDef(name=node.name, op="Identity", input=[last]))
            chain[-1].attr["T"].CopyFrom(dtype)
        new_nodes.extend(chain)
    del graph_def.node[:]
    graph_def.node.extend(new_nodes)


def _drop_unknown_attrs(graph_def, tf) -> None:
    from tensorflow.python.framework import op_def_registry  # noqa: PLC0415

    for node in graph_def.node:
        op_def = op_def_registry.get(node.op)
        if op_def is None:
            raise NotImplementedError(f"op {node.op} ({node.name}) is not a TF op")
        known = {a.name for a in op_def.attr}
        for key in list(node.attr.keys()):
            if key not in known and not key.startswith("_"):
                del node.attr[key]
            elif key.startswith("_grappler"):
                del node.attr[key]


def build_graph_def(model_json_path: str):
    """(GraphDef with weights filled in, input names, output names) of a TFJS graph model."""
    import tensorflow as tf  # noqa: PLC0415
    from google.protobuf import json_format  # noqa: PLC0415

    with open(model_json_path) as f:
        model = json.load(f)
    topology = dict(model["modelTopology"])
    topology.pop("library", None)  # function library (control flow) not supported here
    graph_def = json_format.ParseDict(topology, tf.compat.v1.GraphDef(), ignore_unknown_fields=True)
    weights = read_weights(model, os.path.dirname(os.path.abspath(model_json_path)))
    for node in graph_def.node:
        if node.op == "Const" and node.name in weights:
            value = weights[node.name]
            dtype = tf.dtypes.as_dtype(node.attr["dtype"].type)
            node.attr["value"].tensor.CopyFrom(
                tf.make_tensor_proto(value.astype(dtype.as_numpy_dtype), dtype=dtype, shape=value.shape))
    _expand_fused(graph_def, tf)
    _drop_unknown_attrs(graph_def, tf)
    signature = model.get("signature") or {}
    inputs = [v["name"] for v in signature.get("inputs", {}).values()] or [
        n.name for n in graph_def.node if n.op == "Placeholder"]
    outputs = [v["name"] for v in signature.get("outputs", {}).values()] or [
        n.name for n in graph_def.node if n.op == "Identity" and not any(
            i.split(":")[0] == n.name for m in graph_def.node for i in m.input)]
    return graph_def, inputs, outputs


def _tensor_name(name: str) -> str:
    return name if ":" in name else name + ":0"


def to_tflite(model_json_path: str, feeds: dict[str, tuple] | None = None, outputs: list[str] | None = None) -> bytes:
    """The model as a float32 TFLite flatbuffer (its inputs and outputs named as in the TFJS signature).

    Args:
        model_json_path: The model's `model.json`.
        feeds: Inner nodes to make the inputs instead, each replaced by a float32 placeholder of the given shape
            (None for a dimension of any size): a graph whose own input side does not convert is cut there.
        outputs: Inner nodes to make the outputs instead of the signature's.
    """
    import tensorflow as tf  # noqa: PLC0415

    graph_def, input_names, output_names = build_graph_def(model_json_path)
    if feeds:
        for node in graph_def.node:
            if node.name in feeds:
                node.op = "Placeholder"
                del node.input[:]
                node.attr.clear()
                node.attr["dtype"].type = tf.float32.as_datatype_enum
                node.attr["shape"].shape.CopyFrom(tf.TensorShape(list(feeds[node.name])).as_proto())
        input_names = list(feeds)
    output_names = outputs or output_names

    def _import():
        tf.compat.v1.import_graph_def(graph_def, name="")

    wrapped = tf.compat.v1.wrap_function(_import, [])
    fn = wrapped.prune([_tensor_name(n) for n in input_names], [_tensor_name(n) for n in output_names])
    return tf.lite.TFLiteConverter.from_concrete_functions([fn], wrapped).convert()


__all__ = ["build_graph_def", "read_weights", "to_tflite"]
