"""What an intake's evaluation reads that changes only when staff edit — the rule version each
active pool is evaluated with, the partners that can be matched — kept in each process and loaded
again after any such edit.

Every save or delete of a pool, rule, rule version or partner (and every migration) renews the
stamp in matching.EvaluationStamp, in the editing transaction. A process keeps what it loaded
under the stamp it read first, and one query for the stamp tells it whether that still holds:
other processes see an edit the moment it commits, the editing transaction sees its own edit at
once, and an edit rolled back leaves no stamp that could be read again. Edits must go through
save() or delete() (the admin, the services, the shell's objects); a raw UPDATE that bypasses
signals is seen once the next signalled edit or migration renews the stamp.

Nothing is kept while a load itself writes (the first evaluation after an unpublished edit publishes
it) nor while no stamp row exists (a flushed test database, before migrating)."""
from __future__ import annotations

import contextvars
import uuid
from contextlib import contextmanager
from typing import Any, Callable, TypeVar

from django.db.models.signals import post_delete, post_migrate, post_save

T = TypeVar("T")

STAMP_ROW = 1

# name -> (stamp, value): shared by the threads of a process; values are read, never changed.
_kept: dict[str, tuple[str, Any]] = {}
# Renewals seen by this process: a load during which it moved is not kept.
_renewals = 0
# The stamp read once for a whole evaluation (pinned()), so its several reads cost one query.
_pinned: contextvars.ContextVar[str | None] = contextvars.ContextVar("evaluation_stamp_pinned", default=None)


def stamp_read(using: str = "default") -> str | None:
    from .models import EvaluationStamp

    return EvaluationStamp.objects.using(using).filter(pk=STAMP_ROW).values_list("stamp", flat=True).first()


def stamp_renew(using: str = "default") -> str:
    """A new stamp, in the caller's transaction: what was kept under the old one is loaded again."""
    global _renewals
    from .models import EvaluationStamp

    stamp = uuid.uuid4().hex
    if not EvaluationStamp.objects.using(using).filter(pk=STAMP_ROW).update(stamp=stamp):
        EvaluationStamp.objects.using(using).update_or_create(pk=STAMP_ROW, defaults={"stamp": stamp})
    _renewals += 1
    _kept.clear()
    _pinned.set(None)  # a pinned stamp no longer describes what this transaction sees
    return stamp


def stamp_subquery():
    """The stamp as an expression, to read it in the same query as something else
    (queryset.annotate(evaluation_stamp=stamp_subquery()), then pinned(row.evaluation_stamp))."""
    from django.db.models import Subquery

    from .models import EvaluationStamp

    return Subquery(EvaluationStamp.objects.filter(pk=STAMP_ROW).values("stamp")[:1])


@contextmanager
def pinned(stamp: str | None = None):
    """One stamp for everything kept() loads inside the block (one evaluation): the one given (read
    with stamp_subquery() in the caller's own query), else read now."""
    token = _pinned.set(stamp or stamp_read())
    try:
        yield
    finally:
        _pinned.reset(token)


def kept(name: str, load: Callable[[], T]) -> T:
    """load()'s value as of the current stamp: from this process's memory while the stamp holds."""
    stamp = _pinned.get() or stamp_read()
    entry = _kept.get(name)
    if stamp is not None and entry is not None and entry[0] == stamp:
        return entry[1]
    renewals = _renewals
    value = load()
    if stamp is not None and renewals == _renewals:
        _kept[name] = (stamp, value)
    return value


def _on_edit(sender, using: str = "default", **kwargs) -> None:
    stamp_renew(using)


def _on_migrate(sender, using: str = "default", **kwargs) -> None:
    # Data migrations edit pools with update(), which sends no signal.
    if sender.name == "matching":
        stamp_renew(using)


def connect() -> None:
    from .models import CreditPool, Partner, PoolRule, RuleSetVersion

    for model in (CreditPool, PoolRule, RuleSetVersion, Partner):
        post_save.connect(_on_edit, sender=model, dispatch_uid=f"evaluation-stamp-save-{model.__name__}")
        post_delete.connect(_on_edit, sender=model, dispatch_uid=f"evaluation-stamp-delete-{model.__name__}")
    post_migrate.connect(_on_migrate, dispatch_uid="evaluation-stamp-migrate")
