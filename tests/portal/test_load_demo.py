"""manage.py load_demo (portal.demo) can be run again and again: nothing added twice, new passwords
every time, kept in a file only the owner reads."""
import io

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.test import RequestFactory

from intake.models import Intake
from matching.models import Engagement, Partner, PartnerMember, RuleSetVersion
from tests.matching.test_commands import row_counts

pytestmark = pytest.mark.django_db


def printed_logins(output: str) -> dict[str, str]:
    rows = [line.split() for line in output.splitlines()[1:]]
    return {row[-2]: row[-1] for row in rows}


def test_load_demo_is_idempotent_and_resets_passwords(tmp_path):
    first = io.StringIO()
    call_command("load_demo", stdout=first, logins_file=tmp_path / "logins.txt")
    counts = row_counts()
    first_logins = printed_logins(first.getvalue())

    second = io.StringIO()
    call_command("load_demo", stdout=second, logins_file=tmp_path / "logins.txt")
    second_logins = printed_logins(second.getvalue())

    assert row_counts() == counts
    assert Partner.objects.count() == 8 and PartnerMember.objects.count() == 8
    assert RuleSetVersion.objects.count() == 5
    assert Engagement.objects.count() == Intake.objects.count() == 3
    assert set(first_logins) == set(second_logins) and len(second_logins) == 9
    for username, password in second_logins.items():
        assert password != first_logins[username]
        login = RequestFactory().post("/admin/login/")  # django-axes checks every login against its address
        assert authenticate(login, username=username, password=password) is not None
        assert authenticate(login, username=username, password=first_logins[username]) is None
    staff = get_user_model().objects.get(username="staff")
    assert staff.is_staff and staff.is_superuser


def test_load_demo_keeps_the_logins_in_a_file_only_the_owner_reads(tmp_path):
    path = tmp_path / "var" / "demo-logins.txt"
    path.parent.mkdir()
    path.write_text("stale")
    path.chmod(0o644)  # an older file readable by others is tightened, not kept
    printed = io.StringIO()

    call_command("load_demo", stdout=printed, logins_file=path)

    assert (path.stat().st_mode & 0o777) == 0o600
    kept = path.read_text()
    assert "stale" not in kept and "/admin/" in kept.splitlines()[0]
    assert printed_logins(printed.getvalue()) == {row.split()[-2]: row.split()[-1] for row in kept.splitlines()[1:]}
    assert str(path) in printed.getvalue().splitlines()[0]


def test_load_demo_writes_under_var_by_default(tmp_path, settings):
    settings.VAR_DIR = tmp_path
    call_command("load_demo", stdout=io.StringIO())
    assert ((tmp_path / "demo-logins.txt").stat().st_mode & 0o777) == 0o600
