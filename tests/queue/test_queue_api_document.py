"""The OpenAPI document describes the workspace's routes, and their JSON matches it."""
from __future__ import annotations

from reporting.cases.workspace import CHANGE_FIELDS, NOTE_FIELDS
from tests.conftest import make_app
from tests.queue.helpers import Person


def test_the_workspace_routes_are_documented_and_their_json_matches(tmp_path):
    app = make_app(tmp_path)
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    paths, schemas = document["paths"], document["components"]["schemas"]
    assert set(paths["/queue"]) == {"get"} and set(paths["/queue/{ref}"]) == {"get", "patch"}
    assert set(paths["/queue/{ref}/notes"]) == {"post"} and set(paths["/queue/{ref}/audit"]) == {"get"}
    # Every state change needs the CSRF token, PATCH too.
    for path, operations in paths.items():
        for method in ("post", "patch", "put", "delete"):
            if method in operations:
                assert {"session": [], "csrf": []} in operations[method]["security"], (path, method)
    assert set(schemas["CaseChange"]["properties"]) == CHANGE_FIELDS
    assert set(schemas["NewNote"]["properties"]) == NOTE_FIELDS

    reporter, tess = Person(app, "reporter"), Person(app, "trust-and-safety")
    ref = reporter.report()
    tess.post(f"/api/v1/queue/{ref}/notes", {"text": "A note."})
    listed = tess.client.get("/api/v1/queue").get_json()
    list_schema = paths["/queue"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert set(list_schema["required"]) <= set(listed) <= set(list_schema["properties"])
    assert set(listed["cases"][0]) == set(schemas["QueueCase"]["required"]) == set(schemas["QueueCase"]["properties"])
    case = tess.client.get(f"/api/v1/queue/{ref}").get_json()
    assert set(case) == set(schemas["WorkspaceCase"]["required"]) == set(schemas["WorkspaceCase"]["properties"])
    assert set(case["reporter"]) <= set(schemas["WorkspaceCase"]["properties"]["reporter"]["properties"])
    for entry in case["timeline"]:
        assert set(entry) == set(schemas["WorkspaceEntry"]["required"])
        assert entry["kind"] in schemas["WorkspaceEntry"]["properties"]["kind"]["enum"]
        assert entry["source"] in schemas["WorkspaceEntry"]["properties"]["source"]["enum"]
    assert case["destination_kind"] in schemas["WorkspaceCase"]["properties"]["destination_kind"]["enum"]
    audit = tess.client.get(f"/api/v1/queue/{ref}/audit").get_json()
    entry_schema = paths["/queue/{ref}/audit"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert all(set(e) == set(entry_schema["properties"]["entries"]["items"]["required"]) for e in audit["entries"])
    # Only Trust and Safety sees the reporter's name.
    erik = Person(app, "functionary of this wiki")
    assert "username" in case["reporter"]
    assert "username" not in erik.client.get(f"/api/v1/queue/{ref}").get_json()["reporter"]
