"""Examples on disk: normalisation, the shard schema, manifests, splits, landmark files, training data and clip
extraction.
"""
