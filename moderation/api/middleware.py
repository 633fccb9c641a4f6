"""Refuse over-large API requests before anything reads them, in the API's error shape."""

from django.conf import settings

from moderation.api.errors import json_error


class ApiRequestLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/api/"):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                return json_error(400, "malformed", "Content-Length is not a number.")
            if length > settings.VIGIE_MAX_REQUEST_BYTES:
                return json_error(
                    413,
                    "request_too_large",
                    f"The request body is over {settings.VIGIE_MAX_REQUEST_BYTES} bytes.",
                )
        return self.get_response(request)
