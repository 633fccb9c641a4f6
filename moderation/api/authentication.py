from django.utils.translation import gettext
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from moderation.models import hash_api_key
from moderation.selectors import site_and_article_by_key, site_by_api_key_hash, token_user


class SitePrincipal:
    """The caller behind a site API key: a news website's server, not a Django user."""

    is_authenticated = True
    is_staff = False
    is_superuser = False

    def __init__(self, site):
        self.site = site

    def __str__(self) -> str:
        return f"site:{self.site.name}"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """``Authorization: Api-Key <key>``; keys are stored as SHA-256 hashes."""

    keyword = "Api-Key"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        keyword, _, key = header.partition(" ")
        if keyword != self.keyword:
            return None
        key = key.strip()
        if not key:
            raise exceptions.AuthenticationFailed("Empty API key.")
        site = self.site_for(request, hash_api_key(key))
        if site is None or not site.is_active:
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        return SitePrincipal(site), site

    def site_for(self, request, key_hash: str):
        # The readers' list (a view with `article_with_key`) has the article of its URL looked
        # up with the key, in the same round trip: its ETag is known once the caller is, and
        # a 304 costs that one query. ``request.article``: None when the site has no such
        # article. Within the key's site, so that an ETag never answers for another site.
        view = request.parser_context.get("view")
        if not (getattr(view, "article_with_key", False) and request.method in ("GET", "HEAD")):
            return site_by_api_key_hash(key_hash)
        external_id = request.parser_context["kwargs"].get("external_id", "")
        if "\x00" in external_id:  # PostgreSQL refuses a NUL in text: the view answers 400
            request.article = None
            return site_by_api_key_hash(key_hash)
        site, request.article = site_and_article_by_key(key_hash, external_id)
        return site

    def authenticate_header(self, request):
        return 'Api-Key realm="vigie"'


class ModeratorTokenAuthentication(authentication.TokenAuthentication):
    """DRF's token authentication, its answers and messages, with the token's user and their
    moderation permission read in one query (selectors.token_user) instead of two."""

    def authenticate_credentials(self, key):
        found = token_user(key)
        if found is None:
            raise exceptions.AuthenticationFailed(gettext("Invalid token."))
        if not found[0].is_active:
            raise exceptions.AuthenticationFailed(gettext("User inactive or deleted."))
        return found


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "moderation.api.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Api-Key <key>`, as printed by `manage.py create_site`.",
        }
