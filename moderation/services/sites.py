"""Sites and their articles."""

import logging
import secrets

from django.db import transaction

from moderation.errors import Forbidden, NotFound
from moderation.models import (
    Article,
    Comment,
    ModerationEvent,
    ModerationMode,
    SectionPolicy,
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
    section: str | None = None,
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
        "section": section,
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


THRESHOLD_NAMES = ("toxicity_hold", "toxicity_reject", "spam_hold", "spam_reject")


def site_apply_thresholds(*, site_id: int, user, thresholds: dict[str, float], section: str = "") -> Site:
    """A site manager sets the site's thresholds (or one section's), as the simulator showed.

    Only holders of ``moderation.manage_site`` (or superusers) on a site they moderate; the
    change is a ModerationEvent on the site, with the thresholds before and after.
    """
    from moderation.selectors import can_apply_thresholds, moderator_sites

    if not can_apply_thresholds(user):
        raise Forbidden("Only a site manager may change a site's thresholds.")
    values = {name: float(thresholds[name]) for name in THRESHOLD_NAMES if thresholds.get(name) is not None}
    with transaction.atomic():
        site = moderator_sites(user).select_for_update().filter(pk=site_id).first()
        if site is None:
            raise NotFound(f"No site {site_id}.")
        if section:
            target, _ = SectionPolicy.objects.select_for_update().get_or_create(site=site, section=section)
        else:
            target = site
        before = {name: getattr(target, name) for name in THRESHOLD_NAMES}
        for name, value in values.items():
            setattr(target, name, value)
        target.save(update_fields=list(values) or None)
        _thresholds_event(site, user, before, target, section)
    return site


def section_policy_save(*, policy: SectionPolicy, user) -> SectionPolicy:
    """A site manager's edit of a section's thresholds in the admin, with its event."""
    with transaction.atomic():
        old = SectionPolicy.objects.select_for_update().filter(pk=policy.pk).first() if policy.pk else None
        before = {name: getattr(old, name) if old else None for name in THRESHOLD_NAMES}
        policy.save()
        _thresholds_event(policy.site, user, before, policy, policy.section)
    return policy


def _thresholds_event(site: Site, user, before: dict, target, section: str) -> ModerationEvent:
    return ModerationEvent.objects.create(
        site=site,
        actor=ModerationEvent.Actor.MODERATOR,
        moderator=user,
        action=ModerationEvent.Action.THRESHOLDS,
        reason="thresholds",
        reason_params={
            "before": before,
            "after": {name: getattr(target, name) for name in THRESHOLD_NAMES},
            "section": section,
        },
    )
