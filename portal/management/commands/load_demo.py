"""manage.py load_demo: load or reset the demo data, print the demo logins and keep them in a file
only the current user can read (var/demo-logins.txt), which `make run` prints once everything is up."""
import os
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from portal.demo import demo_load


def logins_text(logins: list[tuple[str, str, str]]) -> str:
    return "".join(f"  {role:<42} {username:<40} {password}\n" for role, username, password in logins)


def private_file_write(path: Path, text: str) -> None:
    """Write `text` to `path`, readable and writable by the owner only (also when it existed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, text.encode())
    finally:
        os.close(fd)


class Command(BaseCommand):
    help = (
        "Load the credit pools, eight demo partner firms, a staff login, one login per firm and a few "
        "sample intakes. Safe to re-run: nothing is added twice, and every demo login gets a new random "
        "password, printed here and written to var/demo-logins.txt (mode 0600; passwords are never "
        "stored in settings)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--logins-file", type=Path, default=None,
            help="where to keep the logins (default: demo-logins.txt in the var directory)",
        )

    def handle(self, *args, **options):
        logins = demo_load()
        path = options["logins_file"] or settings.VAR_DIR / "demo-logins.txt"
        private_file_write(
            path, f"CloudRoute demo logins (log in at {settings.SITE_URL.rstrip('/')}/admin/):\n{logins_text(logins)}"
        )
        self.stdout.write(self.style.SUCCESS(f"Demo data loaded. Log in at /admin/ with (also in {path}):"))
        self.stdout.write(logins_text(logins), ending="")
