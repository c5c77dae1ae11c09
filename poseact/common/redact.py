"""Keep credentials out of what poseact writes or logs (summaries, model descriptions).

Credentials belong in the environment or the platform's identity (Application Default Credentials,
instance roles), not in flags: Beam itself logs every pipeline option when it submits a Dataflow job,
and echoes flags it does not know in a warning. What poseact records is filtered here all the same.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

REDACTED = "<redacted>"
# Option names containing one of these words are dropped whole (s3_secret_access_key, s3_session_token,
# hdfs_password, any *_credentials ...).
SECRET_WORDS = ("token", "secret", "key", "password", "passwd", "credential", "auth")
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]+@")
_SECRET_QUERY = re.compile(
    r"(?P<name>[?&](?:[^=&#\s]*(?:token|secret|key|signature|password|credential|sig)[^=&#\s]*))=[^&#\s]*",
    re.IGNORECASE,
)


def is_secret_name(name: str) -> bool:
    """Whether an option or variable name looks like it holds a credential."""
    lowered = name.lower()
    return any(word in lowered for word in SECRET_WORDS)


def redact_text(text: str) -> str:
    """Hide user:password parts of URLs and credential-like query parameters (signed URLs) in `text`."""
    text = _USERINFO.sub(lambda m: f"{m.group('scheme')}{REDACTED}@", text)
    return _SECRET_QUERY.sub(lambda m: f"{m.group('name')}={REDACTED}", text)


def redact_value(value: Any) -> Any:
    """`redact_text` applied to strings, also inside lists, tuples and dicts; other values unchanged."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, (list, tuple)):
        return type(value)(redact_value(v) for v in value)
    if isinstance(value, Mapping):
        return redact_options(value)
    return value


def redact_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """Options fit to record: secret-looking names dropped, credentials inside values hidden."""
    return {k: redact_value(v) for k, v in options.items() if not is_secret_name(str(k))}
