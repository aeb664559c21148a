"""The REST endpoints, driven through the ASGI app with httpx: API key, code to the phone by WhatsApp,
every linking rule kept, global caps, timing, and the conversation refreshed after a link."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette

from adapters.accounts import linking_routes
from adapters.accounts.linking import CodeNotSent, LinkingLimits
from tests.adapters.accounts.conftest import OTHER_PHONE, PHONE

INITIATE = "/api/v1/auth/initiate-linking"
VERIFY = "/api/v1/auth/verify-otp"
API_KEY = "website-key-" + "k" * 20
AUTH = {"Authorization": f"Bearer {API_KEY}"}


class PhoneCodes:
    """The WhatsApp side: codes sent to phones (or a failure to send)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, int]] = []
        self.fail = False

    async def __call__(self, phone: str, code: str, minutes: int) -> None:
        if self.fail:
            raise CodeNotSent("WhatsApp error 131026")
        self.sent.append((phone, code, minutes))

    def last(self, phone: str) -> str:
        return [code for to, code, _ in self.sent if to == phone][-1]


@pytest.fixture
def phone_codes() -> PhoneCodes:
    return PhoneCodes()


@pytest.fixture
def refreshed() -> list[str]:
    return []


def make_client(service, phone_codes, refreshed, api_key=API_KEY):
    async def on_linked(phone: str) -> None:
        refreshed.append(phone)

    app = Starlette(routes=linking_routes(service, api_key=api_key, deliver_code=phone_codes, on_linked=on_linked))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test", headers=AUTH)


@pytest.fixture
async def client(service, phone_codes, refreshed):
    async with make_client(service, phone_codes, refreshed) as client:
        yield client


async def test_happy_path_code_goes_to_the_phone_not_the_email(client, smtp, phone_codes, refreshed):
    response = await client.post(INITIATE, json={"phone_number": PHONE, "email": "agent@example.com"})
    assert response.status_code == 200
    assert response.json() == {"status": "sent", "email": "a***@example.com", "expires_in": 300}
    assert smtp.messages == [] and [(p, m) for p, _, m in phone_codes.sent] == [(PHONE, 5)]

    code = phone_codes.last(PHONE)
    assert refreshed == []
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
        "language": None,
    }
    assert refreshed == [PHONE]
    response = await client.post(VERIFY, json={"phone_number": PHONE, "otp_code": code})
    assert (response.status_code, response.json()["error"]) == (410, "used")


async def test_the_api_key_is_required(service, phone_codes, refreshed, smtp):
    body = {"phone_number": PHONE, "email": "agent@example.com"}
    async with make_client(service, phone_codes, refreshed) as client:
        for path in (INITIATE, VERIFY):
            missing = await client.post(path, json=body, headers={"Authorization": ""})
            assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
            wrong = await client.post(path, json=body, headers={"Authorization": "Bearer not-the-key"})
            assert wrong.status_code == 403
            basic = await client.post(path, json=body, headers={"Authorization": f"Basic {API_KEY}"})
            assert basic.status_code == 401
    async with make_client(service, phone_codes, refreshed, api_key="") as client:
        disabled = await client.post(INITIATE, json=body)
        assert disabled.status_code == 503 and "API_KEY" in disabled.json()["message"]
    assert phone_codes.sent == [] and smtp.messages == []


async def test_an_attacker_cannot_link_a_phone_they_do_not_hold(client, phone_codes):
    """Knowing the victim's number and owning an email is not enough: the code goes to the victim's phone."""
    await client.post(INITIATE, json={"phone_number": PHONE, "email": "agent@example.com"})
    (victim_phone, code, _), = phone_codes.sent
    assert victim_phone == PHONE
    response = await client.post(VERIFY, json={"phone_number": OTHER_PHONE, "otp_code": code})
    assert response.status_code == 400 and response.json()["error"] == "no_code"


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
async def test_invalid_input_is_422_naming_the_field(client, phone_codes, path, body, field):
    response = await client.post(path, json=body)
    assert response.status_code == 422
    assert field in [f["field"] for f in response.json()["fields"]]
    assert phone_codes.sent == []


async def test_body_that_is_not_json_is_422(client):
    response = await client.post(INITIATE, content=b"phone=1")
    assert response.status_code == 422
    assert response.json()["fields"][0]["field"] == "body"


async def test_unknown_email_same_answer_nothing_sent(client, smtp, phone_codes):
    response = await client.post(INITIATE, json={"phone_number": PHONE, "email": "ghost@example.com"})
    assert response.status_code == 200
    assert response.json() == {"status": "sent", "email": "g***@example.com", "expires_in": 300}
    assert smtp.messages == [] and phone_codes.sent == []


async def test_a_failed_whatsapp_send_is_503_and_does_not_count(client, phone_codes):
    phone_codes.fail = True
    for _ in range(4):  # more than the 3 per hour: failures are given back
        response = await client.post(INITIATE, json={"phone_number": PHONE, "email": "agent@example.com"})
        assert (response.status_code, response.json()["error"]) == (503, "send_failed")
    phone_codes.fail = False
    assert (await client.post(INITIATE, json={"phone_number": PHONE, "email": "agent@example.com"})).status_code == 200


async def test_wrong_expired_and_rate_limited_status_codes(client, phone_codes, clock):
    await client.post(INITIATE, json={"phone_number": PHONE, "email": "seeker@example.com"})
    code = phone_codes.last(PHONE)
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


async def test_global_caps_stop_an_attacker_covering_many_accounts(make_service, phone_codes, refreshed):
    service = make_service(limits=LinkingLimits(codes_per_window=4, guesses_per_window=6))
    async with make_client(service, phone_codes, refreshed) as client:
        phones = [f"+23480{n:08d}" for n in range(6)]
        answers = [(await client.post(INITIATE, json={"phone_number": p, "email": f"user{n}@example.com"})).status_code
                   for n, p in enumerate(phones)]
        assert answers == [200] * 4 + [429] * 2  # each phone and email is fresh: only the global cap applies
        guesses = [(await client.post(VERIFY, json={"phone_number": p, "otp_code": "000000"})).json()["error"]
                   for p in phones for _ in range(2)]
        assert guesses.count("rate_limited") == 12 - 6 and "rate_limited" not in guesses[:6]


class Ticks:
    """A monotonic clock the lookups and sends advance, so the answer times can be compared exactly."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_known_and_unknown_emails_answer_at_the_same_moment(make_service, sleeps):
    ticks = Ticks()
    accounts = {"agent@example.com": {"id": 202, "name": "Ade Agent", "role": "agent"}}

    async def lookup(email: str):
        ticks.now += 0.016 if email in accounts else 0.049  # what was measured right after start-up
        return accounts.get(email)

    async def deliver(phone: str, code: str, minutes: int) -> None:
        ticks.now += 0.02

    async def slept(seconds: float) -> None:
        ticks.now += seconds

    service = make_service(lookup_user_by_email=lookup, monotonic=ticks, sleep=slept)
    durations = []
    for n, email in enumerate(["agent@example.com", "ghost@example.com"] * 3):
        started = ticks.now
        await service.start_link(f"+23481{n:08d}", email, deliver=deliver)
        durations.append(round(ticks.now - started, 6))
    known, unknown = durations[0::2], durations[1::2]
    assert [round(k - u, 6) for k, u in zip(known, unknown, strict=True)] == [0.0, 0.0, 0.0]
    assert min(durations) >= LinkingLimits().min_answer_seconds


async def test_codes_the_website_asks_for_a_phone_leave_that_phones_whatsapp_codes_alone(client, service, smtp):
    """Someone on the website can ask codes for a phone they do not own (with emails of their own); that uses
    up the website's codes for the phone, never the ones its owner asks for on WhatsApp."""
    emails = ["seeker@example.com", "agent@example.com", "inspector@example.com"]
    for email in emails:
        assert (await client.post(INITIATE, json={"phone_number": PHONE, "email": email})).status_code == 200
    refused = await client.post(INITIATE, json={"phone_number": PHONE, "email": emails[0]})
    assert (refused.status_code, refused.json()["error"]) == (429, "rate_limited")

    sent = await service.start_link(PHONE, "agent@example.com")  # the owner, on WhatsApp: emailed as usual
    assert sent["expires_in"] > 0 and smtp.last_code("agent@example.com")


async def test_a_code_asked_on_the_website_leaves_the_code_the_owner_is_typing_on_whatsapp_working(
        client, service, smtp, phone_codes):
    await service.start_link(PHONE, "seeker@example.com")  # the owner, on WhatsApp: emailed
    emailed = smtp.last_code("seeker@example.com")
    response = await client.post(INITIATE, json={"phone_number": PHONE, "email": "agent@example.com"})
    assert response.status_code == 200  # someone else, on the website, for the same phone
    web_code = phone_codes.last(PHONE)

    # Each road checks its own latest code: the website's code is not a WhatsApp code, and the other way round.
    wrong_road = await client.post(VERIFY, json={"phone_number": PHONE, "otp_code": emailed})
    assert (wrong_road.status_code, wrong_road.json()["error"]) == (400, "wrong_code")
    user = await service.verify_code(PHONE, emailed)
    assert user["role"] == "seeker"
    assert web_code != emailed
