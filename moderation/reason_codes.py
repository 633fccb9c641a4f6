"""Why a comment was restricted, as one code per kind of reason. Pure, no ORM.

The trail's reasons come from several writers: moderators (models.RejectReason values),
the policy (English sentences like "toxicity 0.97 >= 0.90", or codes like
"toxicity_reject" with their numbers apart), the readers ("3 reader reports") and the trust
rules ("new_author", "reject_rate"). Statements of reasons and the transparency report
group them by these codes; what no pattern knows is "other".
"""

import re

CODES = frozenset(
    {
        # models.RejectReason
        "toxic", "hate", "threat", "spam", "off_topic", "personal_data", "other",
        # the policy, the readers, the trust rules, notices
        "author_banned", "banned_word", "suspect_word", "toxicity", "premoderation",
        "reports", "notice", "name", "new_author", "reject_rate",
    }
)  # fmt: skip

_PATTERNS = [
    (re.compile(r"^author[ _]banned"), "author_banned"),
    (re.compile(r"^banned[ _]word"), "banned_word"),
    (re.compile(r"^suspect[ _]word"), "suspect_word"),
    (re.compile(r"^toxicity"), "toxicity"),
    (re.compile(r"^spam"), "spam"),
    (re.compile(r"^pre-?moderat"), "premoderation"),
    (re.compile(r"^(\d+ )?reader reports?|^reports"), "reports"),
    (re.compile(r"^personal[ _]data"), "personal_data"),
    (re.compile(r"^(display[ _])?name|^author[ _]name"), "name"),
    (re.compile(r"^new[ _]author"), "new_author"),
    (re.compile(r"^reject[ _]rate"), "reject_rate"),
]
WORD_IN_REASON = re.compile(r"^(?:banned|suspect)[ _]word: (.+)$")


def reason_code(reason: str) -> str:
    """The code for a reason the trail holds; "other" for what it cannot place."""
    reason = (reason or "").strip()
    if reason in CODES:
        return reason
    for pattern, code in _PATTERNS:
        if pattern.match(reason):
            return code
    return "other"
