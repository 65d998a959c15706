"""manage.py load_demo: load or reset the demo data and print the demo logins."""
from django.core.management.base import BaseCommand

from matching.demo import demo_load


class Command(BaseCommand):
    help = (
        "Load the credit pools, eight demo partner firms, a staff login, one login per firm and a few "
        "sample intakes. Safe to re-run: nothing is added twice, and every demo login gets a new random "
        "password, printed here (passwords are never stored in settings)."
    )

    def handle(self, *args, **options):
        logins = demo_load()
        self.stdout.write(self.style.SUCCESS("Demo data loaded. Log in at /admin/ with:"))
        for role, username, password in logins:
            self.stdout.write(f"  {role:<42} {username:<40} {password}")
