"""Shared plumbing with no domain in it: console output, errors, argument helpers, HTML pages, storage (fsspec),
redaction.
"""
