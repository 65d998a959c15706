"""The pages people work in and the entry points that compose several apps: the public intake form and API, the founder status page, the partner workspace, the demo data."""
