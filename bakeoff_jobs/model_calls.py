"""One call and its verdict: a Converse call (or a self-hosted endpoint's chat completion) holding a
quota slot shared by every worker, retried with backoff on throttling and transient errors; the
answer scored (through the LLM judge where the case asks for one) into a result row. The runner's
chunks and lanes, and a batch run's judge, call these."""
from __future__ import annotations

import logging
import threading
import time
from contextlib import nullcontext
from dataclasses import dataclass, field

from django.conf import settings

from . import converse as bedrock
from . import quotas, scorers, selfhosted
from .costs import approx_tokens
from .catalog_models import CatalogKind
from .models import BakeoffResult, BakeoffRun, EvalCase, ResultStatus, RunModel, RunModelRole

log = logging.getLogger(__name__)


@dataclass
class CallSettings:
    max_tokens: int
    temperature: float
    cache_system_prompt: bool


@dataclass
class CallContext:
    """Everything one thread needs: no ORM access happens off the chunk's main thread."""

    run_model: RunModel
    call: CallSettings
    client: object
    store: object
    stop: threading.Event
    judge: scorers.Judge | None = None
    sandbox_seen: list = field(default_factory=list)
    # Per run-model id, calls of this chunk or lane in flight at once (its share of the model's
    # concurrency): there are more threads than that, so while one backs off after a throttle
    # another takes the free slot, and threads without a turn block here instead of polling the
    # shared store. A model not in it (the judge) waits on the shared store alone.
    turns: dict = field(default_factory=dict)
    # Per run-model id, the self-hosted endpoint it calls (read before any call, on the lane's thread).
    targets: dict = field(default_factory=dict)
    # Run-model ids whose endpoint gave no answer through every retry: their other calls in this
    # chunk or lane are not made (the pairs stay missing for a resume) instead of each waiting out
    # its own retries.
    unreachable: set = field(default_factory=set)


def client_pool_size(concurrency: int) -> int:
    """HTTP connections per Converse client; one size for every model so workers share one client."""
    return max(64, concurrency * 2)


def quota_key(invoked_id: str) -> str:
    return f"bedrock:{invoked_id}"


def approx_request_tokens(prompt: str, system_prompt: str, max_tokens: int) -> int:
    """Tokens a call may use against the tokens-per-minute quota: its prompt and every reply token."""
    return approx_tokens(system_prompt + prompt) + 1 + max_tokens


def call_with_retries(ctx: CallContext, run_model: RunModel, *, prompt: str, system_prompt: str,
                      max_tokens: int, temperature: float, cache_system_prompt: bool):
    """One Converse call holding a shared quota slot; throttling and transient errors are retried
    with backoff (outside the slot), permanent errors raise at once. Returns (reply, attempts);
    None for the reply when the run was stopped while waiting."""
    attempts = 0  # calls made to the model
    slot_waits = 0  # times every slot stayed busy for the whole timeout
    max_attempts = settings.BAKEOFF_MAX_ATTEMPTS
    tokens = approx_request_tokens(prompt, system_prompt, max_tokens)
    while True:
        if ctx.stop.is_set():
            return None, attempts
        turn = ctx.turns.get(run_model.pk) or nullcontext()
        started = time.monotonic()
        try:
            with turn, quotas.model_slot(
                ctx.store, quota_key(run_model.invoked_id), limit=run_model.max_concurrency,
                lease_seconds=settings.BAKEOFF_SLOT_LEASE_SECONDS, rpm=run_model.requests_per_minute,
                tpm=run_model.tokens_per_minute, tokens=tokens, timeout=settings.BAKEOFF_SLOT_TIMEOUT_SECONDS,
            ):
                if ctx.stop.is_set():
                    return None, attempts
                attempts += 1
                started = time.monotonic()
                reply = _invoke(ctx, run_model, prompt=prompt, system_prompt=system_prompt, max_tokens=max_tokens,
                                temperature=temperature, cache_system_prompt=cache_system_prompt)
            return reply, attempts
        except bedrock.ConverseError as exc:
            given_up = isinstance(exc, selfhosted.EndpointUnreachable) and run_model.pk in ctx.unreachable
            if not exc.retryable or attempts >= max_attempts or given_up:
                exc.attempts = attempts
                raise
            # Sleep outside the slot, so another call uses it meanwhile; wake early when stopped.
            # The backoff counts from the call's start: a throttle that came only after the call's
            # full latency has already spaced this retry out, so it does not also wait as long again.
            delay = bedrock.backoff_delay(attempts - 1, base=settings.BAKEOFF_BACKOFF_BASE_SECONDS)
            delay -= time.monotonic() - started
            if exc.retry_after is not None:  # the service said how long (HTTP 429 Retry-After)
                delay = max(delay, exc.retry_after)
            if delay > 0:
                ctx.stop.wait(delay)
        except quotas.QuotaTimeout:
            # Not an answer from the model: wait again, but not for ever (a resume picks it up).
            slot_waits += 1
            if slot_waits >= max_attempts:
                raise
        except quotas.QUOTA_STORE_ERRORS as exc:
            # The shared quota store (Redis) is unreachable, e.g. restarting: nothing the model
            # said, so never a result. Wait for it; if it stays away, leave the pair missing.
            slot_waits += 1
            if slot_waits >= max_attempts * 4:
                raise quotas.QuotaTimeout(f"quota store unavailable: {exc}") from exc
            log.warning("quota store unavailable (%s); waiting", exc)
            ctx.stop.wait(min(2.0, 0.25 * slot_waits))


def _invoke(ctx: CallContext, run_model: RunModel, *, prompt: str, system_prompt: str, max_tokens: int,
            temperature: float, cache_system_prompt: bool) -> bedrock.ConverseReply:
    """One call, to Bedrock's Converse or, for a self-hosted entry, its OpenAI-compatible endpoint."""
    if getattr(run_model, "kind", CatalogKind.BEDROCK) == CatalogKind.SELF_HOSTED:
        if run_model.pk in ctx.unreachable:
            raise selfhosted.EndpointUnreachable("EndpointUnreachable", "gave no answer to an earlier call")
        target = ctx.targets.get(run_model.pk)
        if target is None:
            raise bedrock.ConverseError("EndpointNotConfigured", "The self-hosted entry has no endpoint.",
                                        retryable=False, http_status=None)
        return selfhosted.chat(target, prompt=prompt, system_prompt=system_prompt, max_tokens=max_tokens,
                               temperature=temperature, max_connections=client_pool_size(run_model.max_concurrency))
    return bedrock.converse(ctx.client, model_id=run_model.invoked_id, prompt=prompt, system_prompt=system_prompt,
                            max_tokens=max_tokens, temperature=temperature, cache_system_prompt=cache_system_prompt)


def make_judge(ctx: CallContext, judge_model: RunModel) -> scorers.Judge:
    def judge(system: str, prompt: str) -> scorers.JudgeReply:
        reply, _ = call_with_retries(
            ctx, judge_model, prompt=prompt, system_prompt=system, max_tokens=512, temperature=0.0,
            cache_system_prompt=False,
        )
        if reply is None:
            raise scorers.ScorerError("run stopped before the judge answered")
        return scorers.JudgeReply(text=reply.text, input_tokens=reply.input_tokens, output_tokens=reply.output_tokens)

    return judge


def run_case(ctx: CallContext, case: EvalCase, rm: RunModel | None = None) -> BakeoffResult | None:
    """Call the model (the chunk's, unless given) on one case and score the answer. None when the
    run was stopped first."""
    rm = rm or ctx.run_model
    try:
        reply, attempts = call_with_retries(
            ctx, rm, prompt=case.prompt, system_prompt=case.system_prompt,
            max_tokens=ctx.call.max_tokens, temperature=ctx.call.temperature,
            cache_system_prompt=ctx.call.cache_system_prompt,
        )
    except selfhosted.EndpointUnreachable as exc:
        # No answer at all after every retry: not the model's answer, so no result; a resume (or the
        # stuck-run check) calls it again once the endpoint is back.
        if rm.pk not in ctx.unreachable:
            ctx.unreachable.add(rm.pk)
            log.warning("bake-off %s: the endpoint of %s gave no answer (%s); its pairs without a result are "
                        "left for a resume", rm.run_id, rm.invoked_id, exc.message)
        return None
    except bedrock.ConverseError as exc:
        return BakeoffResult(
            run_id=rm.run_id, run_model=rm, case=case, status=ResultStatus.ERROR,
            attempts=getattr(exc, "attempts", 1), error_code=exc.code[:80], error_message=exc.message[:2000],
            passed=False, score=0.0,
        )
    except quotas.QuotaTimeout:
        return None  # left missing: a resume picks it up
    except Exception as exc:  # noqa: BLE001 - anything unforeseen would fail again on every resume
        log.exception("bake-off %s: %s on case %s", rm.run_id, rm.invoked_id, case.pk)
        return BakeoffResult(
            run_id=rm.run_id, run_model=rm, case=case, status=ResultStatus.ERROR, attempts=1,
            error_code=type(exc).__name__[:80], error_message=str(exc)[:2000], passed=False, score=0.0,
        )
    if reply is None:
        return None
    if reply.sandbox:
        ctx.sandbox_seen.append(True)
    result = BakeoffResult(
        run_id=rm.run_id, run_model=rm, case=case, status=ResultStatus.OK, output=reply.text,
        stop_reason=reply.stop_reason[:40], input_tokens=reply.input_tokens, output_tokens=reply.output_tokens,
        cache_read_tokens=reply.cache_read_tokens, cache_write_tokens=reply.cache_write_tokens,
        latency_ms=int(reply.latency_ms or 0), wall_ms=int(reply.wall_ms), attempts=attempts,
    )
    try:
        score = scorers.score_output(
            case.scorer, output=reply.text, expected=case.expected, options=case.scorer_options or {},
            judge=ctx.judge,
        )
    except quotas.QuotaTimeout:
        return None  # the judge had no slot: leave the pair for a resume
    except (scorers.ScorerError, bedrock.ConverseError) as exc:
        if ctx.stop.is_set():
            return None  # cancelled while the judge was busy: not a verdict
        result.passed, result.score, result.score_detail = False, 0.0, f"not scored: {exc}"[:2000]
        return result
    result.passed, result.score, result.score_detail = score.passed, score.score, (score.detail or "")[:2000]
    result.judge_input_tokens = score.judge_input_tokens or 0
    result.judge_output_tokens = score.judge_output_tokens or 0
    return result



def batch_judge(run: BakeoffRun) -> scorers.Judge | None:
    """The LLM judge for a batch run's llm_judge cases: called on demand, through the same quotas."""
    judge_model = run.run_models.filter(role=RunModelRole.JUDGE).first()
    if judge_model is None:
        return None
    ctx = CallContext(
        run_model=judge_model,
        call=CallSettings(max_tokens=512, temperature=0.0, cache_system_prompt=False),
        client=bedrock.make_client(endpoint_url=run.endpoint_url or "",
                                   max_pool_connections=client_pool_size(judge_model.max_concurrency)),
        store=quotas.get_quota_store(),
        stop=threading.Event(),
        targets=selfhosted.targets_for([judge_model]),
    )
    return make_judge(ctx, judge_model)
