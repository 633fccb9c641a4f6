"""A realistic desk for the workbench's browser tests: held, reported and decided comments.

Comments go through the real services and the shipped model (classify_now): the scores,
the words and the trail are the classifier's own, not made up.
"""

from datetime import timedelta

from django.contrib.auth.models import Permission, User
from django.utils import timezone

from moderation import services
from moderation.models import Comment, ModerationEvent, Site
from tests.conftest import classify_now

LONG = (
    "Je lis ce journal depuis vingt ans et je dois dire que cet article sur la réforme des "
    "retraites est un tissu de mensonges écrit par un imbécile qui n'a jamais travaillé de sa vie. "
    "Les chiffres sont faux, les témoignages choisis pour servir une thèse, et la conclusion "
    "méprise tous ceux qui se lèvent tôt. Honte à vous."
)
HELD_BODIES = [
    ("camille", "Camille", "Ferme-la, espèce de connard, tu n'es qu'un imbécile."),
    ("bruno", "Bruno", LONG),
    ("lea", "Léa", "Gagnez 5000 euros par semaine depuis chez vous, cliquez ici http://promo.example"),
    ("camille", "Camille", "Ce ministre est une ordure, qu'il dégage."),
]
CLEAN_BODIES = [
    ("marc", "Marc", "Merci pour cet article clair et bien documenté."),
    ("lea", "Léa", "Tout à fait d'accord, les pistes protégées changent tout."),
    ("camille", "Camille", "Bon résumé, même si je ne partage pas la conclusion."),
    ("ines", "Inès", "Quelqu'un a-t-il le lien vers le rapport cité ?"),
]
LONG_TITLE = (
    "Réforme des retraites : le gouvernement engage sa responsabilité, les syndicats appellent "
    "à une nouvelle journée de mobilisation dans toute la France"
)


def seed_desk(site: Site) -> dict:
    """The site holds insults for a moderator (hold 0.5, reject never)."""
    Site.objects.filter(pk=site.pk).update(toxicity_hold=0.5, toxicity_reject=1.0, spam_hold=0.5)
    site.refresh_from_db()
    services.article_upsert(site=site, external_id="retraites", title=LONG_TITLE)
    services.article_upsert(site=site, external_id="velo", title="Paris : les pistes cyclables")

    def post(external_id, name, body, article="retraites"):
        comment, _ = services.comment_create(
            site=site,
            article_external_id=article,
            author_external_id=external_id,
            author_name=name,
            body=body,
        )
        return comment

    comments = [post(*row) for row in CLEAN_BODIES] + [post(*row, article="velo") for row in HELD_BODIES]
    classify_now([c.pk for c in comments])
    for comment in comments:
        comment.refresh_from_db()
    # Some age: the oldest waited a day and a half.
    for hours, comment in zip((1, 1, 1, 1, 36, 30, 5, 2), comments, strict=False):
        Comment.objects.filter(pk=comment.pk).update(created_at=timezone.now() - timedelta(hours=hours))
    # A reader reports a published comment twice (two identified readers).
    published = [c for c in comments if c.status == Comment.Status.PUBLISHED]
    for reader in ("lecteur-1", "lecteur-2"):
        services.report_create(site=site, comment_id=published[0].pk, reason="off_topic", reporter_id=reader)
    return {"comments": comments, "published": published}


def make_moderator(site: Site, username: str, *, manager: bool = False) -> User:
    user = User.objects.create_user(username, password="modo-pass-1234", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="moderate_comment"))
    if manager:
        user.user_permissions.add(Permission.objects.get(codename="manage_site"))
    site.moderators.add(user)
    return User.objects.get(pk=user.pk)


def decide(comment: Comment, action: str, moderator: User, reason: str = "") -> None:
    services.comments_bulk_decide(comment_ids=[comment.pk], action=action, moderator=moderator, reason=reason)


__all__ = ["seed_desk", "make_moderator", "decide", "ModerationEvent"]
