"""Shared pytest configuration."""

# Real object-store servers on loopback (gcp-storage-emulator, moto) for storage tests.
from .remote_servers import _remote_server_clients, gcs_server, s3_server  # noqa: F401
