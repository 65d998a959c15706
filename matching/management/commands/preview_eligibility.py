"""manage.py preview_eligibility: try the current pool rules on intakes given as JSON lines."""
import json
import sys
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from cloudroute.inputs import JSONLimitError, json_loads
from intake.forms import IntakeForm
from matching.services import eligibility_preview

# Fields eligibility never reads; filled in when a preview line leaves them out.
PREVIEW_DEFAULTS = {
    "company_name": "(preview)",
    "contact_name": "(preview)",
    "contact_email": "preview@example.com",
}


class Command(BaseCommand):
    help = (
        "Read intakes as JSON lines (one object per line, using the intake form's field names, e.g. "
        "stage, funding_kind, founded_on) from PATH or '-' for stdin, and print one JSON line per intake "
        "with every active pool's verdict, estimated amount and reasons. Saves nothing. A bad line "
        'prints {"line": N, "error": ...} and the run goes on.'
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="JSON-lines file, or - for stdin")
        parser.add_argument("--today", type=date.fromisoformat, default=None,
                            help="Evaluate as of this date (YYYY-MM-DD) instead of today.")

    def handle(self, *args, path, today, **options):
        try:
            stream = sys.stdin if path == "-" else open(path, encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from exc
        with stream:
            for number, line in enumerate(stream, start=1):
                if not line.strip():
                    continue
                self.stdout.write(json.dumps(self.preview_line(number, line, today)))

    def preview_line(self, number: int, line: str, today: date | None) -> dict:
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
        applicant = form.save(commit=False)
        return {
            "line": number,
            "company_name": applicant.company_name,
            "verdicts": eligibility_preview(applicant=applicant, today=today),
        }
