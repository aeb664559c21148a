"""The REST endpoints, driven through the ASGI app with httpx."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette

from adapters.accounts import linking_routes
from tests.adapters.accounts.conftest import PHONE

INITIATE = "/api/v1/auth/initiate-linking"
VERIFY = "/api/v1/auth/verify-otp"


@pytest.fixture
async def client(service):
    app = Starlette(routes=linking_routes(service))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        yield client


async def test_happy_path(client, smtp):
    response = await client.post(INITIATE, json={"phone_number": PHONE, "email": "agent@example.com"})
    assert response.status_code == 200
    assert response.json() == {"status": "sent", "email": "a***@example.com", "expires_in": 300}

    code = smtp.last_code("agent@example.com")
    response = await client.post(VERIFY, json={"phone_number": PHONE, "otp_code": code})
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "linked"
    assert body["user"] == {
        "id": "202",
        "name": "Ade Agent",
        "role": "agent",
        "email_masked": "a***@example.com",
        "phone": PHONE,
    }
    response = await client.post(VERIFY, json={"phone_number": PHONE, "otp_code": code})
    assert (response.status_code, response.json()["error"]) == (410, "used")


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (INITIATE, {"phone_number": "08012345678", "email": "agent@example.com"}, "phone_number"),
        (INITIATE, {"phone_number": PHONE, "email": "agent.example.com"}, "email"),
        (INITIATE, {"email": "agent@example.com"}, "phone_number"),
        (VERIFY, {"phone_number": PHONE, "otp_code": "12345"}, "otp_code"),
        (VERIFY, {"phone_number": PHONE, "otp_code": "12345a"}, "otp_code"),
        (VERIFY, {"phone_number": PHONE, "otp_code": "1234567"}, "otp_code"),
        (VERIFY, {"phone_number": "+2348012345621x", "otp_code": "123456"}, "phone_number"),
    ],
)
async def test_invalid_input_is_422_naming_the_field(client, smtp, path, body, field):
    response = await client.post(path, json=body)
    assert response.status_code == 422
    assert field in [f["field"] for f in response.json()["fields"]]
    assert smtp.messages == []


async def test_body_that_is_not_json_is_422(client):
    response = await client.post(INITIATE, content=b"phone=1")
    assert response.status_code == 422
    assert response.json()["fields"][0]["field"] == "body"


async def test_unknown_email_same_answer(client, smtp):
    response = await client.post(INITIATE, json={"phone_number": PHONE, "email": "ghost@example.com"})
    assert response.status_code == 200
    assert response.json() == {"status": "sent", "email": "g***@example.com", "expires_in": 300}
    assert smtp.messages == []


async def test_wrong_expired_and_rate_limited_status_codes(client, smtp, clock):
    await client.post(INITIATE, json={"phone_number": PHONE, "email": "seeker@example.com"})
    code = smtp.last_code("seeker@example.com")
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    response = await client.post(VERIFY, json={"phone_number": PHONE, "otp_code": wrong})
    assert response.status_code == 400
    assert response.json()["error"] == "wrong_code" and response.json()["tries_left"] == 4

    clock.advance(minutes=6)
    response = await client.post(VERIFY, json={"phone_number": PHONE, "otp_code": code})
    assert (response.status_code, response.json()["error"]) == (410, "expired")

    for _ in range(2):
        ok = await client.post(INITIATE, json={"phone_number": PHONE, "email": "seeker@example.com"})
        assert ok.status_code == 200
    response = await client.post(INITIATE, json={"phone_number": PHONE, "email": "seeker@example.com"})
    assert (response.status_code, response.json()["error"]) == (429, "rate_limited")
