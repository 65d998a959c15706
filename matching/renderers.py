"""The browsable API as the API's other answers: its forms offer only the records the caller may
read (matching.filters.scope_serializer), never another firm's engagements, eval sets or partners."""
from __future__ import annotations

from rest_framework.renderers import BrowsableAPIRenderer

from .filters import scope_serializer


class RoleScopedBrowsableAPIRenderer(BrowsableAPIRenderer):
    def render_form_for_serializer(self, serializer):
        request = (getattr(self, "renderer_context", None) or {}).get("request")
        scope_serializer(serializer, request if request is not None else serializer.context.get("request"))
        return super().render_form_for_serializer(serializer)
