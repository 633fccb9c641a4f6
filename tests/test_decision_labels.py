"""Moderator decisions become training labels (train_classifier --with-decisions)."""

from moderation import services
from moderation.models import Comment
from moderation.selectors import decision_labels
from tests.conftest import set_status

S = Comment.Status


def test_it_labels_each_comment_by_its_last_decision(make_comment, moderator):
    approved = set_status(make_comment("Un avis posé."), S.HELD)
    toxic = set_status(make_comment("Espèce d'abruti."), S.HELD)
    spam = set_status(make_comment("Gagnez de l'argent ici."), S.HELD)
    off_topic = set_status(make_comment("Rien à voir avec l'article."), S.HELD)
    changed_mind = set_status(make_comment("D'abord rejeté puis approuvé."), S.HELD)
    set_status(make_comment("Jamais décidé."), S.HELD)
    for comment, reason in [
        (toxic, "toxic"),
        (spam, "spam"),
        (off_topic, "off_topic"),
        (changed_mind, "toxic"),
    ]:
        services.comment_reject(comment_id=comment.pk, moderator=moderator, reason=reason)
    for comment in (approved, changed_mind):
        services.comment_approve(comment_id=comment.pk, moderator=moderator)
    Comment.objects.update(language="fr")

    rows = {text: (language, toxic, spam) for text, language, toxic, spam in decision_labels()}

    assert rows == {
        "Un avis posé.": ("fr", 0, 0),
        "Espèce d'abruti.": ("fr", 1, None),
        "Gagnez de l'argent ici.": ("fr", None, 1),
        "D'abord rejeté puis approuvé.": ("fr", 0, 0),
    }
