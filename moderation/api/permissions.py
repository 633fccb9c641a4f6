from rest_framework.permissions import BasePermission

from moderation.models import Site
from moderation.selectors import can_moderate


class IsSite(BasePermission):
    """A request authenticated by a site's API key."""

    def has_permission(self, request, view):
        return isinstance(request.auth, Site)


class IsModerator(BasePermission):
    """Staff with the moderation permission (by session or token)."""

    message = "Moderator access needs a staff account with the moderation permission."

    def has_permission(self, request, view):
        return can_moderate(request.user)
