"""AWS plumbing for the EC2 fetcher: clients, hypervisor lookup, and errors as one clear line.

boto3 is imported only inside functions (the `aws` target's first use). Credentials, region
and endpoints come from boto3's standard chain: `AWS_PROFILE`, `AWS_ACCESS_KEY_ID`/...,
`AWS_REGION`/`AWS_DEFAULT_REGION`, `AWS_ENDPOINT_URL_EC2` and
`AWS_ENDPOINT_URL_EC2_INSTANCE_CONNECT`, the config files, SSO, instance roles. A region given
in the target (`aws:eu-west-1/i-...`) wins over the environment.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Any, Mapping

from consolewatch.safetext import one_line, to_bytes

#: Instance families on the Xen hypervisor (current Nitro families are everything else);
#: used only when DescribeInstanceTypes cannot be called.
XEN_FAMILIES = frozenset({
    "t1", "t2", "m1", "m2", "m3", "m4", "c1", "c3", "c4", "r3", "r4", "i2", "i3", "d2", "g2", "g3",
    "g3s", "p2", "p3", "x1", "x1e", "f1", "h1", "cc2", "cr1", "hs1",
})

#: Error codes: what they mean for a poll loop.
THROTTLE_CODES = frozenset({
    "RequestLimitExceeded", "Throttling", "ThrottlingException", "ThrottledException", "EC2ThrottledException",
    "RequestThrottledException", "TooManyRequestsException", "RequestThrottled", "SlowDown",
    "BandwidthLimitExceeded", "PriorRequestNotComplete",
})
TRANSIENT_CODES = frozenset({
    "InternalError", "InternalFailure", "ServiceUnavailable", "Unavailable", "RequestTimeout",
    "RequestTimeoutException", "ServiceException",
})
CREDENTIAL_CODES = {
    "AuthFailure": "AWS rejected the credentials (AuthFailure)",
    "InvalidClientTokenId": "AWS does not recognise the access key",
    "UnrecognizedClientException": "AWS does not recognise the access key",
    "SignatureDoesNotMatch": "AWS rejected the request signature (wrong secret key?)",
    "ExpiredToken": "the AWS credentials have expired",
    "ExpiredTokenException": "the AWS credentials have expired",
    "RequestExpired": "the AWS credentials have expired (or the clock is off)",
    "OptInRequired": "the account is not subscribed to EC2 in this region (OptInRequired)",
}

NOT_BASE64 = re.compile(r"[^A-Za-z0-9+/=\r\n]")
MAX_OUTPUT = 1024 * 1024
"""Console output longer than this (EC2 sends at most 64 KB) is cut to its last MAX_OUTPUT bytes."""
MAX_IMAGE = 8 * 1024 * 1024


def hypervisor_for_type(instance_type: str) -> str | None:
    """"xen" or "nitro" from the instance family; None for bare metal (no hypervisor)."""
    family, _, size = instance_type.partition(".")
    if size.startswith("metal"):
        return None
    return "xen" if family in XEN_FAMILIES else "nitro"


@dataclass
class Problem:
    """A failed call sorted for the poll loop."""

    kind: str
    """"fatal" (stop, tell the user), "throttle", "transient" (back off, retry), "unsupported"."""
    message: str
    code: str = ""


class Unsupported(Exception):
    """A call failed in a way its caller decides about (an unknown or "not supported" code)."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def classify(exc: BaseException, *, instance_id: str, region: str | None, endpoint: str | None,
             action: str) -> Problem:
    """Sort an exception from a boto3 call; the message is one line and holds no secrets."""
    from botocore import exceptions as bx
    from botocore.parsers import ResponseParserError

    where = f" in region {region}" if region else ""
    if isinstance(exc, bx.ClientError):
        err = exc.response.get("Error", {}) or {}
        code = str(err.get("Code", "") or "")
        msg = _one_line(str(err.get("Message", "") or ""))
        status = int((exc.response.get("ResponseMetadata") or {}).get("HTTPStatusCode") or 0)
        if code in THROTTLE_CODES:
            return Problem("throttle", f"EC2 is throttling {action} ({code})", code)
        if code in CREDENTIAL_CODES:
            return Problem("fatal", f"{CREDENTIAL_CODES[code]}: refresh them (aws sso login, aws configure, "
                                    "or AWS_PROFILE) and try again", code)
        if code in ("InvalidInstanceID.NotFound", "InvalidInstanceID.Malformed"):
            return Problem("fatal", f"instance {instance_id} was not found{where}: check the instance id and the "
                                    "region (aws:REGION/i-..., AWS_REGION or the profile's region)", code)
        if code in ("UnauthorizedOperation", "AccessDenied", "AccessDeniedException"):
            return Problem("fatal", f"not authorised to call ec2:{action} on {instance_id}: the credentials need "
                                    f"ec2:{action} (and ec2:DescribeInstances)", code)
        if code in TRANSIENT_CODES or status >= 500:
            return Problem("transient", f"EC2 {action} failed: {code or status} {msg}".rstrip(), code)
        return Problem("unsupported", f"EC2 {action} failed: {code}: {msg}".rstrip(), code)
    if isinstance(exc, bx.NoRegionError):
        return Problem("fatal", "no AWS region: use aws:REGION/i-..., or set AWS_REGION or the profile's region")
    if isinstance(exc, bx.InvalidRegionError):
        return Problem("fatal", f"{region!r} is not a valid AWS region name")
    if isinstance(exc, (bx.NoCredentialsError, bx.PartialCredentialsError)):
        return Problem("fatal", "no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID/"
                                "AWS_SECRET_ACCESS_KEY, or run aws configure / aws sso login")
    if isinstance(exc, bx.ProfileNotFound):
        return Problem("fatal", f"AWS profile not found: {_one_line(str(exc))}")
    for name in ("TokenRetrievalError", "SSOTokenLoadError", "UnauthorizedSSOTokenError", "CredentialRetrievalError"):
        if isinstance(exc, getattr(bx, name, ())):
            return Problem("fatal", f"the AWS credentials could not be loaded or have expired: {_one_line(str(exc))}")
    if isinstance(exc, (bx.EndpointConnectionError, bx.ConnectTimeoutError, bx.ReadTimeoutError,
                        bx.ConnectionClosedError)):
        url = endpoint or "the EC2 endpoint"
        return Problem("transient", f"cannot reach {url}{where} ({type(exc).__name__}): check the region and "
                                    "AWS_ENDPOINT_URL_EC2")
    if isinstance(exc, ResponseParserError):
        return Problem("transient", f"EC2 {action} returned a response that is not valid XML")
    if isinstance(exc, bx.BotoCoreError):
        return Problem("transient", f"EC2 {action} failed: {_one_line(str(exc))}")
    if isinstance(exc, (OSError, ValueError)):
        return Problem("transient", f"EC2 {action} failed: {type(exc).__name__}: {_one_line(str(exc))}")
    return Problem("fatal", f"EC2 {action} failed: {type(exc).__name__}: {_one_line(str(exc))}")


def _one_line(text: str, limit: int = 300) -> str:
    text = one_line(" ".join(text.split()))
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def make_clients(region: str | None, *, profile: str | None = None, retries: int = 3, connect_timeout: float = 5.0,
                 read_timeout: float = 20.0, pool: int = 8) -> tuple[Any, Any, Any]:
    """(ec2 client, a factory for the ec2-instance-connect client, the boto3 session)."""
    import boto3
    from botocore import handlers
    from botocore.config import Config

    session = boto3.session.Session(profile_name=profile, region_name=region)
    config = Config(
        retries={"mode": "standard", "total_max_attempts": max(1, int(retries))},
        connect_timeout=connect_timeout, read_timeout=read_timeout, max_pool_connections=pool,
        user_agent_extra="consolewatch",
    )
    ec2 = session.client("ec2", config=config)
    # Keep the console bytes exact: boto3 decodes Output as UTF-8 with errors='replace'. Our
    # handler runs first and keeps the base64 text; boto3's is then switched off (if it were
    # not, the copy is still there).
    ec2.meta.events.register_first("after-call.ec2.GetConsoleOutput", _keep_raw_output,
                                   unique_id="consolewatch-raw-console-output")
    ec2.meta.events.unregister("after-call.ec2.GetConsoleOutput", handlers.decode_console_output)

    def connect_client() -> Any:
        return session.client("ec2-instance-connect", config=config)

    return ec2, connect_client, session


RAW_KEY = "ConsolewatchRawOutput"


def _keep_raw_output(parsed: Any = None, **kwargs: Any) -> None:
    if isinstance(parsed, dict) and "Output" in parsed:
        parsed[RAW_KEY] = parsed["Output"]


def console_bytes(response: Mapping[str, Any]) -> tuple[bytes, str | None]:
    """The console bytes of a GetConsoleOutput response and a problem note or None.

    The base64 text kept by our handler is decoded strictly; without it (a client made
    elsewhere), boto3's lossy text is re-encoded as UTF-8. At most MAX_OUTPUT bytes are kept."""
    output = response.get(RAW_KEY)
    if output is None:
        text = response.get("Output")
        if not isinstance(text, str):
            return b"", None if text is None else "EC2 returned console output of an unexpected type"
        return to_bytes(text[-MAX_OUTPUT:]), None
    if output == "":
        return b"", None
    if not isinstance(output, str):
        return b"", "EC2 returned console output of an unexpected type"
    note = None
    if NOT_BASE64.search(output[:4096]):
        return b"", "EC2 returned console output that is not valid base64"
    text = "".join(output.split()) if ("\n" in output or "\r" in output) else output
    limit = (MAX_OUTPUT // 3) * 4
    if len(text) > limit:
        note = f"EC2 returned more console output than a console window ({len(text)} base64 characters): kept the end"
        text = text[-limit:] if len(text) % 4 == 0 else text[-limit - len(text) % 4:]
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return b"", "EC2 returned console output that is not valid base64"
    return data[-MAX_OUTPUT:], note


def image_bytes(image_data: Any) -> tuple[bytes | None, str | None]:
    """Decoded screenshot bytes, or (None, problem)."""
    if not isinstance(image_data, str) or not image_data:
        return None, "EC2 returned an empty screenshot"
    if len(image_data) > MAX_IMAGE * 4 // 3 + 4:
        return None, f"EC2 returned an oversized screenshot ({len(image_data)} characters)"
    try:
        data = base64.b64decode("".join(image_data.split()), validate=True)
    except (binascii.Error, ValueError):
        return None, "EC2 returned a screenshot that is not valid base64"
    if not (data.startswith(b"\xff\xd8\xff") or data.startswith(b"\x89PNG\r\n\x1a\n")):
        return None, "EC2 returned a screenshot that is not a JPEG image"
    return data, None
