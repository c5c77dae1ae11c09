"""Committed schemas of poseact's data (TensorFlow Metadata text protos), shipped as package data."""
