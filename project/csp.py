"""django-csp's middleware, with the policy header built once instead of on every response.

django-csp 4.0 rebuilds the header string from the settings for each response (a deep copy
and a join of every directive), even for a response it then leaves without a header. Vigie's
policy has no nonce and no view changes it, so the string is the same every time: it is
built once per policy (per settings object, so `override_settings` in tests still applies) and
reused. A response that a view decorated (`@csp_update`, `@csp_exempt` ...) or a request that
asked for a nonce goes through django-csp's own code, unchanged. bench/csp_header.py measures it.
"""

from http import HTTPStatus

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject
from csp.middleware import CSPMiddleware as DjangoCSPMiddleware
from csp.utils import build_policy
from django.conf import settings

# What a decorator or a nonce sets on the response or request: any of them, django-csp's path.
_PER_RESPONSE = (
    "_csp_config",
    "_csp_update",
    "_csp_replace",
    "_csp_config_ro",
    "_csp_update_ro",
    "_csp_replace_ro",
    "_csp_exempt",
    "_csp_exempt_ro",
)


class CSPMiddleware(DjangoCSPMiddleware):
    def __init__(self, get_response):
        super().__init__(get_response)
        self._built: dict[tuple[str, int], tuple[object, str]] = {}

    def _header(self, setting: str, report_only: bool) -> str:
        policy = getattr(settings, setting, None)
        key = (setting, id(policy))
        cached = self._built.get(key)
        if cached is None or cached[0] is not policy:
            if policy and policy.get("EXCLUDE_URL_PREFIXES"):
                raise LookupError  # per-path: django-csp decides
            value = build_policy(report_only=report_only) if policy else ""
            cached = self._built[key] = (policy, value)
        return cached[1]

    def process_response(self, request, response):
        if getattr(request, "_csp_nonce", None) is not None or any(
            getattr(response, name, None) is not None for name in _PER_RESPONSE
        ):
            return super().process_response(request, response)
        if settings.DEBUG and response.status_code in (
            HTTPStatus.INTERNAL_SERVER_ERROR,
            HTTPStatus.NOT_FOUND,
        ):
            return response
        try:
            header = self._header("CONTENT_SECURITY_POLICY", report_only=False)
            header_ro = self._header("CONTENT_SECURITY_POLICY_REPORT_ONLY", report_only=True)
        except LookupError:
            return super().process_response(request, response)
        if header and HEADER not in response:
            response[HEADER] = header
        if header_ro and HEADER_REPORT_ONLY not in response:
            response[HEADER_REPORT_ONLY] = header_ro
        # As django-csp does: a nonce asked for after the header was written is an error.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response
