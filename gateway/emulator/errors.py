"""The service's error answers: ``ApiError`` carries status, code and message; ``error_body`` shapes it.

Messages follow the real service's wording where it is known. None of them ever contains a secret.
"""

from __future__ import annotations

import uuid

DEFAULT_HOST_ID = "vod.cn-shanghai.aliyuncs.com"


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message


def new_request_id() -> str:
    return str(uuid.uuid4()).upper()


def error_body(code: str, message: str, request_id: str, host_id: str) -> dict[str, str]:
    return {
        "RequestId": request_id,
        "HostId": host_id,
        "Code": code,
        "Message": message,
        "Recommend": f"https://api.aliyun.com/troubleshoot?q={code}&product=vod&requestId={request_id}",
    }


def missing_parameter(name: str) -> ApiError:
    return ApiError(
        400,
        "MissingParameter",
        f'The input parameter "{name}" that is mandatory for processing this request is not supplied.',
    )


def invalid_parameter(message: str) -> ApiError:
    return ApiError(400, "InvalidParameter", message)


def signature_mismatch(string_to_sign: str | None = None) -> ApiError:
    # V1 answers carry the server's string to sign (no secret in it); aliyun-python-sdk-core
    # compares it with its own to tell a wrong secret from a wrongly built request.
    message = "Specified signature is not matched with our calculation."
    if string_to_sign is not None:
        message += f" server string to sign is:{string_to_sign}"
    return ApiError(400, "SignatureDoesNotMatch", message)


def incomplete_signature(detail: str) -> ApiError:
    return ApiError(
        400, "IncompleteSignature", f"The request signature does not conform to Aliyun standards. "
        f"{detail}"
    )  # fmt: skip


class _Spec:
    """A documented error; calling it makes a fresh exception (a shared instance would grow its
    traceback on every raise)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        self.status, self.code, self.message = status, code, message

    def __call__(self) -> ApiError:
        return ApiError(self.status, self.code, self.message)


access_key_not_found = _Spec(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
nonce_used = _Spec(400, "SignatureNonceUsed", "Specified signature nonce was used already.")
timestamp_expired = _Spec(400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.")
timestamp_format = _Spec(
    400, "InvalidTimeStamp.Format", "Specified time stamp or date value is not well formatted."
)
token_mismatch = _Spec(
    400,
    "InvalidSecurityToken.MismatchWithAccessKey",
    "Specified SecurityToken mismatch with the AccessKey.",
)
action_not_found = _Spec(
    404, "InvalidAction.NotFound", "Specified api is not found, please check your url and method."
)
version_invalid = _Spec(400, "InvalidVersion", "Specified parameter Version is not valid.")
throttled = _Spec(400, "Throttling.User", "Request was denied due to user flow control.")
internal_error = _Spec(
    500,
    "InternalError",
    "The request processing has failed due to some unknown error, exception or failure.",
)
service_unavailable = _Spec(
    503, "ServiceUnavailable", "The request has failed due to a temporary failure of the server."
)
too_many_ids = _Spec(
    400, "InvalidParameter", "The specified parameter VideoIds is not valid: VideoIds max 10."
)
