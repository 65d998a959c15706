"""The credit-pool change form as the admin posts it: the pool's terms, its rules and the read-only
versions, so tests can change one thing and post the rest as it is."""
import json


def pool_change_data(pool, *, rule_params=None, drop_kinds=(), add_rules=(), **terms) -> dict:
    """POST data for /admin/matching/creditpool/<id>/change/. `rule_params` maps a rule kind to new
    params, `drop_kinds` deletes the rules of those kinds, `add_rules` appends (kind, params, source
    url) rules, and keyword arguments override the pool's terms."""
    rule_params = rule_params or {}
    rules = list(pool.rules.order_by("position", "id"))
    versions = list(pool.rule_versions.order_by("-version"))
    data = {
        "slug": pool.slug, "name": pool.name, "description": pool.description, "filing_route": pool.filing_route,
        "route_note": pool.route_note, "apply_url": pool.apply_url, "amount_min_usd": str(pool.amount_min_usd),
        "amount_max_usd": str(pool.amount_max_usd), "typical_amount_usd": str(pool.typical_amount_usd),
        "is_active": "on" if pool.is_active else "", "position": pool.position,
        "partner_central_benefit_id": pool.partner_central_benefit_id, "source_url": pool.source_url,
        "source_as_of": pool.source_as_of.isoformat() if pool.source_as_of else "", "source_note": pool.source_note,
        "rules-TOTAL_FORMS": len(rules) + len(add_rules), "rules-INITIAL_FORMS": len(rules),
        "rules-MIN_NUM_FORMS": 0, "rules-MAX_NUM_FORMS": 1000,
        "rule_versions-TOTAL_FORMS": len(versions), "rule_versions-INITIAL_FORMS": len(versions),
        "rule_versions-MIN_NUM_FORMS": 0, "rule_versions-MAX_NUM_FORMS": 1000,
    }
    data.update({k: str(v) for k, v in terms.items()})
    for i, version in enumerate(versions):
        data.update({f"rule_versions-{i}-id": version.id, f"rule_versions-{i}-pool": pool.id})
    for i, rule in enumerate(rules):
        data.update({
            f"rules-{i}-id": rule.id, f"rules-{i}-pool": pool.id, f"rules-{i}-kind": rule.kind,
            f"rules-{i}-params": json.dumps(rule_params.get(rule.kind, rule.params)),
            f"rules-{i}-position": rule.position, f"rules-{i}-source_url": rule.source_url,
            f"rules-{i}-source_as_of": rule.source_as_of.isoformat() if rule.source_as_of else "",
            f"rules-{i}-source_note": rule.source_note,
        })
        if rule.kind in drop_kinds:
            data[f"rules-{i}-DELETE"] = "on"
    for j, (kind, params, url) in enumerate(add_rules, start=len(rules)):
        data.update({
            f"rules-{j}-pool": pool.id, f"rules-{j}-kind": kind, f"rules-{j}-params": json.dumps(params),
            f"rules-{j}-position": 90 + j, f"rules-{j}-source_url": url, f"rules-{j}-source_as_of": "2026-12-01",
            f"rules-{j}-source_note": "",
        })
    return {k: v for k, v in data.items() if v is not None}
