"""TFLite metadata and `.task` bundles for the offline pose model.

MediaPipe's own metadata writer (`metadata_writers`) cannot be imported from the 1.2.x wheel: it needs
`_pywrap_metadata_version`, a native module the wheel does not ship, only to compute the minimum parser
version string. So we write the few metadata fields the landmarker needs with MediaPipe's generated
flatbuffer classes (the same classes the writer uses), and the bundle with its aligned zip writer.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import flatbuffers
from mediapipe.tasks.metadata import metadata_schema_py_generated as meta_fb
from mediapipe.tasks.metadata import schema_py_generated as schema_fb
from mediapipe.tasks.python.metadata.metadata_writers import model_asset_bundle_utils

_METADATA_NAME = "TFLITE_METADATA"
_METADATA_IDENTIFIER = b"M001"
_MODEL_IDENTIFIER = b"TFL3"
# Every field we write exists since metadata schema 1.0.0.
_MIN_PARSER_VERSION = "1.0.0"
# The outputs of the legacy pose_landmark_full.tflite, in tensor order.
_LANDMARK_OUTPUTS = ("landmarks", "pose_flag", "segmentation", "heatmap", "world_landmarks")


def _feature(name: str) -> meta_fb.TensorMetadataT:
    tensor = meta_fb.TensorMetadataT()
    tensor.name = name
    tensor.content = meta_fb.ContentT()
    tensor.content.contentPropertiesType = meta_fb.ContentProperties.FeatureProperties
    tensor.content.contentProperties = meta_fb.FeaturePropertiesT()
    return tensor


def _image_input() -> meta_fb.TensorMetadataT:
    tensor = meta_fb.TensorMetadataT()
    tensor.name = "image"
    tensor.content = meta_fb.ContentT()
    tensor.content.contentPropertiesType = meta_fb.ContentProperties.ImageProperties
    props = meta_fb.ImagePropertiesT()
    props.colorSpace = meta_fb.ColorSpaceType.RGB
    tensor.content.contentProperties = props
    norm = meta_fb.NormalizationOptionsT()
    # The legacy model takes RGB in [0, 1]: (pixel - 0) / 255.
    norm.mean, norm.std = [0.0], [255.0]
    unit = meta_fb.ProcessUnitT()
    unit.optionsType = meta_fb.ProcessUnitOptions.NormalizationOptions
    unit.options = norm
    tensor.processUnits = [unit]
    stats = meta_fb.StatsT()
    stats.max, stats.min = [1.0], [0.0]
    tensor.stats = stats
    return tensor


def landmark_metadata() -> bytes:
    """The metadata flatbuffer for the legacy pose landmark model."""
    subgraph = meta_fb.SubGraphMetadataT()
    subgraph.inputTensorMetadata = [_image_input()]
    subgraph.outputTensorMetadata = [_feature(name) for name in _LANDMARK_OUTPUTS]
    model = meta_fb.ModelMetadataT()
    model.name = "pose_landmark_full (mediapipe 0.10.21)"
    model.description = "BlazePose GHUM 3D full, with image-input metadata added by poseact."
    model.subgraphMetadata = [subgraph]
    model.minParserVersion = _MIN_PARSER_VERSION
    builder = flatbuffers.Builder(0)
    builder.Finish(model.Pack(builder), _METADATA_IDENTIFIER)
    return bytes(builder.Output())


def add_landmark_metadata(model_bytes: bytes) -> bytes:
    """Return the TFLite model with `landmark_metadata()` attached as `TFLITE_METADATA`.

    Args:
        model_bytes: The legacy `pose_landmark_full.tflite`.

    Raises:
        ValueError: The model already carries metadata or its outputs are not the five expected ones.
    """
    model = schema_fb.ModelT.InitFromObj(schema_fb.Model.GetRootAsModel(bytearray(model_bytes), 0))
    if any(m.name in (_METADATA_NAME, _METADATA_NAME.encode()) for m in model.metadata or []):
        raise ValueError("model already has TFLite metadata")
    outputs = model.subgraphs[0].outputs
    if len(outputs) != len(_LANDMARK_OUTPUTS):
        raise ValueError(f"expected {len(_LANDMARK_OUTPUTS)} outputs, found {len(outputs)}")
    buffer = schema_fb.BufferT()
    buffer.data = list(landmark_metadata())
    model.buffers.append(buffer)
    entry = schema_fb.MetadataT()
    entry.name = _METADATA_NAME
    entry.buffer = len(model.buffers) - 1
    model.metadata = (model.metadata or []) + [entry]
    builder = flatbuffers.Builder(0)
    builder.Finish(model.Pack(builder), _MODEL_IDENTIFIER)
    return bytes(builder.Output())


def write_bundle(files: dict[str, bytes], path: Path) -> None:
    """Write an uncompressed, 4-byte aligned `.task` zip with a fixed timestamp (same bytes each time)."""
    with model_asset_bundle_utils.AlignZipFile(str(path), mode="w", alignment=4) as bundle:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            bundle.writestr(info, files[name])
