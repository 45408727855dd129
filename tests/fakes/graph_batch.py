"""JSON batching (`POST /v1.0/$batch`) for the Graph emulator.

At most 20 member requests; each gets its own status inside a 200 envelope. Members run in
waves: those whose `dependsOn` members have finished run together, and a wave runs at most as
many members as the mailbox has free concurrency slots; the rest get 429
`ApplicationThrottled` with Retry-After (as Outlook answers a batch of more than 4 requests to
one mailbox). A member whose dependency did not succeed gets 424. Runs under the emulator's
lock; errors about the envelope itself are GraphError.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.graph_errors import GraphError, throttled

MAX_REQUESTS = 20
METHODS = ("GET", "POST", "PATCH", "PUT", "DELETE")


@dataclass
class Reply:
    """One API answer: status, JSON body (None for 204) and headers."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    kind: str = "?"  # what the body is, for the emulator's field checks
    parts: list[tuple[str, Any]] = field(default_factory=list)  # a batch's member bodies


# (method, version-relative URL, lower-cased headers, JSON body) -> Reply
Call = Callable[[str, str, dict[str, str], Any], Reply]


def _bad(message: str) -> GraphError:
    return GraphError(400, "BadRequest", message)


def _validate(payload: Any) -> list[dict[str, Any]]:
    """The member requests of a well-formed batch; 400 for the whole batch otherwise."""
    if not isinstance(payload, dict) or not isinstance(payload.get("requests"), list):
        raise _bad("A batch body needs a 'requests' array.")
    requests: list[dict[str, Any]] = payload["requests"]
    if not requests:
        raise _bad("A batch needs at least one request.")
    if len(requests) > MAX_REQUESTS:
        raise _bad(f"A batch may hold at most {MAX_REQUESTS} requests; it held {len(requests)}.")
    ids: list[str] = []
    for member in requests:
        if not isinstance(member, dict):
            raise _bad("Each batch request must be an object.")
        for key in ("id", "method", "url"):
            if not isinstance(member.get(key), str) or not member[key]:
                raise _bad(f"Each batch request needs '{key}'.")
        if member["id"] in ids:
            raise _bad(f"The batch request id {member['id']!r} is used twice.")
        depends = member.get("dependsOn", [])
        if not isinstance(depends, list) or any(d not in ids for d in depends):
            raise _bad("dependsOn may only name requests that come earlier in the batch.")
        ids.append(member["id"])
    return requests


def run(payload: Any, envelope_headers: dict[str, str], call: Call, slots: int) -> Reply:
    """The batch's 200 envelope; `slots` is how many members one wave may run."""
    requests = _validate(payload)
    statuses: dict[str, int] = {}
    replies: dict[str, Reply] = {}
    pending = list(requests)
    while pending:
        wave = [m for m in pending if all(d in statuses for d in m.get("dependsOn", []))]
        running = 0
        for member in wave:
            if any(not 200 <= statuses[d] < 300 for d in member.get("dependsOn", [])):
                reply = Reply(
                    424,
                    GraphError(
                        424, "FailedDependency", "A request this one depends on failed."
                    ).body(),
                    kind="error",
                )
            elif running >= slots:
                error = throttled()
                reply = Reply(429, error.body(), dict(error.headers), kind="error")
            else:
                running += 1
                reply = _member(member, envelope_headers, call)
            statuses[member["id"]] = reply.status
            replies[member["id"]] = reply
        pending = [m for m in pending if m["id"] not in statuses]
    out = []
    for member in requests:
        reply = replies[member["id"]]
        entry: dict[str, Any] = {"id": member["id"], "status": reply.status}
        headers = dict(reply.headers)
        if reply.body is not None:
            headers.setdefault("Content-Type", "application/json")
        entry["headers"] = headers
        if reply.body is not None:
            entry["body"] = reply.body
        out.append(entry)
    parts = [(replies[m["id"]].kind, replies[m["id"]].body) for m in requests]
    return Reply(200, {"responses": out}, kind="batch", parts=[p for p in parts if p[1]])


def _member(member: dict[str, Any], envelope_headers: dict[str, str], call: Call) -> Reply:
    method = member["method"].upper()
    url = member["url"]
    headers = {k.lower(): str(v) for k, v in (member.get("headers") or {}).items()}
    if method not in METHODS:
        return _member_error(400, f"Method {method} cannot be batched.")
    if "://" in url or url.lstrip("/").startswith(("v1.0/", "beta/", "$batch")):
        return _member_error(400, "A batch request URL must be relative to the API version.")
    if "body" in member and "content-type" not in headers:
        return _member_error(400, "A batch request with a body needs a Content-Type header.")
    merged = {**envelope_headers, **headers}
    merged["authorization"] = envelope_headers.get("authorization", "")
    return call(method, "/" + url.lstrip("/"), merged, member.get("body"))


def _member_error(status: int, message: str) -> Reply:
    return Reply(status, GraphError(status, "BadRequest", message).body(), kind="error")
