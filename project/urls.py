from django.conf import settings
from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from moderation.admin import dashboard_view, transparency_view
from moderation.admin.simulator import simulator_apply_view, simulator_view
from moderation.api.errors import error_body
from moderation.health import healthz

urlpatterns = [
    # Before the admin's own URLs, which would read "dashboard" as a model name.
    path("admin/moderation/dashboard/", admin.site.admin_view(dashboard_view), name="vigie-dashboard"),
    path("admin/moderation/simulator/", admin.site.admin_view(simulator_view), name="vigie-simulator"),
    path(
        "admin/moderation/simulator/apply/",
        admin.site.admin_view(simulator_apply_view),
        name="vigie-simulator-apply",
    ),
    path(
        "admin/moderation/transparency/", admin.site.admin_view(transparency_view), name="vigie-transparency"
    ),
    path("admin/", admin.site.urls),
    path("api/v1/", include("moderation.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # Split: the page loads its init script from a URL of its own (`?script`), so the docs work
    # under a Content-Security-Policy with script-src 'self' (no inline script).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="docs"),
    path(
        "api/redoc/",
        SpectacularRedocView.as_view(url_name="schema", template_name="vigie/redoc.html"),
        name="redoc",
    ),
    path("healthz", healthz, name="healthz"),
]
if settings.VIGIE_DEMO:
    # A page for trying Vigie out (`manage.py serve` sets VIGIE_DEMO=1), not for production.
    urlpatterns.append(path("demo/", include("moderation.demo.urls")))


def _json_error(status: int, code: str, message: str):
    def view(request, exception=None):
        return JsonResponse(error_body(code, message), status=status)

    return view


handler400 = _json_error(400, "bad_request", "The request could not be understood.")
handler403 = _json_error(403, "permission_denied", "Permission denied.")
handler404 = _json_error(404, "not_found", "Not found.")
handler500 = _json_error(500, "server_error", "Internal server error.")
