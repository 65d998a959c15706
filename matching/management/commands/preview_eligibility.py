"""manage.py preview_eligibility: try the current pool rules (or a proposed edit) on intakes given as
JSON lines or on the latest stored intakes, and show which verdicts an edit would change."""
import json
import sys
from datetime import date

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from core.inputs import JSONLimitError, json_loads
from intake.forms import IntakeForm
from intake.models import Intake
from matching.pool_rules import eligibility_preview, proposed_snapshots_read

# Fields eligibility never reads; filled in when a preview line leaves them out.
PREVIEW_DEFAULTS = {
    "company_name": "(preview)",
    "contact_name": "(preview)",
    "contact_email": "preview@example.com",
}


class Command(BaseCommand):
    help = (
        "Read intakes as JSON lines (one object per line, using the intake form's field names, e.g. "
        "stage, funding_kind, founded_on) from PATH or '-' for stdin, or take the latest stored intakes "
        "with --recent N, and print one JSON line per intake with every active pool's verdict, estimated "
        "amount, reasons and the source each rule cites. Saves nothing. --proposed FILE tries a rule edit "
        "that is not published yet; --changed-only prints only the intakes whose verdict the edit (or any "
        "unpublished change) would change, with the direction. A bad line prints "
        '{"line": N, "error": ...} and the run goes on.'
    )

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", help="JSON-lines file, or - for stdin (not with --recent)")
        parser.add_argument("--today", type=date.fromisoformat, default=None,
                            help="Evaluate as of this date (YYYY-MM-DD) instead of today.")
        parser.add_argument("--recent", type=int, metavar="N", nargs="?", const=-1, default=None,
                            help="Evaluate the latest N stored intakes instead of PATH "
                                 f"(default N: ELIGIBILITY_IMPACT_INTAKES, {settings.ELIGIBILITY_IMPACT_INTAKES}).")
        parser.add_argument("--proposed", metavar="FILE", default=None,
                            help="A JSON object (or list of them) with a pool's slug and its edited terms and "
                                 'rules, e.g. {"pool": "bedrock-poc", "rules": [{"kind": "requires_genai_workload", '
                                 '"params": {}, "source_url": "https://...", "source_as_of": "2026-12-01"}]}: '
                                 "evaluated in place of that pool's live rules.")
        parser.add_argument("--changed-only", action="store_true",
                            help="Print only intakes whose verdict for some pool differs from its published "
                                 "version, each verdict with a \"change\" key (newly_eligible, no_longer_eligible, "
                                 "route_changed, estimate_changed or null).")

    def handle(self, *args, path, today, recent, proposed, changed_only, **options):
        if (path is None) == (recent is None):
            raise CommandError("Give a PATH (or - for stdin), or --recent N, not both.")
        if recent is not None and recent != -1 and recent < 1:
            raise CommandError("--recent needs a positive number of intakes.")
        self.proposed = self.read_proposed(proposed) if proposed else {}
        self.changed_only = changed_only
        if recent is not None:
            limit = settings.ELIGIBILITY_IMPACT_INTAKES if recent == -1 else recent
            for intake in Intake.objects.order_by("-submitted_at", "-id")[:limit]:
                self.emit({"intake": intake.pk, "company_name": intake.company_name}, intake, today)
            return
        try:
            stream = sys.stdin if path == "-" else open(path, encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from exc
        with stream:
            for number, line in enumerate(stream, start=1):
                if not line.strip():
                    continue
                applicant = self.read_line(number, line)
                if isinstance(applicant, dict):
                    self.stdout.write(json.dumps(applicant))
                else:
                    self.emit({"line": number, "company_name": applicant.company_name}, applicant, today)

    def read_proposed(self, path: str) -> dict:
        try:
            with open(path, encoding="utf-8") as stream:
                data = json.load(stream)
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from exc
        except json.JSONDecodeError as exc:
            raise CommandError(f"{path}: not valid JSON: {exc.msg} at line {exc.lineno}") from exc
        try:
            return proposed_snapshots_read(data)
        except ValueError as exc:
            raise CommandError(f"{path}: {exc}") from exc

    def read_line(self, number: int, line: str):
        try:
            data = json_loads(line)
        except JSONLimitError as exc:
            where = f" at column {exc.colno}" if exc.colno else ""
            return {"line": number, "error": f"not valid JSON: {exc.msg}{where}"}
        if not isinstance(data, dict):
            return {"line": number, "error": "each line must be one JSON object"}
        form = IntakeForm(data={**PREVIEW_DEFAULTS, **data})
        if not form.is_valid():
            fields = {name: [str(m) for m in messages] for name, messages in form.errors.items()}
            return {"line": number, "error": "invalid intake", "fields": fields}
        return form.save(commit=False)

    def emit(self, head: dict, applicant, today: date | None) -> None:
        verdicts = eligibility_preview(applicant=applicant, today=today, proposed=self.proposed)
        if self.changed_only and not any(v["change"] for v in verdicts):
            return
        self.stdout.write(json.dumps({**head, "verdicts": verdicts}))
