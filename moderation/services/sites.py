"""Sites and their articles."""

import logging
import secrets

from django.db import transaction

from moderation.models import (
    Article,
    Comment,
    ModerationMode,
    Site,
    hash_api_key,
)

log = logging.getLogger(__name__)
Status = Comment.Status


def site_create(*, name: str, moderation_mode: str = ModerationMode.POST) -> tuple[Site, str]:
    """Create a site; the API key is returned once and only its hash is kept."""
    key = _new_api_key()
    site = Site.objects.create(
        name=name,
        api_key_hash=hash_api_key(key),
        api_key_prefix=key[:12],
        default_moderation_mode=moderation_mode,
    )
    return site, key


def site_rotate_key(*, site: Site) -> str:
    key = _new_api_key()
    Site.objects.filter(pk=site.pk).update(api_key_hash=hash_api_key(key), api_key_prefix=key[:12])
    return key


def _new_api_key() -> str:
    return "vg_" + secrets.token_urlsafe(32)


UNSET = object()  # an argument left out, where None is a value


def article_upsert(
    *,
    site: Site,
    external_id: str,
    url: str | None = None,
    title: str | None = None,
    language: str | None = None,
    moderation_mode: str | None = None,
    closed: bool | None = None,
    close_after_days: int | None | object = UNSET,
) -> tuple[Article, bool]:
    """Create or update an article; fields left out keep their value (or the default).

    close_after_days: a number of days, None for the site's setting, UNSET to keep it.
    """
    fields = {
        "url": url,
        "title": title,
        "language": language,
        "moderation_mode": moderation_mode,
        "closed": closed,
    }
    given = {k: v for k, v in fields.items() if v is not None}
    if close_after_days is not UNSET:
        given["close_after_days"] = close_after_days
    with transaction.atomic():
        article, created = Article.objects.select_for_update().get_or_create(
            site=site,
            external_id=external_id,
            defaults={"moderation_mode": site.default_moderation_mode, **given},
        )
        if not created and given:
            for name, value in given.items():
                setattr(article, name, value)
            article.save(update_fields=[*given, "updated_at"])
    return article, created
