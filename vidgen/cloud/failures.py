"""What Remotion Lambda and AWS answer when a render cannot go on, as one line saying what to do (CloudError, exit 3).

A failure the user must fix (credentials, the rate limit, the function's timeout, a version mismatch, nothing
deployed) stops the command; a failure of the video's own code on Lambda is the render's error, which the
model can repair like a local one (`is_the_videos`).
"""

from __future__ import annotations

from ..errors import CloudError
from .remotion_cli import CREDENTIALS_HELP, RATE_HELP, clean

_CREDENTIAL_CODES = {
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "AccessDeniedException",
    "AccessDenied",
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
}
_RATE_CODES = {"TooManyRequestsException", "ThrottlingException", "SlowDown", "Throttling"}


def classify(message: str, timeout_s: int, function: str, version: str) -> CloudError | None:
    """The CloudError a message from Lambda means, or None when it is the video's own failure."""
    lowered = message.lower()
    if "version mismatch" in lowered or "incompatible site" in lowered:
        return CloudError(
            f"version mismatch: the Lambda function {function} refused a request of Remotion {version} (the workspace's):"
            " run `vidgen lambda deploy`, which deploys a function of that version"
        )
    if "timed out" in lowered or "timeouterror" in lowered.replace(" ", ""):
        return CloudError(
            f"a Lambda function ran past its timeout of {timeout_s}s: let more functions share the video (lower [lambda]"
            " frames_per_lambda) or raise [lambda] timeout_s (at most 900) and run `vidgen lambda deploy`"
        )
    if any(word in lowered for word in ("toomanyrequests", "rate exceeded", "concurrency limit", "throttl")):
        return CloudError(f"AWS's rate limit was hit; {RATE_HELP}")
    if any(word in lowered for word in ("credential", "accessdenied", "not authorized")):
        return CloudError(f"AWS refused the render's credentials; {CREDENTIALS_HELP}")
    return None


def explain(exc: Exception, timeout_s: int, function: str, region: str, version: str) -> CloudError:
    """An exception from boto3 or the remotion-lambda client as one CloudError line."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    if isinstance(exc, NoCredentialsError):
        return CloudError(f"no AWS credentials were found; {CREDENTIALS_HELP}")
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        message = clean(str(exc.response.get("Error", {}).get("Message", "")))[:200]
        if code in _CREDENTIAL_CODES:
            return CloudError(f"AWS refused the credentials ({code}); {CREDENTIALS_HELP}")
        if code in _RATE_CODES:
            return CloudError(f"AWS's rate limit was hit ({code}); {RATE_HELP}")
        if code == "ResourceNotFoundException":
            return CloudError(f"the Lambda function {function} is not in {region}: run `vidgen lambda deploy`")
        return classify(message, timeout_s, function, version) or CloudError(f"AWS refused the call ({code}): {message}")
    if isinstance(exc, BotoCoreError):
        return CloudError(f"AWS could not be reached in {region} ({type(exc).__name__}): check the network, then run it again")
    message = clean(str(exc))[:300]
    return classify(message, timeout_s, function, version) or CloudError(f"Remotion Lambda failed: {message}")
