"""The database tables (SQLAlchemy Core), shared by SQLite and MariaDB.

Only routing metadata is stored in clear text (wiki, category, severity,
status, timestamps): what a desk needs to route and what operators need to
see a backlog. Everything the reporter typed lives in ``reports.sealed``
(see :mod:`reporting.storage.crypto`), and the reporter is found through a keyed
hash, so a dump of this database names neither reporter nor content.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects import mysql

metadata = MetaData()

_MYSQL: dict[str, Any] = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}
# BLOB holds 64 KiB on MariaDB; resolved evidence can be larger.
_SEALED = LargeBinary().with_variant(mysql.MEDIUMBLOB(), "mysql", "mariadb")
_ID = BigInteger().with_variant(Integer(), "sqlite")  # SQLite autoincrements INTEGER only

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("applied_at", DateTime, nullable=False),
    **_MYSQL,
)

reports = Table(
    "reports",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("ref", String(32), nullable=False, unique=True),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Column("wiki", String(255), nullable=False),
    Column("category", String(40), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("status", String(20), nullable=False),
    Column("share_with_functionaries", Boolean, nullable=False),
    Column("reporter_hash", String(64), nullable=False),
    Column("reporter_lang", String(20), nullable=False),
    Column("sealed", _SEALED, nullable=False),
    # Evidence resolution: none (no links) | resolved | pending (a wiki did
    # not answer; the worker tries again at evidence_next_at) | gave-up.
    Column("evidence_state", String(16), nullable=False, server_default="none"),
    Column("evidence_attempts", Integer, nullable=False, server_default="0"),
    Column("evidence_next_at", DateTime, nullable=True),
    # Set when the retention period ended and the sealed content was wiped.
    Column("purged_at", DateTime, nullable=True),
    # The functionary working the case in the tool's workspace (canonical user name), or none.
    Column("assignee", String(100), nullable=True),
    Index("ix_reports_reporter", "reporter_hash", "created_at"),
    Index("ix_reports_evidence", "evidence_state", "evidence_next_at"),
    Index("ix_reports_status", "status", "created_at"),
    **_MYSQL,
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("report_id", _ID, ForeignKey("reports.id", ondelete="CASCADE"), nullable=False),
    Column("destination", String(500), nullable=False),
    # 0 = emergency lane; workers always take the lowest number first.
    Column("priority", Integer, nullable=False),
    Column("state", String(16), nullable=False),  # pending | delivered | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", DateTime, nullable=False),
    Column("claimed_until", DateTime, nullable=True),
    Column("last_error", String(500), nullable=True),  # never report content
    Column("ticket_id", String(100), nullable=True),
    Column("ticket_number", String(100), nullable=True),
    Column("created_at", DateTime, nullable=False),
    Column("delivered_at", DateTime, nullable=True),
    # What the row delivers: the report itself (a new ticket), or a follow-up
    # or withdrawal (``followup_id``) added to the report's ticket.
    Column("kind", String(16), nullable=False, server_default="report"),
    Column("followup_id", _ID, nullable=True),
    Index("ix_outbox_due", "state", "priority", "next_attempt_at"),
    Index("ix_outbox_report", "report_id"),
    **_MYSQL,
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("report_id", _ID, ForeignKey("reports.id", ondelete="CASCADE"), nullable=True),
    Column("at", DateTime, nullable=False),
    # "reporter", "system", or the functionary who acted (canonical user name); never a reporter's name.
    Column("actor", String(100), nullable=False),
    Column("action", String(40), nullable=False),
    Column("detail", Text, nullable=True),  # never report content
    Index("ix_audit_report", "report_id", "at"),
    # Trust & Safety's cross-case reading (/queue/audit) filters by person and time;
    # retention finds old entries by time.
    Index("ix_audit_at", "at"),
    Index("ix_audit_actor_at", "actor", "at"),
    **_MYSQL,
)

# What retention leaves of audit entries older than ``retention_days``: how
# many entries of each action each month had, with no actor and no case, so the
# log keeps its shape without keeping anyone's trail (reporting/storage/audit_review.py).
audit_summary = Table(
    "audit_summary",
    metadata,
    Column("month", String(7), primary_key=True),  # YYYY-MM (UTC)
    Column("action", String(40), primary_key=True),
    Column("entries", Integer, nullable=False),
    **_MYSQL,
)

# Suspensions from non-emergency reporting after manifestly unfounded reports
# (DSA article 23; reporting/cases/misuse.py). Only the keyed hash of the
# reporter (Sealer.index_hash), like the bar list. ``report_id`` is the case
# whose decline reached the threshold: Trust & Safety find the suspension by
# that reference, never by a name. ``counted_until``: declines at or before it
# never count again (set when the suspension starts, moved on when it is lifted),
# so neither an expired nor a lifted suspension is imposed again for the same
# declines. ``trigger_audit_id`` (the decline's audit entry) is unique: two
# requests that notice the same threshold at once record one suspension.
misuse_suspensions = Table(
    "misuse_suspensions",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("reporter_hash", String(64), nullable=False),
    Column("report_id", _ID, ForeignKey("reports.id", ondelete="SET NULL"), nullable=True),
    Column("trigger_audit_id", _ID, nullable=False, unique=True),
    Column("started_at", DateTime, nullable=False),
    Column("ends_at", DateTime, nullable=False),
    Column("counted_until", DateTime, nullable=False),
    Column("lifted_at", DateTime, nullable=True),
    Index("ix_misuse_reporter", "reporter_hash", "ends_at"),
    Index("ix_misuse_ends", "ends_at"),
    **_MYSQL,
)

wiki_registry = Table(
    "wiki_registry",
    metadata,
    # One row: the last good sitematrix, as WikiRegistry.to_json().
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("fetched_at", DateTime, nullable=False),
    Column("data", Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb"), nullable=False),
    **_MYSQL,
)

# Users Trust & Safety barred from reporting: the keyed hash of the user name
# (Sealer.index_hash) to look them up, and the name sealed like a report's
# content, so that ``reporting rekey`` can hash it again under a new key. A
# dump without the key names nobody. Rows from before migration 14 have no
# sealed name: rekey finds theirs among the reporters' names, if it can.
barred_users = Table(
    "barred_users",
    metadata,
    Column("username_hash", String(64), primary_key=True),
    Column("created_at", DateTime, nullable=False),
    Column("reason", String(40), nullable=False),  # a code from eligibility.BAR_REASONS
    Column("name_sealed", LargeBinary, nullable=True),
    **_MYSQL,
)

# Every encryption key that may have sealed or hashed something stored here
# (its 8-hex-digit id, never the key): each process records its current key
# before it writes, and ``reporting rekey`` removes the ids it has proved
# unused. Starting without a key listed here is refused (startup_checks.py),
# because rows under it would be unreadable, and bars and reports unfindable.
encryption_keys = Table(
    "encryption_keys",
    metadata,
    Column("key_id", String(8), primary_key=True),
    Column("recorded_at", DateTime, nullable=False),
    **_MYSQL,
)

# How far ``reporting rekey`` got, per step, for the current key: a run that
# was interrupted resumes after the last batch it committed.
rekey_progress = Table(
    "rekey_progress",
    metadata,
    Column("step", String(40), primary_key=True),
    Column("key_id", String(8), nullable=False),
    Column("last_id", _ID, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    **_MYSQL,
)

# Open login sessions, so that logging out (or Trust & Safety) can end one for good: a signed
# cookie alone stays valid until it expires. Only keyed hashes of the session id and user name.
login_sessions = Table(
    "login_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("user_hash", String(64), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),
    # Unfounded declines of the user's reports since the session opened, and the count at which
    # their misuse standing was last found clear (storage/login_sessions.py: OpenSession).
    Column("misuse_epoch", Integer, nullable=False, server_default="0"),
    Column("clear_epoch", Integer, nullable=True),
    Index("ix_login_sessions_user", "user_hash"),
    Index("ix_login_sessions_expiry", "expires_at"),
    **_MYSQL,
)

# Idempotent submission: one row per (reporter, key) for at least 24 hours,
# written in the report's own transaction. Only keyed hashes: the reporter
# (Sealer.index_hash), the client's key, and a fingerprint of the body, so
# the table names nobody and quotes nothing.
submission_keys = Table(
    "submission_keys",
    metadata,
    Column("reporter_hash", String(64), primary_key=True),
    Column("key_hash", String(64), primary_key=True),
    Column("body_hash", String(64), nullable=False),
    Column("report_id", _ID, ForeignKey("reports.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Index("ix_submission_keys_created", "created_at"),
    **_MYSQL,
)

# A report form kept while its reporter logs in again (the session ended before it was sent):
# sealed, bound to a random token kept in the session cookie, never to a name, and kept for
# ``form_drafts.KEEP`` (2 hours). ``user_hash`` (Sealer.index_hash) is the user whose session
# ended, when known: only they get it back.
form_drafts = Table(
    "form_drafts",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_hash", String(64), nullable=True),
    Column("body", _SEALED, nullable=False),
    Column("expires_at", DateTime, nullable=False),
    Index("ix_form_drafts_expiry", "expires_at"),
    **_MYSQL,
)

# What the reporter added to a case after sending it: follow-ups (text and
# evidence links) and the withdrawal (an optional reason), sealed like the
# report. Each reaches the desk through its own outbox row; ``marker`` is
# written into the note so that a desk without idempotency can be searched
# for it before the note is added again.
followups = Table(
    "followups",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("report_id", _ID, ForeignKey("reports.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("kind", String(16), nullable=False),  # followup | withdrawal
    Column("marker", String(64), nullable=False, unique=True),
    Column("sealed", _SEALED, nullable=False),
    # The follow-up's links, like a report's: none | resolved | pending (retried at evidence_next_at) | gave-up.
    Column("evidence_state", String(16), nullable=False, server_default="none"),
    Column("evidence_attempts", Integer, nullable=False, server_default="0"),
    Column("evidence_next_at", DateTime, nullable=True),
    Index("ix_followups_report", "report_id", "created_at"),
    Index("ix_followups_evidence", "evidence_state", "evidence_next_at"),
    **_MYSQL,
)

# A case's timeline: status changes and messages, each with its time and
# source. Messages (the team's, the reporter's) are sealed; ``internal``
# entries (the functionaries' notes) are never shown to the reporter.
# ``desk_ref`` names a message read from a desk (ticket and comment), so a
# message is stored once however often the sync reads it.
case_events = Table(
    "case_events",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("report_id", _ID, ForeignKey("reports.id", ondelete="CASCADE"), nullable=False),
    Column("at", DateTime, nullable=False),
    Column("status", String(20), nullable=False),  # the case's status after this entry
    Column("source", String(16), nullable=False),  # desk | reporter | tool | functionary
    Column("kind", String(16), nullable=False),  # status | message | followup | withdrawal | note
    Column("internal", Boolean, nullable=False, server_default="0"),
    Column("sealed", _SEALED, nullable=True),
    Column("desk_ref", String(120), nullable=True),
    Column("followup_id", _ID, nullable=True),
    # Who wrote a functionary's entry (canonical user name): shown in the workspace, never to the reporter.
    Column("actor", String(100), nullable=True),
    Index("ix_case_events_report", "report_id", "at"),
    UniqueConstraint("report_id", "desk_ref", name="uq_case_events_desk_ref"),
    **_MYSQL,
)

# What the status sync last read from a case's desk ticket. ``desk_state``
# is the desk's own state (what the status mapping reads); ``desk_marker`` its
# last-change mark (Zendesk ``updated_at``, Znuny ``Changed``), which decides
# whether comments are read again; ``followed_ticket_id`` is the ticket a
# merged ticket was merged into.
desk_tickets = Table(
    "desk_tickets",
    metadata,
    Column("report_id", _ID, ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True,
           autoincrement=False),
    Column("desk_state", String(200), nullable=False),
    Column("desk_marker", String(64), nullable=True),
    Column("marker_seen_at", DateTime, nullable=True),
    Column("settled", Boolean, nullable=False, server_default="0"),
    Column("followed_ticket_id", String(100), nullable=True),
    Column("synced_at", DateTime, nullable=False),
    **_MYSQL,
)

# When each periodic job last started, shared by every worker replica, so a
# job such as the status sync runs once per interval however many workers run.
periodic_runs = Table(
    "periodic_runs",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("last_run_at", DateTime, nullable=False),
    **_MYSQL,
)
