from django.apps import AppConfig


class BedrockSandboxConfig(AppConfig):
    """Installed only so `manage.py bedrock_sandbox` is found; it has no models, URLs or signals."""

    name = "bedrock_sandbox"
    verbose_name = "Local Bedrock sandbox"
