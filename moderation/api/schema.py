"""The OpenAPI side of the API: the error catalogue and the per-operation error responses.

Every error the API answers has the shape ``{"error": {"code", "message", "fields"}}``; its
``code`` is one of ``ERROR_CODES`` (an enum in the schema). Each view declares the codes it
can return with ``errors(...)``, and the schema lists only those statuses, each with its codes.
"""

from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

# code -> (HTTP status, what it means). The one list of every `code` the API can answer.
ERROR_CODES: dict[str, tuple[int, str]] = {
    "invalid": (400, "A field or parameter is not valid: `fields` names each one."),
    "malformed": (400, "The body is not JSON, or is nested too deeply."),
    "bad_request": (400, "The request could not be understood (e.g. a bad Host header)."),
    "not_authenticated": (401, "No credentials, or an unknown or revoked key or token."),
    "permission_denied": (403, "Authenticated, but not allowed (a moderator without the permission)."),
    "own_decision_appealed": (403, "The moderator made the decision under appeal: another one decides it."),
    "not_found": (404, "No such object on this site (another site's object is not found either)."),
    "method_not_allowed": (405, "The path does not take this method."),
    "not_acceptable": (406, "The Accept header excludes JSON."),
    "conflict": (409, "The request conflicts with the object's state."),
    "invalid_transition": (409, "The comment cannot go from its current status to the one asked."),
    "article_closed": (409, "The article is closed to new comments (closed, or past close_after_days)."),
    "edit_window_closed": (409, "The site's edit window for this comment has passed."),
    "comment_deleted": (409, "The comment was deleted by its author: it cannot be edited."),
    "comment_not_decided": (409, "The comment is still waiting for its first verdict: edit it afterwards."),
    "comment_rejected": (409, "A rejected comment cannot be edited (rewording is not a way round it)."),
    "idempotency_key_reused": (409, "The Idempotency-Key was used for a different request."),
    "already_reported": (409, "This reader already reported this comment."),
    "no_open_reports": (409, "The comment has no open report to dismiss."),
    "not_restricted": (409, "Nobody restricted this comment: there is nothing to appeal."),
    "appeal_window_closed": (409, "The decision is more than six months old."),
    "appeal_open": (409, "An appeal on this comment is already open."),
    "already_appealed": (409, "This decision was already reviewed on appeal."),
    "invalid_url": (400, "The webhook URL is not http(s), or points to a private address."),
    "too_many_webhooks": (400, "The site already has the maximum number of webhook endpoints."),
    "request_too_large": (413, "The request body is over the size limit."),
    "unsupported_media_type": (415, "The body is not application/json."),
    "throttled": (429, "A rate limit was reached: retry after the Retry-After header's seconds."),
    "server_error": (500, "An unexpected error (never on purpose)."),
}

ERROR = inline_serializer(
    "Error",
    {
        "error": inline_serializer(
            "ErrorBody",
            {
                "code": serializers.ChoiceField(choices=list(ERROR_CODES)),
                "message": serializers.CharField(),
                "fields": serializers.DictField(),
            },
        )
    },
)

# What every site operation can answer (the key, the limits), and every moderator operation.
SITE = ("not_authenticated", "throttled")
MODERATOR = ("not_authenticated", "permission_denied")
# What an operation that reads a JSON body can answer besides its own checks.
BODY = ("invalid", "malformed", "request_too_large", "unsupported_media_type")


def errors(*groups) -> dict[int, OpenApiResponse]:
    """The error responses of one operation: each status with the codes it can carry.

    ``groups`` are codes or tuples of codes (``SITE``, ``BODY``...).
    """
    codes: list[str] = []
    for group in groups:
        for code in (group,) if isinstance(group, str) else group:
            if code not in ERROR_CODES:
                raise ValueError(f"unknown error code {code!r}")
            if code not in codes:
                codes.append(code)
    by_status: dict[int, list[str]] = {}
    for code in codes:
        by_status.setdefault(ERROR_CODES[code][0], []).append(code)
    return {
        status: OpenApiResponse(ERROR, description="; ".join(f"`{c}`: {ERROR_CODES[c][1]}" for c in found))
        for status, found in sorted(by_status.items())
    }


def error_codes_description() -> str:
    """The catalogue as Markdown, for the schema's description."""
    lines = ["| code | status | meaning |", "|---|---|---|"]
    lines += [f"| `{code}` | {status} | {text} |" for code, (status, text) in ERROR_CODES.items()]
    return "\n".join(lines)
