"""The site's tables (SQLAlchemy Core), the same on SQLite and PostgreSQL.

Ids are snowflakes (``roost.domain.ids``) made by the application, so rows sort by creation time
and cursors are integer comparisons. Counters are denormalised on purpose: a timeline read must
not count rows.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _id() -> Column:
    return Column("id", BigInteger, primary_key=True, autoincrement=False)


def _ref(name: str, table: str, nullable: bool = False, index: bool = False) -> Column:
    return Column(
        name,
        BigInteger,
        ForeignKey(f"{table}.id", ondelete="CASCADE"),
        nullable=nullable,
        index=index,
    )


class UtcDateTime(TypeDecorator):
    """A UTC instant: SQLite hands back naive datetimes, which must not meet aware ones."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def _when(name: str = "created_at", nullable: bool = False) -> Column:
    return Column(name, UtcDateTime(), nullable=nullable)


accounts = Table(
    "accounts",
    metadata,
    _id(),
    Column("username", String(30), nullable=False, unique=True),
    Column("email", String(254), unique=True),
    Column("password_hash", String(200)),
    Column("display_name", String(30), nullable=False, default=""),
    Column("note", Text, nullable=False, default=""),
    Column("note_html", Text, nullable=False, default=""),
    Column("locked", Boolean, nullable=False, default=False),
    Column("bot", Boolean, nullable=False, default=False),
    Column("role", String(16), nullable=False, default="user"),
    Column("statuses_count", Integer, nullable=False, default=0),
    Column("followers_count", Integer, nullable=False, default=0),
    Column("following_count", Integer, nullable=False, default=0),
    _when(),
    _when("updated_at"),
    _when("last_status_at", nullable=True),
    _when("suspended_at", nullable=True),
    # keys of the processed avatar and header in the media files (NULL: the default pictures)
    Column("avatar_key", String(200)),
    Column("header_key", String(200)),
    # the few "big" accounts a home read merges in (roost.services.timelines.HOME_READER)
    Index("ix_accounts_followers_count", "followers_count"),
)

# What a person's new posts default to (Mastodon's posting preferences, ``source[privacy]``...):
# a row only once they change one; until then public, not sensitive, no language.
account_preferences = Table(
    "account_preferences",
    metadata,
    Column(
        "account_id", BigInteger, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("privacy", String(10), nullable=False, default="public"),
    Column("sensitive", Boolean, nullable=False, default=False),
    Column("language", String(16), nullable=True),
)

statuses = Table(
    "statuses",
    metadata,
    _id(),
    _ref("account_id", "accounts"),
    Column("text", Text, nullable=False, default=""),
    Column("content_html", Text, nullable=False, default=""),
    Column("spoiler_text", String(500), nullable=False, default=""),
    Column("visibility", String(10), nullable=False, default="public"),
    Column("sensitive", Boolean, nullable=False, default=False),
    Column("language", String(8)),
    Column("in_reply_to_id", BigInteger, index=True),
    Column("in_reply_to_account_id", BigInteger),
    Column("reblog_of_id", BigInteger, ForeignKey("statuses.id", ondelete="CASCADE"), index=True),
    Column("replies_count", Integer, nullable=False, default=0),
    Column("reblogs_count", Integer, nullable=False, default=0),
    Column("favourites_count", Integer, nullable=False, default=0),
    Column("fanout_state", String(10), nullable=False, default="pending"),
    Column("application_id", BigInteger),
    _when(),
    _when("edited_at", nullable=True),
    # votes cast on the post's poll (NULL: it has none): a page knows from its rows alone
    # whether it needs the polls, and a vote changes a column the shelf checks
    Column("poll_votes_count", Integer),
    # the attachments as shown (JSON, in order; NULL: none), written when they are attached or
    # edited: a page of posts shows its pictures from its own rows, with no further query
    Column("media_attachments", Text),
    # the preview card of its first link, once fetched (roost.services.cards)
    Column(
        "card_id",
        BigInteger,
        ForeignKey("preview_cards.id"),
        index=True,
    ),
    Index("ix_statuses_account_id_id", "account_id", "id"),
    # an account's reposts by original: "did the viewer repost these?" on every page read
    Index(
        "ix_statuses_account_id_reblog_of_id",
        "account_id",
        "reblog_of_id",
        sqlite_where=text("reblog_of_id IS NOT NULL"),
        postgresql_where=text("reblog_of_id IS NOT NULL"),
    ),
    Index("ix_statuses_visibility_id", "visibility", "id"),
    Index("ix_statuses_fanout_state", "fanout_state"),
)

# A status's revisions, oldest first: the first edit stores the original too, as Mastodon does.
status_edits = Table(
    "status_edits",
    metadata,
    _id(),
    _ref("status_id", "statuses", index=True),
    Column("text", Text, nullable=False, default=""),
    Column("spoiler_text", String(500), nullable=False, default=""),
    Column("sensitive", Boolean, nullable=False, default=False),
    Column("content_html", Text, nullable=False, default=""),
    Column("media_attachments", Text),  # the pictures it showed (JSON, as statuses keep them)
    _when(),
)

follows = Table(
    "follows",
    metadata,
    _id(),
    _ref("account_id", "accounts"),
    _ref("target_account_id", "accounts"),
    Column("state", String(10), nullable=False, default="accepted"),  # accepted | pending
    Column("show_reblogs", Boolean, nullable=False, default=True),
    _when(),
    UniqueConstraint("account_id", "target_account_id"),
    # Followers of one account in id order: fan-out reads them in keyset chunks.
    Index("ix_follows_target_account_id_account_id", "target_account_id", "account_id"),
)


def _pair(name: str, left: str, right: str, right_table: str) -> Table:
    """An (account, target) relation such as a favourite, bookmark, block or mute."""
    return Table(
        name,
        metadata,
        _id(),
        _ref(left, "accounts"),
        _ref(right, right_table, index=True),
        _when(),
        UniqueConstraint(left, right),
    )


favourites = _pair("favourites", "account_id", "status_id", "statuses")
bookmarks = _pair("bookmarks", "account_id", "status_id", "statuses")
blocks = _pair("blocks", "account_id", "target_account_id", "accounts")
mutes = _pair("mutes", "account_id", "target_account_id", "accounts")
# Hashtags an account follows: their public posts reach its home timeline (fan-out by tag).
tag_follows = _pair("tag_follows", "account_id", "tag_id", "tags")

# An account's lists of accounts it follows (Mastodon's lists): a timeline of their posts, read at
# read time from ``statuses``; members leave when they are unfollowed.
lists = Table(
    "lists",
    metadata,
    _id(),
    _ref("account_id", "accounts", index=True),
    Column("title", String(100), nullable=False),
    Column("replies_policy", String(10), nullable=False, default="list"),  # followed|list|none
    Column("exclusive", Boolean, nullable=False, default=False),  # members leave the home feed
    _when(),
)
list_accounts = Table(
    "list_accounts",
    metadata,
    _id(),
    _ref("list_id", "lists"),
    # whose lists hold an account: fan-out streams by author, unfollowing removes by account
    _ref("account_id", "accounts", index=True),
    _when(),
    UniqueConstraint("list_id", "account_id"),
)

mentions = Table(
    "mentions",
    metadata,
    _ref("status_id", "statuses"),
    _ref("account_id", "accounts", index=True),
    UniqueConstraint("status_id", "account_id"),
)

tags = Table(
    "tags",
    metadata,
    _id(),
    Column("name", String(100), nullable=False, unique=True),
    _when(),
)

status_tags = Table(
    "status_tags",
    metadata,
    _ref("status_id", "statuses", index=True),
    _ref("tag_id", "tags"),
    UniqueConstraint("tag_id", "status_id"),
)

# Filters (Mastodon's v2): a title, the contexts it applies in, warn or hide, an optional end;
# it matches keywords (whole words or not) and chosen posts. v1 filters are its keywords.
filters = Table(
    "filters",
    metadata,
    _id(),
    _ref("account_id", "accounts", index=True),
    Column("title", String(200), nullable=False),
    Column("context", String(60), nullable=False),  # comma-separated: home,public,...
    Column("action", String(10), nullable=False),  # warn | hide
    _when("expires_at", nullable=True),
    _when(),
)

filter_keywords = Table(
    "filter_keywords",
    metadata,
    _id(),
    _ref("filter_id", "filters", index=True),
    Column("keyword", String(512), nullable=False),
    Column("whole_word", Boolean, nullable=False),
)

filter_statuses = Table(
    "filter_statuses",
    metadata,
    _id(),
    _ref("filter_id", "filters"),
    _ref("status_id", "statuses", index=True),
    UniqueConstraint("filter_id", "status_id"),
)

notifications = Table(
    "notifications",
    metadata,
    _id(),
    _ref("account_id", "accounts"),
    _ref("from_account_id", "accounts"),
    Column("type", String(20), nullable=False),
    _ref("status_id", "statuses", nullable=True),
    _when(),
    Index("ix_notifications_account_id_id", "account_id", "id"),
)

home_feed = Table(
    "home_feed",
    metadata,
    Column("owner_id", BigInteger, primary_key=True),
    Column("status_id", BigInteger, primary_key=True),
    Index("ix_home_feed_status_id", "status_id"),
)

apps = Table(
    "oauth_apps",
    metadata,
    _id(),
    Column("name", String(200), nullable=False),
    Column("website", String(500)),
    Column("redirect_uris", Text, nullable=False),
    Column("scopes", String(500), nullable=False),
    Column("client_id", String(64), nullable=False, unique=True),
    Column("client_secret", String(64), nullable=False),
    _when(),
)

tokens = Table(
    "oauth_tokens",
    metadata,
    _id(),
    Column("token_digest", String(64), nullable=False, unique=True),
    Column("refresh_digest", String(64), unique=True),
    _ref("app_id", "oauth_apps", nullable=True),
    _ref("account_id", "accounts", nullable=True, index=True),
    Column("scopes", String(500), nullable=False),
    _when(),
    _when("revoked_at", nullable=True),
)

# Web sessions held on the server: the signed cookie names one, and it counts only while its row
# is not revoked (log out, a password change, "log out everywhere" end it for good).
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("digest", String(64), primary_key=True),
    _ref("account_id", "accounts", index=True),
    _when(),
    _when("revoked_at", nullable=True),
)

auth_codes = Table(
    "oauth_codes",
    metadata,
    Column("code_digest", String(64), primary_key=True),
    _ref("app_id", "oauth_apps"),
    _ref("account_id", "accounts"),
    Column("scopes", String(500), nullable=False),
    Column("redirect_uri", Text, nullable=False),
    Column("code_challenge", String(128)),
    Column("code_challenge_method", String(10)),
    _when("expires_at"),
)

markers = Table(
    "markers",
    metadata,
    _ref("account_id", "accounts"),
    Column("timeline", String(20), nullable=False),
    Column("last_read_id", BigInteger, nullable=False),
    Column("version", Integer, nullable=False, default=1),
    _when("updated_at"),
    UniqueConstraint("account_id", "timeline"),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    _ref("account_id", "accounts"),
    Column("key", String(128), nullable=False),
    _ref("status_id", "statuses"),
    _when(),
    UniqueConstraint("account_id", "key"),
)

# What the operator tells everyone (`roost announce`): shown by clients from ``starts_at`` (or
# at once) until ``ends_at`` (or until removed).
announcements = Table(
    "announcements",
    metadata,
    _id(),
    Column("text", Text, nullable=False),
    Column("content_html", Text, nullable=False),
    Column("all_day", Boolean, nullable=False, default=False),
    _when("starts_at", nullable=True),
    _when("ends_at", nullable=True),
    _when("published_at"),
    _when("updated_at"),
)
# Who has dismissed which announcement (Mastodon's ``read``).
announcement_reads = _pair("announcement_reads", "account_id", "announcement_id", "announcements")
# Which thread a post belongs to (the id of the thread's first post): direct conversations and
# status mutes are per thread. Posts written before migration 0012 have no row; a post without
# one is its own thread.
status_threads = Table(
    "status_threads",
    metadata,
    Column(
        "status_id", BigInteger, ForeignKey("statuses.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("thread_id", BigInteger, nullable=False, index=True),
)

# A participant's view of a direct thread (Mastodon's AccountConversation): the others in it,
# its newest post the participant may see, whether they have read it. Deleting the row hides
# the conversation until a new post arrives.
account_conversations = Table(
    "account_conversations",
    metadata,
    _id(),
    _ref("account_id", "accounts"),
    Column("thread_id", BigInteger, nullable=False),
    Column("participant_ids", Text, nullable=False, default=""),  # comma-separated, self left out
    Column("last_status_id", BigInteger, nullable=False),
    Column("unread", Boolean, nullable=False, default=False),
    UniqueConstraint("account_id", "thread_id"),
    Index("ix_account_conversations_account_id_last_status_id", "account_id", "last_status_id"),
)

# Threads an account muted (a status mute): their notifications stop for it.
thread_mutes = Table(
    "thread_mutes",
    metadata,
    _id(),
    _ref("account_id", "accounts"),
    Column("thread_id", BigInteger, nullable=False),
    _when(),
    UniqueConstraint("account_id", "thread_id"),
)

# One's own posts pinned to one's profile (at most five), newest pin first.
status_pins = _pair("status_pins", "account_id", "status_id", "statuses")
# Hashtags featured on one's profile (at most ten).
featured_tags = _pair("featured_tags", "account_id", "tag_id", "tags")

# A private note about another account, shown only to its writer (Relationship.note).
account_notes = Table(
    "account_notes",
    metadata,
    _id(),
    _ref("account_id", "accounts"),
    _ref("target_account_id", "accounts"),
    Column("comment", Text, nullable=False, default=""),
    _when("updated_at"),
    UniqueConstraint("account_id", "target_account_id"),
)

# A link's preview card, fetched once and shared by every post that links it (by its
# normalized URL). ``state``: pending (being fetched since ``fetched_at``), ready, failed (not
# tried again for a while). ``image_url`` is where the page's picture was found, never shown
# as it is: a later step stores it through the media storage.
preview_cards = Table(
    "preview_cards",
    metadata,
    _id(),
    Column("url", String(2048), nullable=False, unique=True),
    Column("state", String(10), nullable=False, default="pending"),
    Column("title", String(200), nullable=False, default=""),
    Column("description", Text, nullable=False, default=""),
    Column("type", String(10), nullable=False, default="link"),
    Column("author_name", String(200), nullable=False, default=""),
    Column("author_url", String(2048), nullable=False, default=""),
    Column("provider_name", String(200), nullable=False, default=""),
    Column("provider_url", String(2048), nullable=False, default=""),
    Column("image_url", String(2048)),
    # the page's picture, fetched under the same rules and processed like an upload: its small
    # version in the media files (clients never fetch it from the page's site)
    Column("image_key", String(200)),
    Column("blurhash", String(100)),
    Column("width", Integer, nullable=False, default=0),
    Column("height", Integer, nullable=False, default=0),
    Column("language", String(8)),
    Column("html", Text, nullable=False, default=""),
    _when("fetched_at"),
    _when(),
)

# A post's poll (at most one; its id is the post's): options in order, as JSON text.
polls = Table(
    "polls",
    metadata,
    Column(
        "status_id", BigInteger, ForeignKey("statuses.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("options", Text, nullable=False),
    Column("multiple", Boolean, nullable=False, default=False),
    Column("hide_totals", Boolean, nullable=False, default=False),
    _when("expires_at"),
    _when("notified_at", nullable=True),  # when its voters and author were told it ended
    Index(
        "ix_polls_expires_at",
        "expires_at",
        sqlite_where=text("notified_at IS NULL"),
        postgresql_where=text("notified_at IS NULL"),
    ),
)

# One row per option a person chose (several on a multiple-choice poll).
poll_votes = Table(
    "poll_votes",
    metadata,
    _id(),
    Column(
        "status_id", BigInteger, ForeignKey("polls.status_id", ondelete="CASCADE"), nullable=False
    ),
    _ref("account_id", "accounts"),
    Column("choice", Integer, nullable=False),
    _when(),
    UniqueConstraint("status_id", "account_id", "choice"),
)


# Uploaded pictures: processed off the request path (``state`` processing -> ready, or failed
# with the reason), attached to at most one post, in order. Unattached ones expire; a deleted
# post's pictures are let go (status_id NULL), so "delete and redraft" can attach them again.
media_attachments = Table(
    "media_attachments",
    metadata,
    _id(),
    _ref("account_id", "accounts"),
    Column("status_id", BigInteger, ForeignKey("statuses.id", ondelete="SET NULL")),
    Column("position", Integer),
    Column("state", String(12), nullable=False, default="processing"),
    Column("kind", String(10), nullable=False, default="image"),
    Column("incoming_key", String(200)),  # the upload as sent, until processed
    Column("file_key", String(200)),
    Column("small_key", String(200)),
    Column("meta", Text),  # JSON: original and small sizes
    Column("blurhash", String(100)),
    Column("description", Text, nullable=False, default=""),
    Column("focus_x", Float),
    Column("focus_y", Float),
    Column("size", Integer, nullable=False, default=0),
    Column("error", String(300)),
    _when(),
    _when("processed_at", nullable=True),
    Index("ix_media_attachments_status_id", "status_id"),
    Index("ix_media_attachments_account_id_status_id", "account_id", "status_id"),
    Index("ix_media_attachments_state_created_at", "state", "created_at"),
)
