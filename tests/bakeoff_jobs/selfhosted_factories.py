"""Self-hosted catalog entries for tests, registered through the service a partner's form uses."""
from __future__ import annotations

import socket
from decimal import Decimal

from bakeoff_jobs.model_data import SELF_HOSTED_DEMO_MODEL
from bakeoff_jobs.selfhosted import selfhosted_entry_save


def self_hosted(base_url: str, *, model_id: str = "selfhosted.llama-8b", owner=None, **fields):
    values = dict(name="Llama 3.1 8B on our L4s", served_model_name=SELF_HOSTED_DEMO_MODEL, gpu_type="NVIDIA L4",
                  gpu_count=2, gpu_hour_price=Decimal("0.805"), hosting="ec2", max_concurrency=4, api_key="")
    values.update(fields)
    return selfhosted_entry_save(model_id=model_id, base_url=base_url, owner_partner=owner, **values)


def closed_port_url() -> str:
    """A 127.0.0.1 base URL nobody listens on (the port was bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"
