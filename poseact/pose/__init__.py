"""Video and pose: decoding, the MediaPipe pose model and its bundle, the landmarker, the detector, the landmark
runner, the landmark vocabulary.
"""
