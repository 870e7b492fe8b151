"""The OpenAPI document describes every API route, and the case's JSON matches it."""
from __future__ import annotations

import re

from reporting.cases.followups import FOLLOWUP_FIELDS, WITHDRAWAL_FIELDS
from tests.cases.helpers import Reporter
from tests.conftest import make_app


def test_every_api_route_is_documented_and_every_post_needs_csrf(tmp_path):
    app = make_app(tmp_path)
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    routes = {(re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule[len("/api/v1"):]), method.lower())
              for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1/")
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    documented = {(path, method) for path, operations in document["paths"].items() for method in operations}
    assert routes - {("/openapi.json", "get")} <= documented
    for path, operations in document["paths"].items():
        if "post" in operations:
            assert {"session": [], "csrf": []} in operations["post"]["security"], path
    schemas = document["components"]["schemas"]
    assert set(schemas["NewFollowup"]["properties"]) == FOLLOWUP_FIELDS
    assert set(schemas["Withdrawal"]["properties"]) == WITHDRAWAL_FIELDS


def test_the_case_json_has_what_the_document_promises(tmp_path):
    app = make_app(tmp_path)
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    alice = Reporter(app)
    ref = alice.report()
    alice.post(f"/api/v1/reports/{ref}/followups", {"text": "More.", "evidence": ["https://en.wikipedia.org/wiki/X"]})
    case = alice.case(ref)
    summary, extra = schemas["Report"]["allOf"][0], schemas["Report"]["allOf"][1]
    assert set(case) == set(schemas["ReportSummary"]["properties"]) | set(extra["properties"])
    assert set(extra["required"]) <= set(case)
    for entry in case["timeline"]:
        assert set(entry) == set(schemas["TimelineEntry"]["required"])
        assert entry["status"] in schemas["TimelineEntry"]["properties"]["status"]["enum"]
        assert entry["source"] in schemas["TimelineEntry"]["properties"]["source"]["enum"]
    assert [set(f) for f in case["followups"]] == [set(schemas["Followup"]["required"])]
    assert summary == {"$ref": "#/components/schemas/ReportSummary"}
