"""Labelling lectures: per-person windows, the rules, hand motion, segments, agreement, the lecture report,
snapshots, overlays.
"""
