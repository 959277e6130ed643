"""Uses the Python client openapi-python-client generates from openapi/openapi.json against a
dev server (.ci/clients): a login, the profile, and a refused login parsed as a problem."""

import sys

from esr_access_client import AuthenticatedClient, Client
from esr_access_client.api.self_ import get_me
from esr_access_client.api.session import login
from esr_access_client.models import LoginRequest, Problem, TokenResponse

base = sys.argv[1]
client = Client(base_url=base, raise_on_unexpected_status=True)

tokens = login.sync(
    client=client,
    body=LoginRequest(username="999jsmith01", password="Bluebell harbour lantern"),
)
assert isinstance(tokens, TokenResponse), tokens
signed_in = AuthenticatedClient(base_url=base, token=tokens.access_token, raise_on_unexpected_status=True)
me = get_me.sync(client=signed_in)
assert me is not None and me.username == "999JSMITH01", me
assert me.organisation.code == "999", me

refused = login.sync(client=client, body=LoginRequest(username="999JSMITH01", password="not her password"))
assert isinstance(refused, Problem), refused
code = getattr(refused.code, "value", refused.code)
assert code == "invalid-credentials", refused
assert refused.status == 401, refused
print(f"python client: {me.username} signed in, profile read, refusal parsed as {code}")
