"""Credentials are kept out of recorded options, URLs and model descriptions."""

from pathlib import Path

from poseact.common import redact
from poseact.pose import pose_model


def test_secret_option_names_are_dropped_and_the_rest_kept():
    options = {
        "runner": "DataflowRunner",
        "s3_access_key_id": "AKIAFAKE",
        "s3_secret_access_key": "fake-secret",
        "s3_session_token": "fake-token",
        "hdfs_password": "pw",
        "job_name": "extract-1",
        "experiments": ["use_runner_v2"],
    }
    assert redact.redact_options(options) == {
        "runner": "DataflowRunner", "job_name": "extract-1", "experiments": ["use_runner_v2"],
    }


def test_credentials_inside_values_are_hidden():
    signed = "https://host/b/model.task?X-Amz-Credential=AKIA%2F1&X-Amz-Date=20260101&X-Amz-Signature=abc123"
    assert redact.redact_text(signed) == (
        "https://host/b/model.task?X-Amz-Credential=<redacted>&X-Amz-Date=20260101&X-Amz-Signature=<redacted>"
    )
    assert redact.redact_text("http://user:hunter2@minio:9000/bucket") == "http://<redacted>@minio:9000/bucket"
    assert redact.redact_options({"s3_endpoint_url": "http://u:p@h:1", "n": 3, "l": ("gs://b/x", "ftp://a:b@c/")}) == {
        "s3_endpoint_url": "http://<redacted>@h:1", "n": 3, "l": ("gs://b/x", "ftp://<redacted>@c/"),
    }


def test_plain_uris_are_left_alone():
    for uri in ("gs://bucket/data/manifest.csv", "s3://b/k?versionId=3", "/data/clips/a.mp4", "a@b.mp4"):
        assert redact.redact_text(uri) == uri


def test_model_description_hides_url_credentials():
    model = pose_model.PoseModel(Path("/m.task"), "custom", "https://me:pw123@host/m.task?token=abc", "0" * 64)
    text = model.describe()
    assert "pw123" not in text and "abc" not in text
    assert "https://<redacted>@host/m.task?token=<redacted>" in text
