"""Every non-trivial read: what readers see, what moderators review, the numbers."""

import functools
import statistics
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery, Window
from django.db.models.functions import Coalesce, RowNumber, TruncDate
from django.utils import timezone

from moderation import reasons
from moderation.errors import NotFound
from moderation.models import (
    Appeal,
    Article,
    Author,
    AuthorNote,
    Classification,
    Comment,
    ModerationEvent,
    Notice,
    RejectReason,
    Report,
    Revision,
    Site,
    WebhookEndpoint,
)
from moderation.reason_codes import reason_code

Status = Comment.Status

QUEUES = ("held", "reported", "received", "published", "approved", "rejected", "notices", "appeals")


def first_by_sql(model, sql: str, *params):
    """The first row of a fixed SELECT as a model instance, or None.

    For the lookups every POST makes: the ORM spends more CPU building these statements
    than PostgreSQL spends answering them (bench/RESULTS.md, "POST path").
    """
    return next(iter(model.objects.raw(sql, params)), None)


def _instance(model, values, fields=None):
    """A model instance from a row of a cursor's SELECT of ``fields`` (its concrete fields by
    default), values converted as the ORM would (SQLite's dates and booleans come as text
    and integers; PostgreSQL's need nothing)."""
    fields = fields or model._meta.concrete_fields
    converted = []
    for field, value in zip(fields, values, strict=True):
        if value is not None:
            column = field.get_col(model._meta.db_table)
            for convert in connection.ops.get_db_converters(column) + field.get_db_converters(connection):
                value = convert(value, column, connection)
        converted.append(value)
    return model.from_db(connection.alias, [f.attname for f in fields], converted)


_SITE_BY_KEY_HASH = (
    f"SELECT {', '.join(f.column for f in Site._meta.concrete_fields)}"  # noqa: S608
    f" FROM {Site._meta.db_table} WHERE api_key_hash = %s"
)


def site_by_api_key_hash(key_hash: str) -> Site | None:
    # Still one query per request, so a revoked or rotated key stops working at once; read
    # with a cursor, not raw(): RawQuerySet's column mapping cost as much as the query.
    with connection.cursor() as cursor:
        cursor.execute(_SITE_BY_KEY_HASH, [key_hash])
        row = cursor.fetchone()
    return None if row is None else _instance(Site, row)


_SITE_COLUMNS = [f.attname for f in Site._meta.concrete_fields]
_SITE_AND_ARTICLE = (
    f"SELECT {', '.join('s.' + c for c in _SITE_COLUMNS)}, a.id, a.visible_version"  # noqa: S608
    f" FROM {Site._meta.db_table} s LEFT JOIN {Article._meta.db_table} a"
    f" ON a.site_id = s.id AND a.external_id = %s WHERE s.api_key_hash = %s"
)


def site_and_article_by_key(key_hash: str, external_id: str) -> tuple[Site | None, Article | None]:
    """The key's site and its article ``external_id`` (only id and visible_version: what the
    readers' list and its ETag need) in one round trip; (None, None) for an unknown key.

    The article is looked up within the key's site, so an ETag never answers for another
    site's article of the same id.
    """
    with connection.cursor() as cursor:
        cursor.execute(_SITE_AND_ARTICLE, [external_id, key_hash])
        row = cursor.fetchone()
    if row is None:
        return None, None
    n = len(_SITE_COLUMNS)
    site = _instance(Site, row[:n])
    if row[n] is None:
        return site, None
    fields = ["id", "site_id", "visible_version"]
    article = Article.from_db(connection.alias, fields, (row[n], site.pk, row[n + 1]))
    return site, article


# The article and author lookups of every POST, as fixed statements too.
_ARTICLE_BY_EXTERNAL_ID = f"SELECT * FROM {Article._meta.db_table} WHERE site_id = %s AND external_id = %s"  # noqa: S608
_AUTHOR_BY_EXTERNAL_ID = f"SELECT * FROM {Author._meta.db_table} WHERE site_id = %s AND external_id = %s"  # noqa: S608


def article_for_site(*, site: Site, external_id: str) -> Article:
    article = first_by_sql(Article, _ARTICLE_BY_EXTERNAL_ID, site.pk, external_id)
    if article is None:
        raise NotFound(f"No article {external_id!r} on this site.")
    return article


def _counted(prefix: str = "") -> Q:
    """A comment that counts as visible: published or approved, and not a tombstone (where
    the edits work's Comment.deleted_at exists)."""
    q = Q(**{f"{prefix}status__in": Comment.VISIBLE})
    if any(f.name == "deleted_at" for f in Comment._meta.get_fields()):
        q &= Q(**{f"{prefix}deleted_at__isnull": True})
    return q


def article_comment_count(*, article: Article) -> int:
    """The article's visible comments (published or approved), replies included."""
    return Comment.objects.filter(_counted(), article=article).count()


def articles_comment_counts(*, site: Site, external_ids: list[str]) -> list[dict]:
    """[{"id", "comment_count"}] for those of the site's articles that exist, in one query."""
    rows = (
        Article.objects.filter(site=site, external_id__in=external_ids)
        .annotate(count=Count("comments", filter=_counted("comments__")))
        .values_list("external_id", "count")
    )
    counts = dict(rows)
    return [{"id": i, "comment_count": counts[i]} for i in external_ids if i in counts]


def author_for_site(*, site: Site, external_id: str) -> Author | None:
    return first_by_sql(Author, _AUTHOR_BY_EXTERNAL_ID, site.pk, external_id)


_ARTICLE_FIELDS = Article._meta.concrete_fields
_AUTHOR_FIELDS = Author._meta.concrete_fields
_ARTICLE_AND_AUTHOR = (
    f"SELECT {', '.join('a.' + f.column for f in _ARTICLE_FIELDS)},"  # noqa: S608 - names from the models
    f" {', '.join('au.' + f.column for f in _AUTHOR_FIELDS)}"
    f" FROM {Article._meta.db_table} a LEFT JOIN {Author._meta.db_table} au"
    f" ON au.site_id = a.site_id AND au.external_id = %s WHERE a.site_id = %s AND a.external_id = %s"
)


def article_and_author_for_site(
    *, site: Site, article_external_id: str, author_external_id: str
) -> tuple[Article, Author | None]:
    """article_for_site and author_for_site in one round trip (every POST asks both)."""
    with connection.cursor() as cursor:
        cursor.execute(_ARTICLE_AND_AUTHOR, [author_external_id, site.pk, article_external_id])
        row = cursor.fetchone()
    if row is None:
        raise NotFound(f"No article {article_external_id!r} on this site.")
    n = len(_ARTICLE_FIELDS)
    article = _instance(Article, row[:n])
    author = None if row[n] is None else _instance(Author, row[n:])
    return article, author


def pending_edit(*, comment: Comment) -> str | None:
    """`received` while the author's latest edit waits for its verdict, else None."""
    waiting = Revision.objects.filter(comment=comment, status__in=Revision.WAITING).exists()
    return Comment.Status.RECEIVED if waiting else None


def comment_for_site(*, site: Site, comment_id: int) -> Comment:
    comment = Comment.objects.select_related("article", "author").filter(pk=comment_id, site=site).first()
    if comment is None:
        raise NotFound(f"No comment {comment_id} on this site.")
    return comment


# What the visible list reads of each comment: flat rows, turned into threads by thread_forest.
THREAD_FIELDS = (
    "id",
    "parent_id",
    "root_id",
    "depth",
    "author__external_id",
    "author_name",
    "body",
    "created_at",
    "edited_at",
    "deleted_at",
)


def visible_roots(*, article: Article) -> QuerySet:
    """The top-level comments readers see under an article, as rows (the page is cut by the
    caller). A root its author deleted stays, as a tombstone, while a reply under it is visible."""
    live_reply = Comment.objects.filter(
        root=OuterRef("pk"), status__in=Comment.VISIBLE, deleted_at__isnull=True
    )
    return (
        Comment.objects.filter(article=article, parent__isnull=True, status__in=Comment.VISIBLE)
        .filter(Q(deleted_at__isnull=True) | Exists(live_reply))
        .values(*THREAD_FIELDS)
    )


class ThreadPage:
    """An article's visible threads as DRF's CursorPagination reads a queryset (order_by, a
    filter on the cursor's id, a slice), so its cursors and links stay DRF's own.

    On PostgreSQL the slice is one statement: the page of roots (visible_roots) and, by a
    LATERAL join on the (root, id) index, the first ``per_root`` + 1 visible replies of each
    root of the page (visible_replies). Elsewhere (SQLite) the same two queries through the
    ORM. After the slice, ``replies`` holds the replies' rows in id order.
    """

    model = Comment

    def __init__(self, *, article: Article, per_root: int):
        self.article, self.per_root = article, per_root
        self.descending, self.after, self.before = False, None, None
        self.replies: list[dict] = []

    def order_by(self, *fields: str) -> "ThreadPage":
        assert fields[0] in ("id", "-id"), fields  # noqa: S101 - the paginator's own orderings
        self.descending = fields[0] == "-id"
        return self

    def filter(self, **kwargs) -> "ThreadPage":
        for lookup, value in kwargs.items():
            if lookup == "id__gt":
                self.after = int(value)
            elif lookup == "id__lt":
                self.before = int(value)
            else:
                raise TypeError(lookup)
        return self

    def statement(self, *, offset: int, limit: int) -> tuple[str, list]:
        """The PostgreSQL statement of a slice (bench/reads.py explains it)."""
        return _thread_statement(
            article_id=self.article.pk,
            descending=self.descending,
            after=self.after,
            before=self.before,
            offset=offset,
            limit=limit,
            per_root=self.per_root,
        )

    def __getitem__(self, cut: slice) -> list[dict]:
        offset, stop = cut.start or 0, cut.stop
        if connection.vendor != "postgresql":
            roots = visible_roots(article=self.article).order_by("-id" if self.descending else "id")
            if self.after is not None:
                roots = roots.filter(id__gt=self.after)
            if self.before is not None:
                roots = roots.filter(id__lt=self.before)
            rows = list(roots[offset:stop])
            page = rows[: stop - offset - 1]
            self.replies = visible_replies(root_ids=[r["id"] for r in page], per_root=self.per_root)
            return rows
        with connection.cursor() as cursor:
            cursor.execute(*self.statement(offset=offset, limit=stop - offset))
            rows = [(row[0], dict(zip(THREAD_FIELDS, row[1:], strict=True))) for row in cursor.fetchall()]
        roots = [row for kind, row in rows if kind == 0]
        roots.sort(key=_row_id, reverse=self.descending)
        self.replies = sorted((row for kind, row in rows if kind == 1), key=_row_id)
        return roots


def _row_id(row: dict) -> int:
    return row["id"]


_COMMENT = Comment._meta.db_table
_AUTHOR = Author._meta.db_table
_THREAD_COLUMNS = (
    "id, parent_id, root_id, depth, author_id, author_name, body, created_at, edited_at, deleted_at"
)
_THREAD_SELECT = (
    "{t}.id, {t}.parent_id, {t}.root_id, {t}.depth, au.external_id, {t}.author_name, {t}.body,"
    " {t}.created_at, {t}.edited_at, {t}.deleted_at"
)


def _thread_statement(
    *, article_id: int, descending: bool, after, before, offset: int, limit: int, per_root: int
) -> tuple[str, list]:
    """Rows (0, *THREAD_FIELDS) for the ``limit`` roots of the page, (1, *THREAD_FIELDS) for
    the first per_root + 1 visible replies of each root but the last (the one that only says
    that a next page exists): visible_roots and visible_replies in one statement (PostgreSQL)."""
    visible = [str(status) for status in Comment.VISIBLE]  # their values, not enum members
    position, params = "", [article_id, visible]
    if after is not None:
        position += " AND c.id > %s"
        params.append(after)
    if before is not None:
        position += " AND c.id < %s"
        params.append(before)
    direction = "DESC" if descending else "ASC"
    sql = (
        f"WITH page AS MATERIALIZED ("  # noqa: S608 - names from the model, values as parameters
        f" SELECT {_THREAD_COLUMNS} FROM {_COMMENT} c"
        f" WHERE c.article_id = %s AND c.parent_id IS NULL AND c.status = ANY(%s){position}"
        # A root its author deleted stays, as a tombstone, while a reply under it is visible.
        # OFFSET 0 keeps the EXISTS a probe of the (root, id) index for each deleted root:
        # without it PostgreSQL 15 hashes the subquery, a scan of every visible comment of the
        # table as soon as one root of the page is deleted (36 ms for 52,000 comments).
        f" AND (c.deleted_at IS NULL OR EXISTS (SELECT 1 FROM {_COMMENT} l WHERE l.root_id = c.id"
        f" AND l.status = ANY(%s) AND l.deleted_at IS NULL OFFSET 0))"
        f" ORDER BY c.id {direction} LIMIT %s OFFSET %s),"
        f" shown AS (SELECT id FROM page ORDER BY id {direction} LIMIT %s)"
        f" SELECT 0, {_THREAD_SELECT.format(t='page')}"
        f" FROM page JOIN {_AUTHOR} au ON au.id = page.author_id"
        f" UNION ALL"
        f" SELECT 1, {_THREAD_SELECT.format(t='r')} FROM shown CROSS JOIN LATERAL ("
        f" SELECT c.* FROM {_COMMENT} c JOIN {_COMMENT} p ON p.id = c.parent_id"
        # A reply to a hidden comment is cut here already (one level; thread_forest cuts deeper).
        f" WHERE c.root_id = shown.id AND c.status = ANY(%s)"
        f" AND (c.parent_id = c.root_id OR p.status = ANY(%s))"
        f" ORDER BY c.id LIMIT %s) r JOIN {_AUTHOR} au ON au.id = r.author_id"
    )
    params += [visible, limit, offset, max(limit - 1, 0), visible, visible, per_root + 1]
    return sql, params


def _visible_replies_query(root_ids: list[int]) -> QuerySet[Comment]:
    # A reply to a hidden comment is cut here already (one level; thread_forest cuts deeper).
    return Comment.objects.filter(root_id__in=root_ids, status__in=Comment.VISIBLE).filter(
        Q(parent_id=F("root_id")) | Q(parent__status__in=Comment.VISIBLE)
    )


def visible_replies(*, root_ids: list[int], per_root: int) -> list[dict]:
    """The first per_root + 1 visible replies of each root, in id order (parents before their
    replies), in one query: the extra one says that the root has more (``replies_next``)."""
    if not root_ids:
        return []
    numbered = _visible_replies_query(root_ids).annotate(
        n=Window(RowNumber(), partition_by=F("root_id"), order_by=F("id").asc())
    )
    return list(numbered.filter(n__lte=per_root + 1).order_by("id").values(*THREAD_FIELDS))


def root_replies(*, root: Comment, after: int, limit: int) -> list[dict]:
    """One page of a root's visible replies after the reply id ``after``: limit + 1 rows."""
    rows = _visible_replies_query([root.pk]).filter(id__gt=after).order_by("id")
    return list(rows.values(*THREAD_FIELDS)[: limit + 1])


def visible_root_for_site(*, site: Site, comment_id: int) -> Comment:
    """A top-level comment readers can see (or its tombstone): the replies endpoint's root."""
    comment = (
        Comment.objects.filter(pk=comment_id, site=site, parent__isnull=True, status__in=Comment.VISIBLE)
        .only("id", "site_id", "article_id")
        .first()
    )
    if comment is None:
        raise NotFound(f"No visible thread {comment_id} on this site.")
    return comment


def shown_in_thread(*, comment_ids: set[int]) -> set[int]:
    """Which of these comments readers see in their thread: visible, and so is every ancestor
    (one recursive query; the replies endpoint asks it for the parents on earlier pages)."""
    if not comment_ids:
        return set()
    table = Comment._meta.db_table
    ids = sorted(comment_ids)
    marks = ", ".join(["%s"] * len(ids))
    visible = ", ".join(["%s"] * len(Comment.VISIBLE))
    sql = (
        f"WITH RECURSIVE up(start_id, parent_id, shown) AS ("  # noqa: S608 - names from the model
        f" SELECT id, parent_id, CASE WHEN status IN ({visible}) THEN 1 ELSE 0 END FROM {table}"
        f" WHERE id IN ({marks})"
        f" UNION ALL"
        f" SELECT up.start_id, p.parent_id, CASE WHEN p.status IN ({visible}) THEN 1 ELSE 0 END"
        f" FROM {table} p JOIN up ON p.id = up.parent_id WHERE up.shown = 1"
        f") SELECT start_id FROM up GROUP BY start_id HAVING MIN(shown) = 1"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*Comment.VISIBLE, *ids, *Comment.VISIBLE])
        return {row[0] for row in cursor.fetchall()}


def live_children(*, parent_ids: list[int]) -> set[int]:
    """Which of these comments have a visible, not deleted reply (a tombstone worth keeping)."""
    if not parent_ids:
        return set()
    return set(
        Comment.objects.filter(parent_id__in=parent_ids, status__in=Comment.VISIBLE, deleted_at__isnull=True)
        .values_list("parent_id", flat=True)
        .distinct()
    )


def _json_datetime(value: datetime | None) -> str | None:
    """As DRF's JSON encoder writes a datetime (isoformat, "Z" for UTC), here, so that the
    encoder does not call back into Python for each one of a page's hundreds."""
    if value is None:
        return None
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def thread_node(row: dict) -> dict:
    """A comment as readers see it in a thread; a deleted one is a tombstone, no text or author."""
    if row["deleted_at"] is not None:
        return {"id": row["id"], "parent_id": row["parent_id"], "deleted": True, "replies": []}
    return {
        "id": row["id"],
        "parent_id": row["parent_id"],
        "author": {"id": row["author__external_id"], "name": row["author_name"]},
        "body": row["body"],
        "created_at": _json_datetime(row["created_at"]),
        "edited_at": _json_datetime(row["edited_at"]),
        "deleted": False,
        "replies": [],
    }


def thread_forest(
    tops: list[dict],
    replies: list[dict],
    *,
    per_root: int | None,
    max_depth: int,
    live: set[int] | None = None,
    shown: set[int] | None = None,
) -> tuple[list[dict], dict[int, int]]:
    """Threads from flat rows in one pass, no recursion (a chain of any depth is a loop).

    ``tops``: the roots of a page (their order kept). ``replies``: rows in id order, so a
    parent comes before its replies. A reply whose parent is not among the nodes is cut
    (hidden parent) when ``tops`` are given; with no tops (a later page of one root's
    replies) it starts a tree of its own if its parent, on an earlier page, is in ``shown``
    (selectors.shown_in_thread), and is cut otherwise. Each root
    takes at most ``per_root`` replies. A reply deeper than ``max_depth`` hangs from the
    deepest allowed ancestor, as it would have been attached when posted today. Tombstones
    with nothing visible under them are left out (``live``: deleted ids that have a live
    reply beyond these rows).

    Returns (trees, {root id: id of the last reply taken} for roots with more replies).
    """
    live = live or set()
    root_ids = {row["id"] for row in tops}  # kept whatever: visible_roots chose them
    nodes: dict[int, dict] = {}
    depth: dict[int, int] = {}
    up: dict[int, int | None] = {}  # node -> the node it hangs from
    forest: list[dict] = []
    for row in tops:
        node = thread_node(row)
        nodes[row["id"]], depth[row["id"]], up[row["id"]] = node, 0, None
        forest.append(node)
    taken: dict[int, int] = {}
    last: dict[int, int] = {}
    more: dict[int, int] = {}
    for row in replies:
        root_id = row["root_id"]
        if per_root is not None and taken.get(root_id, 0) >= per_root:
            more.setdefault(root_id, last[root_id])
            continue
        taken[root_id] = taken.get(root_id, 0) + 1
        last[root_id] = row["id"]
        parent_id = row["parent_id"]
        node = thread_node(row)
        if parent_id in nodes and depth[parent_id] >= max_depth and up[parent_id] is None:
            # Too deep under a top of this page that hangs from an earlier page: a top too,
            # beside it, under the same comment of the earlier page.
            node["parent_id"] = nodes[parent_id]["parent_id"]
            forest.append(node)
            node_depth, parent_id = depth[parent_id], None
        elif parent_id in nodes:
            if depth[parent_id] >= max_depth:  # never deeper than max_depth: its parent's level
                parent_id = up[parent_id]
                node["parent_id"] = parent_id
            nodes[parent_id]["replies"].append(node)
            node_depth = depth[parent_id] + 1
        elif tops or parent_id not in (shown or ()):
            continue  # its parent is hidden (or cut): so is its thread below it
        else:
            forest.append(node)
            node_depth, parent_id = min(row["depth"], max_depth), None
        nodes[row["id"]], depth[row["id"]], up[row["id"]] = node, node_depth, parent_id
    # Children have higher ids than their parents: in reverse id order, a node's replies are
    # settled before the node itself.
    dead: set[int] = set()
    for node_id in sorted(nodes, reverse=True):
        node = nodes[node_id]
        node["replies"] = [r for r in node["replies"] if r["id"] not in dead]
        if node["deleted"] and not node["replies"] and node_id not in live and node_id not in root_ids:
            dead.add(node_id)
    forest = [n for n in forest if n["id"] not in dead]
    return forest, more


def can_moderate(user) -> bool:
    """Staff with the moderation permission: who may use the moderator API and workbench."""
    if not (user and getattr(user, "is_authenticated", False) and user.is_active and user.is_staff):
        return False
    if user.is_superuser or hasattr(user, "_perm_cache"):  # Django's answer is at hand
        return user.has_perm("moderation.moderate_comment")
    # One EXISTS instead of has_perm's two queries loading every permission of the user and
    # of their groups (each moderator API request is a new user object: bench/reads.py).
    cached = getattr(user, "_vigie_can_moderate", None)
    if cached is None:
        cached = user._vigie_can_moderate = (
            Permission.objects.filter(codename="moderate_comment", content_type__app_label="moderation")
            .filter(Q(user=user) | Q(group__user=user))
            .exists()
        )
    return cached


@functools.cache  # the statement is fixed once the apps are loaded; built on first use
def _token_user_sql() -> tuple[str, list[str]]:
    from rest_framework.authtoken.models import Token

    user_model = get_user_model()
    columns = [f.attname for f in user_model._meta.concrete_fields]
    user_perms = user_model.user_permissions.through._meta.db_table
    user_groups = user_model.groups.through._meta.db_table
    group_perms = Permission.group_set.through._meta.db_table
    sql = (
        f"SELECT {', '.join('u.' + c for c in columns)}, t.created,"  # noqa: S608 - names from the models
        f" EXISTS (SELECT 1 FROM {Permission._meta.db_table} p"
        f" JOIN django_content_type ct ON ct.id = p.content_type_id"
        f" WHERE p.codename = 'moderate_comment' AND ct.app_label = 'moderation' AND ("
        f" EXISTS (SELECT 1 FROM {user_perms} up WHERE up.permission_id = p.id AND up.user_id = u.id)"
        f" OR EXISTS (SELECT 1 FROM {user_groups} ug JOIN {group_perms} gp ON gp.group_id = ug.group_id"
        f" WHERE ug.user_id = u.id AND gp.permission_id = p.id)))"
        f" FROM {Token._meta.db_table} t JOIN {user_model._meta.db_table} u ON u.id = t.user_id"
        f" WHERE t.key = %s"
    )
    return sql, columns


def token_user(key: str):
    """(user, token) of an API token, or None, in one query that also answers can_moderate
    (what DRF's TokenAuthentication and then the moderator permission asked in two, through
    the ORM, on every moderator API request)."""
    from rest_framework.authtoken.models import Token

    sql, columns = _token_user_sql()
    with connection.cursor() as cursor:
        cursor.execute(sql, [key])
        row = cursor.fetchone()
    if row is None:
        return None
    n = len(columns)
    user = _instance(get_user_model(), row[:n])
    user._vigie_can_moderate = bool(row[n + 1])
    token_fields = [Token._meta.get_field(f) for f in ("key", "user", "created")]
    token = _instance(Token, (key, user.pk, row[n]), token_fields)
    token.user = user
    return user, token


def moderator_sites(user) -> QuerySet[Site]:
    """The sites a moderator works on: all for a superuser, else the ones they are on."""
    if user is None or not getattr(user, "is_authenticated", False):
        return Site.objects.none()
    if user.is_superuser:
        return Site.objects.all()
    return Site.objects.filter(moderators=user)


def can_manage_sites(user) -> bool:
    """Staff who may tune sites in the admin: superusers, and holders of manage_site or
    change_site, for the sites they moderate only (managed_sites)."""
    return bool(
        user
        and getattr(user, "is_authenticated", False)
        and user.is_active
        and user.is_staff
        and (
            user.is_superuser
            or user.has_perm("moderation.manage_site")
            or user.has_perm("moderation.change_site")
        )
    )


def can_apply_thresholds(user) -> bool:
    """Site managers (``moderation.manage_site``) and superusers: who may apply the
    simulator's thresholds to a site they moderate."""
    return bool(
        can_moderate(user) and (user.is_superuser or user.has_perm("moderation.manage_site"))
    ) or bool(user and getattr(user, "is_superuser", False) and user.is_active)


def managed_sites(user) -> QuerySet[Site]:
    """The sites ``user`` may tune: all for a superuser, their own for a site manager."""
    if not can_manage_sites(user):
        return Site.objects.none()
    return moderator_sites(user)


def site_moderators(user) -> QuerySet:
    """The moderators of the sites ``user`` moderates: the admin's "moderator" filter offers
    these and no one else (not another site's staff, not the superuser unless on a site)."""
    return (
        get_user_model()
        .objects.filter(moderated_sites__in=moderator_sites(user))
        .distinct()
        .order_by("username")
    )


def in_queue(comments: QuerySet[Comment], queue: str) -> QuerySet[Comment]:
    """The comments of one queue: a status, or "reported" (visible with open reports).

    Approved comments stay visible when readers report them (a moderator's approval stands),
    so their reports must reach a moderator here.
    """
    if queue == "reported":
        return comments.filter(status__in=Comment.VISIBLE, open_reports__gt=0)
    if queue == "received":  # waiting for either stage of the classifier
        return comments.filter(status__in=Comment.WAITING)
    if queue == "notices":  # a notice of illegal content waits for a decision
        return comments.filter(
            Exists(Notice.objects.filter(comment=OuterRef("pk"), status=Notice.Status.OPEN))
        )
    if queue == "appeals":  # the author contests a restriction
        return comments.filter(
            Exists(Appeal.objects.filter(comment=OuterRef("pk"), status=Appeal.Status.OPEN))
        )
    return comments.filter(status=queue)


def review_queue(*, user, queue: str) -> QuerySet[Comment]:
    # A comment its author deleted has nothing left to review.
    comments = Comment.objects.filter(site__in=moderator_sites(user), deleted_at__isnull=True).select_related(
        "site", "article", "author"
    )
    return in_queue(comments, queue)


# A queue page as rows: moderation.api.shapes.queue_item turns one into the JSON.
QUEUE_ROW_FIELDS = (
    "id",
    "parent_id",
    "body",
    "status",
    "language",
    "toxicity",
    "spam",
    "priority",
    "open_reports",
    "report_weight",
    "created_at",
    "decided_at",
    "site__name",
    "article__external_id",
    "article__url",
    "article__title",
    "article__language",
    "article__moderation_mode",
    "article__closed",
    "article__close_after_days",
    "article__section",
    "article__created_at",
    "article__updated_at",
    "author__id",
    "author__external_id",
    "author__name",
    "author__status",
    "author__approved_count",
    "author__rejected_count",
)


def review_queue_rows(*, user, queue: str) -> QuerySet:
    """review_queue as rows of QUEUE_ROW_FIELDS, with its sites, articles and authors joined."""
    comments = Comment.objects.filter(site__in=moderator_sites(user), deleted_at__isnull=True)
    return in_queue(comments, queue).values(*QUEUE_ROW_FIELDS)


_QUEUE_TABLES = {"site": "s", "article": "a", "author": "au"}  # QueuePage's aliases


class QueuePage:
    """A status queue's rows (review_queue_rows) as DRF's CursorPagination reads a queryset:
    order_by, a filter on the cursor's position, a slice; answered with one fixed statement
    instead of the ORM's compilation of joins, which cost several times the query
    (bench/reads_profile.py). Only for the queues of one status list (held, received,
    published, approved, rejected, reported) with no filter; the others go through the ORM.
    """

    model = Comment
    # QUEUE_ROW_FIELDS -> the column of the statement below ("article__url" is a.url), so the
    # rows have the keys, in the order, of review_queue_rows' values().
    COLUMNS = {
        field: f"{_QUEUE_TABLES[relation]}.{name}" if name else f"c.{relation}"
        for field in QUEUE_ROW_FIELDS
        for relation, _, name in [field.partition("__")]
    }
    ORDERABLE = ("id", "priority", "created_at")

    @staticmethod
    def serves(queue: str) -> bool:
        # PostgreSQL's driver gives the ORM's own types (SQLite's would need its converters).
        return connection.vendor == "postgresql" and queue in QUEUES and queue not in ("notices", "appeals")

    def __init__(self, *, user, queue: str):
        self.user, self.queue = user, queue
        self.ordering: tuple[str, ...] = ("id",)
        self.position: tuple[str, object] | None = None

    def order_by(self, *fields: str) -> "QueuePage":
        assert all(f.lstrip("-") in self.ORDERABLE for f in fields), fields  # noqa: S101
        self.ordering = fields
        return self

    def filter(self, **kwargs) -> "QueuePage":
        [(lookup, value)] = kwargs.items()
        name, _, op = lookup.partition("__")
        assert name in self.ORDERABLE and op in ("lt", "gt"), lookup  # noqa: S101
        value = Comment._meta.get_field(name).to_python(value)
        self.position = (f"c.{name} {'<' if op == 'lt' else '>'} %s", value)
        return self

    def __getitem__(self, cut: slice) -> list[dict]:
        offset, stop = cut.start or 0, cut.stop
        with connection.cursor() as cursor:
            cursor.execute(*self.statement(offset=offset, limit=stop - offset))
            names = list(self.COLUMNS)
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def statement(self, *, offset: int, limit: int) -> tuple[str, list]:
        where, params = ["c.deleted_at IS NULL"], []
        if not self.user.is_superuser:
            moderators = Site.moderators.through._meta.db_table
            where.append(f"c.site_id IN (SELECT site_id FROM {moderators} WHERE user_id = %s)")  # noqa: S608
            params.append(self.user.pk)
        if self.queue == "reported":
            where.append("c.status IN (%s, %s) AND c.open_reports > 0")
            params += [str(status) for status in Comment.VISIBLE]
        elif self.queue == "received":
            where.append("c.status IN (%s, %s)")
            params += [str(status) for status in Comment.WAITING]
        else:
            where.append("c.status = %s")
            params.append(self.queue)
        if self.position is not None:
            where.append(self.position[0])
            params.append(self.position[1])
        order = ", ".join(f"c.{f[1:]} DESC" if f.startswith("-") else f"c.{f} ASC" for f in self.ordering)
        sql = (
            f"SELECT {', '.join(self.COLUMNS.values())} FROM {_COMMENT} c"  # noqa: S608 - names from the models
            f" JOIN {Site._meta.db_table} s ON s.id = c.site_id"
            f" JOIN {Article._meta.db_table} a ON a.id = c.article_id"
            f" JOIN {_AUTHOR} au ON au.id = c.author_id"
            f" WHERE {' AND '.join(where)} ORDER BY {order} LIMIT %s OFFSET %s"
        )
        return sql, [*params, limit, offset]


def queue_counts(*, user) -> dict[str, int]:
    base = Comment.objects.filter(site__in=moderator_sites(user))
    counts = dict.fromkeys(QUEUES, 0)
    for row in base.values("status").annotate(n=Count("id")).order_by():
        queue = "received" if row["status"] == Status.SCREENING else row["status"]
        counts[queue] += row["n"]
    for queue in ("reported", "notices", "appeals"):
        counts[queue] = in_queue(base, queue).count()
    return counts


def comment_for_moderator(*, user, comment_id: int) -> Comment:
    comment = (
        Comment.objects.filter(pk=comment_id, site__in=moderator_sites(user))
        .select_related("site", "article", "author", "parent")
        .prefetch_related(
            Prefetch("classifications"),
            Prefetch("revisions", queryset=Revision.objects.order_by("number")),
            Prefetch("reports", queryset=Report.objects.order_by("created_at")),
            Prefetch("notices", queryset=Notice.objects.order_by("received_at")),
            Prefetch(
                "appeals", queryset=Appeal.objects.select_related("contested_by").order_by("created_at")
            ),
            Prefetch(
                "events",
                queryset=ModerationEvent.objects.select_related("moderator").order_by("created_at", "id"),
            ),
        )
        .first()
    )
    if comment is None:
        raise NotFound(f"No comment {comment_id}.")
    return comment


def comments_by_new_authors(comments: list[Comment]) -> set[int]:
    """The ones among these comments posted within their author's first N (N: the site's rule)."""
    ruled = {c.pk: c.site.premoderate_first_comments for c in comments if c.site.premoderate_first_comments}
    if not ruled:
        return set()
    earlier = (
        Comment.objects.filter(author=OuterRef("author_id"), pk__lt=OuterRef("pk"))
        .order_by()
        .values("author")
        .annotate(n=Count("id"))
        .values("n")
    )
    rows = (
        Comment.objects.filter(pk__in=list(ruled))
        .annotate(earlier=Coalesce(Subquery(earlier), 0))
        .values_list("pk", "earlier")
    )
    return {pk for pk, n in rows if n < ruled[pk]}


def author_for_moderator(*, user, author_id: int) -> Author:
    author = Author.objects.filter(pk=author_id, site__in=moderator_sites(user)).first()
    if author is None:
        raise NotFound(f"No author {author_id}.")
    return author


def author_notes(*, author: Author, limit: int = 20) -> list:
    return list(
        AuthorNote.objects.filter(author=author).select_related("moderator").order_by("-created_at")[:limit]
    )


def author_recent_comments(
    *, author: Author, exclude_id: int | None = None, limit: int = 10
) -> list[Comment]:
    comments = Comment.objects.filter(author=author).order_by("-created_at")
    if exclude_id is not None:
        comments = comments.exclude(pk=exclude_id)
    return list(comments[:limit])


def moderation_stats(*, user, days: int = 30, site_id: int | None = None, section: str = "") -> dict:
    """Counts per status, per day and status, and how long comments waited for a decision."""
    sites = moderator_sites(user)
    if site_id is not None:
        sites = sites.filter(pk=site_id)
    comments = Comment.objects.filter(site__in=sites)
    if section:
        comments = comments.filter(article__section=section)
    since = timezone.now() - timedelta(days=days)
    per_status = dict.fromkeys(Status.values, 0)
    for row in comments.values("status").annotate(n=Count("id")).order_by():
        per_status[row["status"]] = row["n"]
    per_day: dict[str, dict[str, int]] = defaultdict(
        lambda: {**dict.fromkeys(Status.values, 0), "classified": 0, "held_on_arrival": 0}
    )
    rows = (
        comments.filter(created_at__gte=since)
        .annotate(day=TruncDate("created_at"))
        .values("day", "status")
        .annotate(n=Count("id"))
        .order_by("day")
    )
    for row in rows:
        per_day[row["day"].isoformat()][row["status"]] = row["n"]
    # The held rate is what the classifier sent to moderators when comments arrived: it
    # does not fall when a moderator later approves or rejects them.
    # A verdict, not the fast stage's hand-off to the second opinion (one comment, two events).
    arrivals = (
        ModerationEvent.objects.filter(
            comment__in=comments, action=ModerationEvent.Action.CLASSIFY, created_at__gte=since
        )
        .exclude(to_status=Status.SCREENING)
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(classified=Count("id"), held=Count("id", filter=Q(to_status=Status.HELD)))
        .order_by()
    )
    for row in arrivals:
        counts = per_day[row["day"].isoformat()]
        counts["classified"] = row["classified"]
        counts["held_on_arrival"] = row["held"]
    classified_total = sum(counts["classified"] for counts in per_day.values())
    held_total = sum(counts["held_on_arrival"] for counts in per_day.values())
    waits = [
        (event.created_at - event.comment.created_at).total_seconds()
        for event in ModerationEvent.objects.filter(
            comment__in=comments,
            actor=ModerationEvent.Actor.MODERATOR,
            created_at__gte=since,
            action__in=[ModerationEvent.Action.APPROVE, ModerationEvent.Action.REJECT],
        )
        .select_related("comment")
        .only("created_at", "comment__created_at")[:50000]
    ]
    decided = per_status[Status.APPROVED] + per_status[Status.REJECTED]
    return {
        "per_status": per_status,
        "per_day": [{"day": day, **counts} for day, counts in sorted(per_day.items())],
        "held_rate": round(held_total / classified_total, 4) if classified_total else 0.0,
        "moderator_decisions": len(waits),
        "decided": decided,
        "time_to_decision_seconds": {
            "median": round(statistics.median(waits), 1) if waits else None,
            "p90": round(statistics.quantiles(waits, n=10)[-1], 1) if len(waits) >= 2 else None,
        },
        "days": days,
    }


# Reject reasons that say something about toxicity or spam; the others (off topic,
# personal data...) are not labels for either head.
_TOXIC_REASONS = {RejectReason.TOXIC, RejectReason.HATE, RejectReason.THREAT}


def decision_labels() -> Iterator[tuple[str, str, int | None, int | None]]:
    """Moderator decisions as training rows: (text, language, toxic, spam).

    Approved comments are neither toxic nor spam; rejected ones are labelled by the reason
    the moderator gave, and None means "no label for that head".
    """
    last_decisions = (
        ModerationEvent.objects.filter(
            actor=ModerationEvent.Actor.MODERATOR,
            action__in=[ModerationEvent.Action.APPROVE, ModerationEvent.Action.REJECT],
            comment__status=F("to_status"),
        )
        .select_related("comment")
        .order_by("comment_id", "-created_at", "-id")
    )
    seen: set[int] = set()
    for event in last_decisions.iterator(chunk_size=2000):
        if event.comment_id in seen:
            continue
        seen.add(event.comment_id)
        text, language = event.comment.body, event.comment.language or "other"
        if event.action == ModerationEvent.Action.APPROVE:
            yield text, language, 0, 0
        elif event.reason in _TOXIC_REASONS:
            yield text, language, 1, None
        elif event.reason == RejectReason.SPAM:
            yield text, language, None, 1


def webhook_endpoints_for_site(*, site: Site) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(site=site).order_by("id")


def transparency_report(*, user, date_from, date_to) -> dict:
    """What the DSA asks a host to publish (art. 15, 24), per site, over [date_from, date_to].

    Notices by ground and outcome; restrictions (holds and rejections) by reason and by who
    made them (automated: the classifier, the readers, the trust rules; human: moderators);
    moderators' approvals; median time from a comment's arrival to a moderator's decision and
    from a notice to its decision; appeals by outcome, reversals being the upheld ones.
    """
    start = timezone.make_aware(datetime.combine(date_from, time.min))
    end = timezone.make_aware(datetime.combine(date_to + timedelta(days=1), time.min))
    sites = list(moderator_sites(user).order_by("name"))
    report = {"from": date_from.isoformat(), "to": date_to.isoformat(), "sites": []}
    for site in sites:
        report["sites"].append(_site_transparency(site, start, end))
    return report


def _median_seconds(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def _site_transparency(site: Site, start, end) -> dict:
    notices = Notice.objects.filter(site=site, received_at__gte=start, received_at__lt=end)
    by_ground = {ground: dict.fromkeys(Notice.Status.values, 0) for ground in Notice.Ground.values}
    for row in notices.values("ground", "status").annotate(n=Count("id")).order_by():
        by_ground[row["ground"]][row["status"]] = row["n"]
    decided_notices = notices.filter(decided_at__isnull=False).values_list("received_at", "decided_at")
    notice_waits = [(decided - received).total_seconds() for received, decided in decided_notices]
    events = ModerationEvent.objects.filter(comment__site=site, created_at__gte=start, created_at__lt=end)
    # A move into held or rejected; a confirmation on appeal (rejected -> rejected) is not a new one.
    restrictions = events.filter(to_status__in=[Status.HELD, Status.REJECTED]).exclude(
        from_status=F("to_status")
    )
    by_reason: dict[str, dict[str, int]] = defaultdict(lambda: {"automated": 0, "human": 0})
    totals = {"automated": 0, "human": 0}
    per_status = {Status.HELD: 0, Status.REJECTED: 0}
    for actor, reason, to_status in restrictions.values_list("actor", "reason", "to_status").iterator():
        who = "human" if actor == ModerationEvent.Actor.MODERATOR else "automated"
        by_reason[reason_code(reason)][who] += 1
        totals[who] += 1
        per_status[to_status] += 1
    moderator_decisions = events.filter(
        actor=ModerationEvent.Actor.MODERATOR,
        action__in=[ModerationEvent.Action.APPROVE, ModerationEvent.Action.REJECT],
    )
    decision_waits = [
        (decided - arrived).total_seconds()
        for decided, arrived in moderator_decisions.values_list("created_at", "comment__created_at")[:100000]
    ]
    appeals = Appeal.objects.filter(site=site, created_at__gte=start, created_at__lt=end)
    appeal_counts = dict.fromkeys(Appeal.Status.values, 0)
    for row in appeals.values("status").annotate(n=Count("id")).order_by():
        appeal_counts[row["status"]] = row["n"]
    return {
        "site_id": site.pk,
        "site": site.name,
        "notices": {"total": notices.count(), "by_ground": by_ground},
        "notices_median_time_to_decision_seconds": _median_seconds(notice_waits),
        "restrictions": {
            "total": totals["automated"] + totals["human"],
            "held": per_status[Status.HELD],
            "rejected": per_status[Status.REJECTED],
            **totals,
            "by_reason": dict(sorted(by_reason.items())),
        },
        "moderator_approvals": moderator_decisions.filter(action=ModerationEvent.Action.APPROVE).count(),
        "moderator_rejections": moderator_decisions.filter(action=ModerationEvent.Action.REJECT).count(),
        "median_time_to_decision_seconds": _median_seconds(decision_waits),
        "appeals": {
            "total": sum(appeal_counts.values()),
            **appeal_counts,
            "reversals": appeal_counts[Appeal.Status.UPHELD],
        },
    }


TRANSPARENCY_CSV_COLUMNS = ("site", "section", "key", "outcome", "count")


def transparency_rows(report: dict) -> Iterator[tuple]:
    """The report as flat rows (site, section, key, outcome, value) for a CSV."""
    for site in report["sites"]:
        name = site["site"]
        for ground, outcomes in site["notices"]["by_ground"].items():
            for outcome, n in outcomes.items():
                yield name, "notices", ground, outcome, n
        median = site["notices_median_time_to_decision_seconds"]
        yield name, "notices", "median_time_to_decision_seconds", "", median
        for reason, who in site["restrictions"]["by_reason"].items():
            for kind, n in who.items():
                yield name, "restrictions", reason, kind, n
        for key in ("held", "rejected", "automated", "human", "total"):
            yield name, "restrictions", key, "", site["restrictions"][key]
        yield name, "decisions", "moderator_approvals", "", site["moderator_approvals"]
        yield name, "decisions", "moderator_rejections", "", site["moderator_rejections"]
        median = site["median_time_to_decision_seconds"]
        yield name, "decisions", "median_time_to_decision_seconds", "", median
        for key in ("total", *Appeal.Status.values, "reversals"):
            yield name, "appeals", key, "", site["appeals"][key]


def oldest_waiting_ages() -> dict[str, float | None]:
    """Seconds the oldest comment has waited at each classification stage (None: nothing waits).

    The stages: `received` (the fast model's; partial index comment_waiting) and, where the
    cascade's second-opinion status exists, the encoder's.
    """
    stages = [Status.RECEIVED, *([Status.SCREENING] if hasattr(Status, "SCREENING") else [])]
    now = timezone.now()
    ages = {}
    for stage in stages:
        oldest = Comment.objects.filter(status=stage).order_by("created_at").values_list("created_at")[:1]
        created = next(iter(oldest), (None,))[0]
        ages[str(stage)] = None if created is None else (now - created).total_seconds()
    return ages


def author_export(*, site: Site, external_id: str) -> dict:
    """Everything stored about one author of this site (GDPR art. 15 and 20), as JSON data:
    the author, their comments with each one's history, the reports they made, the events
    about them, their appeals. Raises NotFound for an unknown (or erased) author."""
    author = Author.objects.filter(site=site, external_id=external_id, erased_at__isnull=True).first()
    if author is None:
        raise NotFound(f"No author {external_id!r} on this site.")
    comments = list(
        Comment.objects.filter(author=author).select_related("article").order_by("created_at", "id")
    )
    events = defaultdict(list)
    for event in ModerationEvent.objects.filter(comment__in=comments).order_by("created_at", "id"):
        events[event.comment_id].append(_event_data(event))
    revisions = _revisions_of(comments)
    appeals = defaultdict(list)
    for appeal in Appeal.objects.filter(comment__in=comments).order_by("created_at", "id"):
        appeals[appeal.comment_id].append(
            {"text": appeal.text, "status": appeal.status, "created_at": appeal.created_at}
        )
    return {
        "site": site.name,
        "exported_at": timezone.now(),
        "author": {
            "id": author.external_id,
            "name": author.name,
            "status": author.status,
            "created_at": author.created_at,
        },
        "comments": [
            {
                "id": c.pk,
                "article_id": c.article.external_id,
                "parent_id": c.parent_id,
                "body": c.body,
                "status": c.site_status,
                "created_at": c.created_at,
                "updated_at": c.updated_at,
                "history": events[c.pk],
                "revisions": revisions.get(c.pk, []),
                "appeals": appeals[c.pk],
            }
            for c in comments
        ],
        "reports_made": [
            {
                "comment_id": r.comment_id,
                "reason": r.reason,
                "text": r.text,
                "created_at": r.created_at,
                "outcome": r.outcome,
            }
            for r in Report.objects.filter(comment__site=site, reporter_id=external_id).order_by(
                "created_at", "id"
            )
        ],
        "events": [
            _event_data(e) for e in ModerationEvent.objects.filter(author=author).order_by("created_at", "id")
        ],
        # What moderators wrote about them is about them too (without who wrote it).
        "moderator_notes": [
            {"text": n.text, "created_at": n.created_at}
            for n in AuthorNote.objects.filter(author=author).order_by("created_at", "id")
        ],
    }


def _event_data(event: ModerationEvent) -> dict:
    # Who decided is "a moderator", not which one: the moderator's identity is their data.
    return {
        "action": event.action,
        "actor": event.actor,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "reason": reasons.describe(event.reason, event.reason_params),
        "at": event.created_at,
    }


def _revisions_of(comments: list[Comment]) -> dict[int, list[dict]]:
    """The earlier texts of edited comments, where the edits work's Revision model exists."""
    from django.apps import apps

    try:
        revision = apps.get_model("moderation", "Revision")
    except LookupError:
        return {}
    out = defaultdict(list)
    for r in revision.objects.filter(comment__in=comments).order_by("pk"):
        out[r.comment_id].append({"body": r.body, "created_at": getattr(r, "created_at", None)})
    return out


# --- the workbench's queues at a glance ---------------------------------------------------------

# Statuses counted in an author's record: what readers saw, what waits, what was refused.
RECORD_GROUPS = {
    Status.PUBLISHED: "published",
    Status.APPROVED: "published",
    Status.HELD: "held",
    Status.REJECTED: "rejected",
}


def queue_page_context(comments: list[Comment]) -> dict[int, dict]:
    """What a queue row shows besides the comment, for one page of comments, in five queries.

    Per comment id: ``reason`` and ``reason_params`` (the event that put it in its status),
    ``second_opinion`` (the encoder was asked), ``notice`` / ``appeal`` (one is open),
    ``explanation`` and ``scores`` (the latest classification's), and ``record``: the
    author's comments counted as published (published or approved), held and rejected.
    """
    ids = [c.pk for c in comments]
    context = {
        c.pk: {
            "reason": "",
            "reason_params": {},
            "second_opinion": False,
            "notice": False,
            "appeal": False,
            "explanation": None,
            "scores": None,
            "record": {},
        }
        for c in comments
    }
    if not ids:
        return context
    status_of = {c.pk: c.status for c in comments}
    events = (
        ModerationEvent.objects.filter(comment_id__in=ids)
        .exclude(to_status="")
        .order_by("comment_id", "created_at", "id")
        .values_list("comment_id", "to_status", "reason", "reason_params")
    )
    for comment_id, to_status, reason, params in events:
        row = context[comment_id]
        if reason == "second_opinion":
            row["second_opinion"] = True
        if to_status == status_of[comment_id]:  # the latest move into today's status wins
            row["reason"], row["reason_params"] = reason, params or {}
    for comment_id in Notice.objects.filter(comment_id__in=ids, status=Notice.Status.OPEN).values_list(
        "comment_id", flat=True
    ):
        context[comment_id]["notice"] = True
    for comment_id in Appeal.objects.filter(comment_id__in=ids, status=Appeal.Status.OPEN).values_list(
        "comment_id", flat=True
    ):
        context[comment_id]["appeal"] = True
    latest: dict[int, tuple] = {}
    classifications = Classification.objects.filter(comment_id__in=ids).values_list(
        "comment_id", "created_at", "id", "explanation", "toxicity", "spam"
    )
    for comment_id, created_at, pk, explanation, toxicity, spam in classifications:
        if comment_id not in latest or (created_at, pk) > latest[comment_id][:2]:
            latest[comment_id] = (created_at, pk, explanation, toxicity, spam)
    for comment_id, (_, _, explanation, toxicity, spam) in latest.items():
        context[comment_id]["explanation"] = explanation
        context[comment_id]["scores"] = {"toxicity": toxicity, "spam": spam}
    author_of = {c.pk: c.author_id for c in comments}
    records: dict[int, dict[str, int]] = defaultdict(
        lambda: dict.fromkeys(("published", "held", "rejected"), 0)
    )
    rows = (
        Comment.objects.filter(author_id__in=set(author_of.values()), status__in=list(RECORD_GROUPS))
        .values("author_id", "status")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        records[row["author_id"]][RECORD_GROUPS[row["status"]]] += row["n"]
    for comment_id, author_id in author_of.items():
        context[comment_id]["record"] = records[author_id]
    return context


def queue_ordering(queue: str) -> list[str]:
    """The order a queue is worked through: by score, worst first, or newest first."""
    return ["-priority", "id"] if queue in ("held", "reported", "received") else ["-created_at", "-id"]


def queue_neighbours(*, user, queue: str, comment: Comment) -> tuple[int | None, int | None]:
    """The comments before and after ``comment`` in ``queue`` (its order), for j/k in the workbench."""
    if queue not in QUEUES:
        return None, None
    comments = review_queue(user=user, queue=queue).order_by()
    if queue_ordering(queue)[0] == "-priority":
        p = comment.priority
        after = Q(priority__lt=p) | Q(priority=p, id__gt=comment.pk)
        before = Q(priority__gt=p) | Q(priority=p, id__lt=comment.pk)
        following = comments.filter(after).order_by("-priority", "id")
        preceding = comments.filter(before).order_by("priority", "-id")
    else:
        t = comment.created_at
        after = Q(created_at__lt=t) | Q(created_at=t, id__lt=comment.pk)
        before = Q(created_at__gt=t) | Q(created_at=t, id__gt=comment.pk)
        following = comments.filter(after).order_by("-created_at", "-id")
        preceding = comments.filter(before).order_by("created_at", "id")
    return (
        preceding.values_list("pk", flat=True).first(),
        following.values_list("pk", flat=True).first(),
    )


def last_reject_reason(*, user) -> str:
    """The reason this moderator gave for their last rejection ('' if none): the "r" key's."""
    reason = (
        ModerationEvent.objects.filter(moderator=user, action=ModerationEvent.Action.REJECT)
        .exclude(reason="")
        .order_by("-created_at", "-id")
        .values_list("reason", flat=True)
        .first()
    )
    return reason if reason in RejectReason.values else ""


# --- the dashboard ---------------------------------------------------------------------------


def _quantile(values: list[float], q: float) -> float | None:
    """The q-quantile (0..1) by linear interpolation between the nearest ranks; None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return round(ordered[low] + (ordered[high] - ordered[low]) * (position - low), 1)


def dashboard_sections(*, user, site_id: int | None = None) -> list[str]:
    """The sections the moderator's articles are in (for the dashboard's filter)."""
    articles = Article.objects.filter(site__in=moderator_sites(user)).exclude(section="")
    if site_id is not None:
        articles = articles.filter(site_id=site_id)
    return list(articles.values_list("section", flat=True).distinct().order_by("section"))


def dashboard(*, user, days: int = 30, site_id: int | None = None, section: str = "") -> dict:
    """The desk's numbers over the last ``days`` days, every one saying what it counts.

    ``arrivals``: comments the classifier decided in the period, by its verdict (its last
    classify event; a second opinion's hand-off is not a verdict), so held + published +
    rejected = decided, and the held share is held / decided. ``decisions``: moderators'
    approvals and rejections in the period, with the time from a comment's arrival to each
    (median, 90th percentile). ``moderators``: per moderator, decisions, approvals,
    rejections and reversals (a later decision on the same comment, by anyone, that went
    the other way). ``agreement``: of the comments the classifier held and a moderator then
    decided, the share rejected; of those it published, the share a moderator later
    rejected after readers reported them.
    """
    sites = moderator_sites(user)
    if site_id is not None:
        sites = sites.filter(pk=site_id)
    since = timezone.now() - timedelta(days=days)
    events = ModerationEvent.objects.filter(comment__site__in=sites)
    if section:
        events = events.filter(comment__article__section=section)
    verdicts = (
        events.filter(action=ModerationEvent.Action.CLASSIFY, created_at__gte=since)
        .exclude(to_status=Status.SCREENING)
        .order_by("comment_id", "created_at", "id")
        .values_list("comment_id", "to_status")
    )
    verdict_of: dict[int, str] = {}
    for comment_id, to_status in verdicts:
        verdict_of[comment_id] = to_status  # the last verdict stands
    arrivals = dict.fromkeys((Status.PUBLISHED, Status.HELD, Status.REJECTED), 0)
    for to_status in verdict_of.values():
        if to_status in arrivals:
            arrivals[to_status] += 1
    classified = sum(arrivals.values())

    decision_actions = [ModerationEvent.Action.APPROVE, ModerationEvent.Action.REJECT]
    decisions = events.filter(actor=ModerationEvent.Actor.MODERATOR, action__in=decision_actions)
    # Every decision on a comment decided in the period (a reversal may come after it).
    decided_rows = list(
        decisions.filter(comment__in=decisions.filter(created_at__gte=since).values("comment_id"))
        .order_by("comment_id", "created_at", "id")
        .values_list("id", "comment_id", "moderator_id", "action", "created_at", "comment__created_at")
    )
    by_comment: dict[int, list] = defaultdict(list)
    for row in decided_rows:
        by_comment[row[1]].append(row)
    moderators: dict[int | None, dict] = {}
    waits = []
    approvals = rejections = 0
    for rows in by_comment.values():
        for index, (_, _, moderator_id, action, created_at, arrived) in enumerate(rows):
            if created_at < since:
                continue
            entry = moderators.setdefault(
                moderator_id, {"decisions": 0, "approvals": 0, "rejections": 0, "reversals": 0}
            )
            entry["decisions"] += 1
            if action == ModerationEvent.Action.APPROVE:
                entry["approvals"] += 1
                approvals += 1
            else:
                entry["rejections"] += 1
                rejections += 1
            waits.append((created_at - arrived).total_seconds())
            if any(later[3] != action for later in rows[index + 1 :]):
                entry["reversals"] += 1
    names = dict(
        get_user_model().objects.filter(pk__in=[m for m in moderators if m]).values_list("pk", "username")
    )
    per_moderator = sorted(
        ({"moderator": names.get(m, "–"), **counts} for m, counts in moderators.items()),
        key=lambda row: (-row["decisions"], row["moderator"]),
    )

    final_of = {comment_id: rows[-1][3] for comment_id, rows in by_comment.items()}
    held_ids = [c for c, v in verdict_of.items() if v == Status.HELD]
    held_decided = [c for c in held_ids if c in final_of]
    held_rejected = sum(1 for c in held_decided if final_of[c] == ModerationEvent.Action.REJECT)
    published_ids = [c for c, v in verdict_of.items() if v == Status.PUBLISHED]
    reported = set(
        Report.objects.filter(comment_id__in=published_ids).values_list("comment_id", flat=True).distinct()
    )
    published_rejected = sum(
        1 for c in published_ids if c in reported and final_of.get(c) == ModerationEvent.Action.REJECT
    )
    return {
        "days": days,
        "site_id": site_id,
        "section": section,
        "arrivals": {"classified": classified, **{str(k): v for k, v in arrivals.items()}},
        "held_share": round(arrivals[Status.HELD] / classified, 4) if classified else None,
        "decisions": {
            "total": approvals + rejections,
            "approvals": approvals,
            "rejections": rejections,
            "time_to_decision_seconds": {"median": _quantile(waits, 0.5), "p90": _quantile(waits, 0.9)},
        },
        "moderators": per_moderator,
        "agreement": {
            "held": len(held_ids),
            "held_decided": len(held_decided),
            "held_rejected": held_rejected,
            "held_rejected_share": round(held_rejected / len(held_decided), 4) if held_decided else None,
            "published": len(published_ids),
            "published_rejected_after_reports": published_rejected,
            "published_rejected_share": round(published_rejected / len(published_ids), 4)
            if published_ids
            else None,
        },
    }


def dashboard_rows(stats: dict) -> Iterator[tuple]:
    """The dashboard as flat rows (section, key, value) for a CSV."""
    for key, value in stats["arrivals"].items():
        yield "arrivals", key, value
    yield "arrivals", "held_share", stats["held_share"]
    decisions = stats["decisions"]
    for key in ("total", "approvals", "rejections"):
        yield "decisions", key, decisions[key]
    for key, value in decisions["time_to_decision_seconds"].items():
        yield "decisions", f"time_to_decision_seconds_{key}", value
    for row in stats["moderators"]:
        for key in ("decisions", "approvals", "rejections", "reversals"):
            yield f"moderator:{row['moderator']}", key, row[key]
    for key, value in stats["agreement"].items():
        yield "agreement", key, value


# --- the threshold simulator -----------------------------------------------------------------

SIMULATION_METHOD = (
    "Replays the stored scores (Comment.toxicity, Comment.spam: the latest classification) of "
    "the site's comments classified in the period through the thresholds given: rejected at or "
    "over a reject threshold, held at or over a hold threshold, else published. Scores only: "
    "word lists, pre-moderation, trust rules and reader reports are left out. Precision and "
    "recall are estimated on the comments a moderator decided (their last decision: rejected "
    "= should be stopped, approved = should pass): precision = stopped and rejected / stopped, "
    "recall = stopped and rejected / rejected, among decided comments; null when there is "
    "nothing to divide by. Decided comments are mostly ones the classifier held, so these "
    "estimates lean on that sample."
)


def simulate_thresholds(*, site: Site, thresholds: dict[str, float], days: int = 30) -> dict:
    """What the site's comments of the last ``days`` days would have become under ``thresholds``
    (toxicity_hold, toxicity_reject, spam_hold, spam_reject); see SIMULATION_METHOD."""
    since = timezone.now() - timedelta(days=days)
    comments = (
        Comment.objects.filter(site=site, created_at__gte=since, toxicity__isnull=False)
        .exclude(status__in=Comment.WAITING)
        .values_list("pk", "toxicity", "spam")
    )
    comments = list(comments)
    last_decision: dict[int, str] = {}
    decisions = (
        ModerationEvent.objects.filter(
            comment__site=site,
            comment__created_at__gte=since,
            actor=ModerationEvent.Actor.MODERATOR,
            action__in=[ModerationEvent.Action.APPROVE, ModerationEvent.Action.REJECT],
        )
        .order_by("comment_id", "created_at", "id")
        .values_list("comment_id", "action")
    )
    for comment_id, action in decisions:
        last_decision[comment_id] = action
    counts = {"held": 0, "rejected": 0, "published": 0}
    stopped_bad = stopped = bad = 0
    for pk, toxicity, spam in comments:
        spam = spam or 0.0
        if spam >= thresholds["spam_reject"] or toxicity >= thresholds["toxicity_reject"]:
            outcome = "rejected"
        elif spam >= thresholds["spam_hold"] or toxicity >= thresholds["toxicity_hold"]:
            outcome = "held"
        else:
            outcome = "published"
        counts[outcome] += 1
        decision = last_decision.get(pk)
        if decision is None:
            continue
        is_bad = decision == ModerationEvent.Action.REJECT
        is_stopped = outcome != "published"
        bad += is_bad
        stopped += is_stopped
        stopped_bad += is_bad and is_stopped
    decided = sum(1 for pk, *_ in comments if pk in last_decision)
    return {
        "site": site.pk,
        "days": days,
        "thresholds": thresholds,
        "comments": len(comments),
        **counts,
        "held_per_day": round(counts["held"] / days, 2),
        "decided": decided,
        "estimated_precision": round(stopped_bad / stopped, 4) if stopped else None,
        "estimated_recall": round(stopped_bad / bad, 4) if bad else None,
        "method": SIMULATION_METHOD,
    }


def current_thresholds(site: Site, model_thresholds: dict[str, float]) -> dict[str, float]:
    """The site's thresholds as the policy applies them: the site's, else the model's."""
    return {
        name: getattr(site, name) if getattr(site, name) is not None else float(model_thresholds[name])
        for name in ("toxicity_hold", "toxicity_reject", "spam_hold", "spam_reject")
    }
