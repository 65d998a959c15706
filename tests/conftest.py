"""Suite-wide fixtures: the three standing users and the factories live in tests/factories.py."""
