"""A worker keeps its database connection from one task to the next, as long as CONN_MAX_AGE says,
instead of opening a new one (and a new PostgreSQL server process) for every task."""
import pytest
from celery.fixups.django import DjangoWorkerFixup
from celery.signals import task_postrun, task_prerun
from django.db import connection

from cloudroute.celery import app
from matching.tasks import intake_evaluate

pytestmark = pytest.mark.django_db(transaction=True)  # connections are opened and closed here


def _run_a_task_around(fixup: DjangoWorkerFixup) -> None:
    """What a worker does around a task: Celery's fixup and our signal handlers, before and after."""
    fixup.on_task_prerun(sender=intake_evaluate)
    task_prerun.send(sender=intake_evaluate, task_id="t", task=intake_evaluate, args=(), kwargs={})
    fixup.on_task_postrun(sender=intake_evaluate)
    task_postrun.send(sender=intake_evaluate, task_id="t", task=intake_evaluate, args=(), kwargs={}, retval=None)


@pytest.fixture
def conn_max_age():
    kept = connection.settings_dict["CONN_MAX_AGE"]

    def connect(seconds: int):
        connection.close()
        connection.settings_dict["CONN_MAX_AGE"] = seconds
        connection.ensure_connection()
        return connection.connection

    yield connect
    connection.close()
    connection.settings_dict["CONN_MAX_AGE"] = kept


def test_the_connection_outlives_a_task_when_conn_max_age_allows(conn_max_age):
    opened = conn_max_age(600)
    _run_a_task_around(DjangoWorkerFixup(app))
    assert connection.connection is opened


def test_without_conn_max_age_each_task_still_ends_with_the_connection_closed(conn_max_age):
    conn_max_age(0)
    _run_a_task_around(DjangoWorkerFixup(app))
    assert connection.connection is None


def test_a_broken_connection_is_not_kept(conn_max_age):
    conn_max_age(600)
    connection.errors_occurred = True
    connection.connection.close()  # the server went away
    _run_a_task_around(DjangoWorkerFixup(app))
    assert connection.connection is None
