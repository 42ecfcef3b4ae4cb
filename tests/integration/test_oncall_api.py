"""On-call over the API: schedules with ETags and problem bodies, the final schedule, who is on call
now, gaps, overrides (overlaps stated), shift swaps, the iCal feed without a bearer token, isolation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest

from tests.builders import ApiHarness

pytestmark = pytest.mark.integration
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def api(database_url, aws):
    harness = ApiHarness(database_url)
    for tenant in ("acme", "globex"):
        harness.create_tenant(tenant)
    yield harness
    harness.close()


def as_user(api, method, path, username, role="customer_viewer", tenant="acme", **kwargs):
    """A request by the Cognito user ``username`` (its sub and username in the token)."""
    headers = api.issuer.headers(role=role, tenant=tenant, sub=username)
    return api.client.request(method, "/api/v1" + path, headers=headers, **kwargs)


def schedule_body(users=("ana",), **layer_fields):
    today = datetime.now(BERLIN).date()
    layer = {
        "name": "Primary",
        "priority": 1,
        "rotation": {
            "kind": "daily",
            "handoff_time": "09:00",
            "start_date": (today - timedelta(days=10)).isoformat(),
            "users": list(users),
        },
        **layer_fields,
    }
    return {"name": "Ops", "timezone": "Europe/Berlin", "layers": [layer]}


def create(api, body=None, **kwargs):
    response = api.request("POST", "/oncall/schedules", json=body or schedule_body(), **kwargs)
    assert response.status_code == 201, response.json()
    return response.json()


def parse_ical(text: str) -> list[dict[str, str]]:
    """The VEVENTs of an iCalendar document (lines unfolded, properties without parameters)."""
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    lines = text.replace("\r\n ", "").split("\r\n")
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-2] == "END:VCALENDAR"
    events, current = [], None
    for line in lines:
        if line == "BEGIN:VEVENT":
            current = {}
        elif line == "END:VEVENT":
            events.append(current)
            current = None
        elif current is not None:
            name, _, value = line.partition(":")
            current[name] = value
    return events


def test_schedule_is_created_read_listed_and_replaced_under_if_match(api, sql):
    created = create(api)
    path = f"/oncall/schedules/{created['id']}"

    read = api.request("GET", path)
    assert read.status_code == 200 and read.headers["ETag"] == '"1"'
    assert read.json()["layers"][0]["rotation"]["users"] == ["ana"]
    assert [s["id"] for s in api.request("GET", "/oncall/schedules").json()["items"]] == [created["id"]]

    changed = schedule_body(users=("ana", "ben"))
    assert api.request("PUT", path, json=changed).status_code == 428
    assert api.request("PUT", path, json=changed, headers={"If-Match": '"7"'}).status_code == 412
    replaced = api.request("PUT", path, json=changed, headers={"If-Match": '"1"'})
    assert replaced.status_code == 200 and replaced.headers["ETag"] == '"2"'
    assert replaced.json()["layers"][0]["rotation"]["users"] == ["ana", "ben"]

    assert api.request("DELETE", path).status_code == 204
    assert api.request("GET", path).status_code == 404
    actions = [
        r[0] for r in sql.execute("SELECT action FROM audit_log WHERE entity_id = %s ORDER BY id", (created["id"],))
    ]
    assert actions == ["oncall.schedule.create", "oncall.schedule.update", "oncall.schedule.delete"]


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({**schedule_body(), "timezone": "Mars/Olympus"}, "timezone", "not an IANA time zone"),
        (schedule_body(users=()), "layers.0.rotation.users", "at least 1"),
        ({**schedule_body(), "layers": [{**schedule_body()["layers"][0], "restrictions": [{"start": "17:00",
                                                                                              "end": "09:00"}]}]},
         "layers.0.restrictions.0", "end: must be after start"),
    ],
)  # fmt: skip
def test_refused_schedules_answer_problems_naming_the_field(api, body, field, message):
    response = api.request("POST", "/oncall/schedules", json=body)

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    [error] = response.json()["errors"]
    assert error["field"] == field and message in error["message"]


def test_final_schedule_now_and_gaps_follow_the_rotation_and_the_range_is_checked(api):
    schedule_id = create(api, schedule_body(users=("ana", "ben")))["id"]
    start = datetime.now(UTC)
    end = start + timedelta(days=3)

    final = api.request(
        "GET", f"/oncall/schedules/{schedule_id}/final", params={"start": start.isoformat(), "end": end.isoformat()}
    ).json()
    now = api.request("GET", f"/oncall/schedules/{schedule_id}/now").json()

    segments = final["segments"]
    assert datetime.fromisoformat(segments[0]["start"]) == start
    assert datetime.fromisoformat(segments[-1]["end"]) == end
    assert [s["username"] for s in segments[:3]] in (["ana", "ben", "ana"], ["ben", "ana", "ben"])
    for segment in segments[1:]:
        assert datetime.fromisoformat(segment["start"]).astimezone(BERLIN).strftime("%H:%M") == "09:00"
    assert now["username"] == segments[0]["username"] and now["segment"]["source"] == "layer"
    assert api.request("GET", f"/oncall/schedules/{schedule_id}/gaps", params={"days": 14}).json()["gaps"] == []

    backwards = api.request(
        "GET", f"/oncall/schedules/{schedule_id}/final", params={"start": end.isoformat(), "end": start.isoformat()}
    )
    assert backwards.status_code == 400 and backwards.json()["errors"][0]["field"] == "end"
    naive = api.request("GET", f"/oncall/schedules/{schedule_id}/final", params={"start": "2025-03-01T00:00:00"})
    assert naive.status_code == 422


def test_overlapping_overrides_are_allowed_and_stated_and_the_newest_wins(api):
    schedule_id = create(api)["id"]
    t0 = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    path = f"/oncall/schedules/{schedule_id}/overrides"

    first = api.request("POST", path, json={"username": "ben", "starts_at": t0.isoformat(),
                                            "ends_at": (t0 + timedelta(hours=4)).isoformat()}).json()  # fmt: skip
    second = api.request("POST", path, json={"username": "chen", "starts_at": (t0 + timedelta(hours=2)).isoformat(),
                                             "ends_at": (t0 + timedelta(hours=6)).isoformat()}).json()  # fmt: skip
    backwards = api.request("POST", path, json={"username": "dara", "starts_at": t0.isoformat(),
                                                "ends_at": t0.isoformat()})  # fmt: skip

    assert first["overlaps"] == [] and second["overlaps"] == [first["id"]]
    assert backwards.status_code == 422 and backwards.json()["errors"][0]["field"] == "body"
    final = api.request(
        "GET", f"/oncall/schedules/{schedule_id}/final",
        params={"start": t0.isoformat(), "end": (t0 + timedelta(hours=7)).isoformat()},
    ).json()["segments"]  # fmt: skip
    assert [(s["username"], s["source"]) for s in final] == [
        ("ben", "override"),
        ("chen", "override"),
        ("ana", "layer"),
    ]

    assert api.request("DELETE", f"{path}/{second['id']}").status_code == 204
    listed = api.request("GET", path, params={"start": t0.isoformat()}).json()
    assert [o["id"] for o in listed] == [first["id"]]


def test_a_swap_is_requested_by_the_one_on_call_and_accepted_only_by_the_one_asked(api, sql):
    schedule_id = create(api)["id"]  # ana is on call around the clock
    t0 = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
    swap = {"to_user": "chen", "starts_at": t0.isoformat(), "ends_at": (t0 + timedelta(hours=8)).isoformat()}
    swaps = f"/oncall/schedules/{schedule_id}/swaps"

    requested = as_user(api, "POST", swaps, "ana", json={**swap, "note": "dentist"})
    assert requested.status_code == 201, requested.json()
    swap_id = requested.json()["id"]
    assert requested.json()["state"] == "requested" and requested.json()["from_user"] == "ana"
    assert as_user(api, "POST", swaps, "ben", json={**swap, "to_user": "dara"}).status_code == 409  # not ben's shift
    assert as_user(api, "POST", swaps, "ben", json={**swap, "from_user": "ana"}).status_code == 403  # viewer

    assert as_user(api, "POST", f"{swaps}/{swap_id}/accept", "ben").status_code == 403
    accepted = as_user(api, "POST", f"{swaps}/{swap_id}/accept", "chen")
    assert accepted.status_code == 200 and accepted.json()["state"] == "accepted"
    assert as_user(api, "POST", f"{swaps}/{swap_id}/accept", "chen").status_code == 409

    final = api.request(
        "GET", f"/oncall/schedules/{schedule_id}/final",
        params={"start": (t0 - timedelta(hours=1)).isoformat(), "end": (t0 + timedelta(hours=9)).isoformat()},
    ).json()["segments"]  # fmt: skip
    assert [(s["username"], s["source"]) for s in final] == [("ana", "layer"), ("chen", "swap"), ("ana", "layer")]
    assert final[1]["source_id"] == accepted.json()["override_id"]
    # the range is chen's now: ana can no longer give it away
    assert as_user(api, "POST", swaps, "ana", json={**swap, "to_user": "dara"}).status_code == 409

    later = {
        **swap,
        "starts_at": (t0 + timedelta(days=1)).isoformat(),
        "ends_at": (t0 + timedelta(days=1, hours=1)).isoformat(),
    }
    declined_id = as_user(api, "POST", swaps, "ana", json=later).json()["id"]
    declined = as_user(api, "POST", f"{swaps}/{declined_id}/decline", "chen")
    assert declined.status_code == 200 and declined.json()["state"] == "declined"

    assert [s["id"] for s in api.request("GET", swaps).json()["items"]] == [declined_id, swap_id]
    assert [s["id"] for s in api.request("GET", swaps, params={"state": "accepted"}).json()["items"]] == [swap_id]
    actions = [r[0] for r in sql.execute("SELECT action FROM audit_log WHERE action LIKE 'oncall.%%' ORDER BY id")]
    assert actions == ["oncall.schedule.create", "oncall.swap.request", "oncall.swap.accept", "oncall.override.create",
                       "oncall.swap.request", "oncall.swap.decline"]  # fmt: skip


def test_ical_feed_serves_the_final_schedule_at_a_secret_url_without_a_bearer_token(api, sql):
    schedule_id = create(api, schedule_body(users=("ana", "ben")))["id"]
    assert (
        api.request("POST", f"/oncall/schedules/{schedule_id}/ical-token", as_=("customer_viewer", "acme")).status_code
        == 403
    )
    issued = api.request("POST", f"/oncall/schedules/{schedule_id}/ical-token").json()

    feed = api.client.get(issued["path"], params={"days": 5})

    assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/calendar")
    events = parse_ical(feed.text)
    start = datetime.now(UTC) - timedelta(days=1)
    final = api.request(
        "GET", f"/oncall/schedules/{schedule_id}/final",
        params={"start": start.isoformat(), "end": (start + timedelta(days=6)).isoformat()},
    ).json()["segments"]  # fmt: skip
    assert [e["SUMMARY"] for e in events] == [f"On call: {s['username']} (Ops)" for s in final]
    for event, segment in zip(events[1:-1], final[1:-1], strict=True):  # first and last are clipped to the range
        assert datetime.strptime(event["DTSTART"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC) == datetime.fromisoformat(
            segment["start"]
        )
        assert datetime.strptime(event["DTEND"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC) == datetime.fromisoformat(
            segment["end"]
        )
    assert len({e["UID"] for e in events}) == len(events)
    only_ana = parse_ical(api.client.get(issued["path"], params={"days": 5, "user": "ana"}).text)
    assert only_ana and all(e["SUMMARY"] == "On call: ana (Ops)" for e in only_ana)

    digest = sql.execute("SELECT ical_token_hash FROM oncall_schedules WHERE id = %s", (schedule_id,)).fetchone()[0]
    assert issued["token"].encode() not in bytes(digest)  # stored hashed
    rotated = api.request("POST", f"/oncall/schedules/{schedule_id}/ical-token").json()
    assert api.client.get(issued["path"]).status_code == 404
    assert api.client.get(rotated["path"]).status_code == 200


def test_another_tenant_sees_no_schedule_even_at_the_database(api, database_url):
    schedule_id = create(api)["id"]

    assert api.request("GET", f"/oncall/schedules/{schedule_id}", as_=("customer_admin", "globex")).status_code == 404
    assert api.request("GET", "/oncall/schedules", as_=("customer_admin", "globex")).json()["items"] == []
    with psycopg.connect(database_url) as conn:
        conn.execute("SET ROLE pulse_app")
        conn.execute("SELECT set_config('app.tenant_id', 'globex', false)")
        for table in ("oncall_schedules", "oncall_overrides", "oncall_swaps"):
            assert conn.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,)
        conn.execute("SELECT set_config('app.tenant_id', 'acme', false)")
        assert conn.execute("SELECT count(*) FROM oncall_schedules").fetchone() == (1,)
