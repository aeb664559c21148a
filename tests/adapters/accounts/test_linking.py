"""The linking rules, end to end: codes travel through a real SMTP exchange."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from adapters.accounts import LinkCode, LinkingError
from adapters.accounts import codes as codes_module
from adapters.accounts.codes import hash_code, new_code
from tests.adapters.accounts.conftest import ACCOUNTS, OTHER_PHONE, PHONE


async def link(service, smtp, phone: str, email: str) -> dict:
    await service.start_link(phone, email)
    return await service.verify_code(phone, smtp.last_code(email))


def other_code(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


async def codes_of(service, phone: str) -> list[LinkCode]:
    from sqlmodel import select

    return await service.db.run(lambda s: list(s.exec(select(LinkCode).where(LinkCode.phone == phone)).all()))


@pytest.mark.parametrize("email", sorted(ACCOUNTS))
async def test_each_role_links_with_the_emailed_code(service, smtp, email):
    account = ACCOUNTS[email]
    sent = await service.start_link(PHONE, email.upper())
    assert sent == {"email": email[0] + "***@example.com", "expires_in": 300}
    [message] = smtp.to(email)
    assert message["Subject"] == "Your Inspector linking code"
    code = smtp.last_code(email)
    assert code not in message["Subject"]

    user = await service.verify_code(PHONE, code)

    assert user == {
        "id": str(account["id"]),
        "name": account["name"],
        "role": account["role"],
        "email_masked": email[0] + "***@example.com",
        "phone": PHONE,
        "language": None,
    }
    assert await service.identify(PHONE) == user
    row = await service.get_user(PHONE)
    assert row.linked and row.linked_at == service._clock() and row.email == email
    assert [u.phone for u in await service.linked_users(role=account["role"])] == [PHONE]


async def test_codes_are_six_digits_from_secrets(monkeypatch):
    seen = []

    def randbelow(n):
        seen.append(n)
        return 42

    monkeypatch.setattr(codes_module.secrets, "randbelow", randbelow)
    assert new_code() == "000042"
    assert seen == [10**6]


async def test_only_a_salted_hmac_of_the_code_is_stored(service, smtp):
    await service.start_link(PHONE, "seeker@example.com")
    code = smtp.last_code("seeker@example.com")
    [row] = await codes_of(service, PHONE)

    assert code not in repr(row.model_dump())
    expected = hmac.new(
        b"test-secret", f"link-code\x00{row.id}\x00{PHONE}\x00{code}".encode(), hashlib.sha256
    ).hexdigest()
    assert row.code_hash == expected
    # Salted: the same code for another phone or another code id hashes differently.
    assert hash_code("test-secret", code_id=row.id, phone=OTHER_PHONE, code=code) != row.code_hash
    assert hash_code("test-secret", code_id="x" * 32, phone=PHONE, code=code) != row.code_hash
    assert hash_code("other-secret", code_id=row.id, phone=PHONE, code=code) != row.code_hash


async def test_comparison_is_constant_time(service, smtp, monkeypatch):
    calls = []
    real = hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(codes_module.hmac, "compare_digest", spy)
    await link(service, smtp, PHONE, "agent@example.com")
    assert len(calls) == 1


async def test_wrong_code_says_how_many_tries_are_left_then_burns_the_code(service, smtp):
    await service.start_link(PHONE, "agent@example.com")
    code = smtp.last_code("agent@example.com")
    for left in (4, 3, 2, 1):
        with pytest.raises(LinkingError) as err:
            await service.verify_code(PHONE, other_code(code))
        assert err.value.kind == "wrong_code"
        assert err.value.tries_left == left
        assert f"{left} tr" in err.value.user_message
    with pytest.raises(LinkingError) as err:
        await service.verify_code(PHONE, other_code(code))
    assert err.value.kind == "too_many_attempts"
    assert "new one" in err.value.user_message
    # Burned: even the right code no longer works.
    with pytest.raises(LinkingError) as err:
        await service.verify_code(PHONE, code)
    assert err.value.kind == "too_many_attempts"
    assert await service.identify(PHONE) is None


async def test_expired_code_is_refused_and_offers_a_new_one(service, smtp, clock):
    await service.start_link(PHONE, "seeker@example.com")
    code = smtp.last_code("seeker@example.com")
    clock.advance(minutes=5)
    with pytest.raises(LinkingError) as err:
        await service.verify_code(PHONE, code)
    assert err.value.kind == "expired"
    assert "new one" in err.value.user_message
    assert await service.identify(PHONE) is None


async def test_code_just_before_expiry_works(service, smtp, clock):
    await service.start_link(PHONE, "seeker@example.com")
    clock.advance(minutes=4, seconds=59)
    assert (await service.verify_code(PHONE, smtp.last_code("seeker@example.com")))["role"] == "seeker"


async def test_code_is_single_use(service, smtp):
    await link(service, smtp, PHONE, "seeker@example.com")
    with pytest.raises(LinkingError) as err:
        await service.verify_code(PHONE, smtp.last_code("seeker@example.com"))
    assert err.value.kind == "used"
    assert "already been used" in err.value.user_message


async def test_no_code_without_a_request(service):
    with pytest.raises(LinkingError) as err:
        await service.verify_code(PHONE, "123456")
    assert err.value.kind == "no_code"


async def test_a_new_code_replaces_the_previous_one(service, smtp):
    await service.start_link(PHONE, "seeker@example.com")
    first = smtp.last_code("seeker@example.com")
    await service.start_link(PHONE, "seeker@example.com")
    second = smtp.last_code("seeker@example.com")
    if first != second:
        with pytest.raises(LinkingError) as err:
            await service.verify_code(PHONE, first)
        assert err.value.kind == "wrong_code"
    assert (await service.verify_code(PHONE, second))["role"] == "seeker"


async def test_at_most_three_codes_per_phone_per_hour(service, smtp):
    for email in sorted(ACCOUNTS):
        await service.start_link(PHONE, email)
    with pytest.raises(LinkingError) as err:
        await service.start_link(PHONE, "seeker@example.com")
    assert err.value.kind == "rate_limited"
    assert len(smtp.messages) == 3
    # Another phone is not affected.
    await service.start_link(OTHER_PHONE, "nobody@example.com")


async def test_at_most_three_codes_per_email_per_hour(service, smtp):
    for phone in ("+2348000000001", "+2348000000002", "+2348000000003"):
        await service.start_link(phone, "agent@example.com")
    with pytest.raises(LinkingError) as err:
        await service.start_link("+2348000000004", "Agent@Example.com")
    assert err.value.kind == "rate_limited"
    assert len(smtp.to("agent@example.com")) == 3


async def test_rate_limit_keys_are_namespaced_and_hold_no_contact_details(service, redis_client):
    await service.start_link(PHONE, "seeker@example.com")
    keys = [k.decode() async for k in redis_client.scan_iter(match=f"{redis_client.test_prefix}:*")]
    assert len(keys) == 3  # per phone, per email, for everyone
    assert all(k.startswith(f"{redis_client.test_prefix}:link:") for k in keys)
    assert not any("2348012345621" in k or "seeker" in k for k in keys)
    assert all(0 < ttl <= 3600 for ttl in [await redis_client.ttl(k) for k in keys])


async def test_unknown_email_gets_the_same_answer_and_no_email(service, smtp, sleeps):
    known = await service.start_link(PHONE, "seeker@example.com")
    sleeps.calls.clear()
    unknown = await service.start_link(OTHER_PHONE, "stranger@example.com")

    assert unknown.keys() == known.keys()
    assert unknown == {"email": "s***@example.com", "expires_in": 300}
    assert smtp.to("stranger@example.com") == []
    # It waits about as long as a real send instead of answering instantly.
    assert len(sleeps.calls) == 1 and 0 < sleeps.calls[0] <= 5
    # Guessing codes answers exactly as for a real code.
    with pytest.raises(LinkingError) as err:
        await service.verify_code(OTHER_PHONE, "000000")
    assert (err.value.kind, err.value.tries_left) == ("wrong_code", 4)


async def test_invalid_email_is_refused(service, smtp):
    with pytest.raises(LinkingError) as err:
        await service.start_link(PHONE, "not an email")
    assert err.value.kind == "invalid_email"
    assert smtp.messages == []


async def test_relinking_an_email_from_a_second_phone_needs_the_code(service, smtp):
    await link(service, smtp, PHONE, "agent@example.com")

    await service.start_link(OTHER_PHONE, "agent@example.com")
    assert (await service.identify(PHONE))["role"] == "agent"  # nothing changes before the code
    with pytest.raises(LinkingError):
        await service.verify_code(OTHER_PHONE, other_code(smtp.last_code("agent@example.com")))
    assert (await service.identify(PHONE))["role"] == "agent"

    user = await service.verify_code(OTHER_PHONE, smtp.last_code("agent@example.com"))
    assert user["phone"] == OTHER_PHONE
    assert await service.identify(PHONE) is None
    assert [u.phone for u in await service.linked_users()] == [OTHER_PHONE]


async def test_unlink_and_demo_link(service):
    demo = await service.link_demo_user("2348011112222", ACCOUNTS["seeker@example.com"])
    assert demo["phone"] == "+2348011112222" and demo["role"] == "seeker"
    assert await service.identify("+2348011112222") == demo
    assert await service.unlink("+2348011112222") is True
    assert await service.identify("+2348011112222") is None
    assert await service.unlink("+2348011112222") is False


async def test_record_inbound_keeps_the_latest_time(service, clock):
    assert await service.last_inbound(PHONE) is None
    first = clock()
    await service.record_inbound(PHONE, "Sade", first)
    later = first.replace(hour=10)
    await service.record_inbound(PHONE, None, later)
    await service.record_inbound(PHONE, "Sade O.", first)  # a late webhook does not move it back
    assert await service.last_inbound(PHONE) == later
    row = await service.get_user(PHONE)
    assert row.profile_name == "Sade O." and not row.linked
    assert await service.identify(PHONE) is None
