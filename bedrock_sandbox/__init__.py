"""The local Bedrock sandbox: a stand-in that speaks Converse, an OpenAI-compatible chat API and S3 for batch jobs on 127.0.0.1, for `make run` and the tests. The product never imports it."""
