"""The one client of OpenAI-compatible chat endpoints, shared by rewriting, the soft-constraint judge and evaluation.

`http` is the asyncio HTTP/1.1 transport, `retry` the backoff rules, `client.ChatClient` the calls (retries, a
whole-request deadline, bounded concurrency), `cache.ResponseCache` the on-disk store of answers.
"""
