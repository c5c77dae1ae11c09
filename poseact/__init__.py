"""poseact: classroom action recognition from 2D body pose."""

__version__ = "0.1.0"
