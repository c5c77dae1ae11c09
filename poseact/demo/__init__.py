"""The bundled demo data: animated real photos (clips, a lecture, crowds), made so the machinery can run with no
data of one's own.
"""
