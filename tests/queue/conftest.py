"""Fixtures of the OAuth login (a strict fake Special:OAuth and meta API) for the workspace's tests."""
from tests.login_helpers import meta, oauth_app, wiki  # noqa: F401  (fixtures)
