"""Where Slack's own spec files lie (the app manifest schema, the Web API's OpenAPI spec):
`shared/slack-reference` beside this checkout, or the workplace's copy when the checkout is
elsewhere (a clone in /tmp)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_PLACES = (ROOT.parent / "shared" / "slack-reference", Path("/work/shared/slack-reference"))
REFERENCE = next((place for place in _PLACES if place.is_dir()), _PLACES[0])
MANIFEST_SCHEMA = REFERENCE / "manifest.schema.1.0.0.json"
WEB_API = REFERENCE / "slack_web_openapi_v2_without_examples.json"
