"""The bounded TL reader behind the Telegram plugin: hostile bytes never raise, hang or blow up.

Valid blobs come from ``tests/plugins/telegram_tl_writer.py`` (written from the published TL
schema lines); hostile ones from Hypothesis, from seeded mutations of valid ones, and by hand.
"""

from __future__ import annotations

import random
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plugins.chat._telegram_tl import (
    MAX_DEPTH,
    Malformed,
    Schema,
    Truncated,
    UnknownConstructor,
    decode,
)
from plugins.chat.telegram_android import SCHEMA, _message_view
from tests.plugins import telegram_tl_writer as w

TYPES = ("Message", "User", "Chat", "MessageMedia", "Peer")

# Every constructor Telegram Android's own Message.TLdeserialize switch accepts (TLRPC.java, app 9.1)
# plus those of the published layers after it: a stored message names one of these.
ANDROID_MESSAGE_IDS = (
    0x83E5DE54, 0x85D6CBE2, 0x90A6CA84, 0x90DDDC11, 0x9789DAC4, 0x9E19A1F6, 0x9F8D60BB, 0xA367E716,
    0xA7AB1991, 0xBCE383D2, 0xC06B9607, 0xC09BE45F, 0xC3060325, 0xC992E15C, 0xF07814C8, 0xF52E6B7F,
    0x05F46804, 0x1C9B1027, 0x1D86F70E, 0x22EB6ABA, 0x286FA604, 0x2B085862, 0x2BEBFA86, 0x38116EE0,
    0x44F9B43D, 0x452C0E65, 0x555555F8, 0x555555F9, 0x555555FA, 0x567699B3, 0x58AE39C9, 0x5BA66C13,
)  # fmt: skip
LATER_MESSAGE_IDS = (
    0x76BEC211, 0x1E4C8A69, 0xA66C7EFC, 0x2357BF25, 0x94345242, 0x96FDBBE9, 0xEABCDD4D, 0x9815CEC8,
    0xB92F76CF, 0x9CB490E9, 0x3AE56482, 0x95EF6F2B, 0x7600B9D3, 0xD3D28540, 0x7A800E0A,
)  # fmt: skip


def valid_blobs() -> list[bytes]:
    bob = w.peer_user(1002)
    doc = w.document(5, 1, "audio/ogg", 12345, [w.attr_audio(7, voice=True), w.attr_filename("a.ogg")])
    return [
        w.message_l228(
            msg_id=1,
            peer=bob,
            from_id=bob,
            date=1,
            text="hello",
            entities=[w.entity_text_url(0, 5, "https://a.b")],
        ),
        w.message_l228(
            msg_id=2,
            peer=bob,
            date=1,
            text="quote",
            reply=w.reply_header_l167(
                reply_to_msg_id=1, quote_text="hel", quote_entities=[w.entity_bold(0, 3)]
            ),
            media=w.media_document(doc, voice=True),
        ),
        w.message_l181(
            msg_id=3, peer=bob, date=1, text="geo", media=w.media_geo_live(w.geo_point(1.5, 2.5), 900)
        ),
        w.message_l133(
            msg_id=4, peer=bob, date=1, text="photo", media=w.media_photo(w.photo(9, 1)), via_bot_id=5
        ),
        w.message_l73(
            msg_id=5,
            to_id=w.peer_user_int(1),
            date=1,
            text="old",
            media=w.media_geo(w.geo_point_l54(3.0, 4.0)),
        ),
        w.message_service_l228(
            msg_id=6, peer=w.peer_chat(7), date=1, action=w.action_chat_add_user([1, 2, 3])
        ),
        w.message_android_secret(
            msg_id=-1, ttl=5, from_id=1, to_id=bob, date=1, text="s", media=w.media_empty()
        ),
        w.user_l228(1, first="A", last="B", username="ab", phone="1"),
        w.channel_l228(3, "C", "c"),
    ]


@settings(max_examples=400, deadline=1000, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=4096), expected=st.sampled_from(TYPES))
def test_arbitrary_bytes_never_raise(data: bytes, expected: str) -> None:
    result = decode(data, expected, SCHEMA)
    assert result.read <= len(data)
    if result.obj is not None:
        _message_view(result.obj)  # the plugin's mapping copes with whatever was read


@settings(max_examples=300, deadline=1000)
@given(body=st.binary(max_size=2048), cid=st.sampled_from(sorted(SCHEMA.by_id)))
def test_a_known_constructor_followed_by_noise_never_raises(body: bytes, cid: int) -> None:
    """Noise after a real constructor id goes much deeper into the table than random bytes do."""
    con = SCHEMA.by_id[cid]
    result = decode(w.u32(cid) + body, con.type, SCHEMA)
    assert result.constructor is con
    _message_view(result.obj or {})


def test_seeded_mutations_of_valid_blobs_never_raise_and_stay_fast() -> None:
    rng = random.Random(20240611)
    blobs = valid_blobs()
    slowest = 0.0
    for i in range(3000):
        blob = bytearray(rng.choice(blobs))
        for _ in range(rng.randint(1, 6)):
            if not blob:
                break
            op = rng.random()
            pos = rng.randrange(len(blob))
            if op < 0.5:
                blob[pos] = rng.randrange(256)
            elif op < 0.7:
                del blob[pos:]
            elif op < 0.85:
                blob[pos:pos] = rng.randbytes(rng.randint(1, 16))
            else:  # a length or count set huge
                blob[pos : pos + 4] = b"\xfe\xff\xff\xff"
        start = time.thread_time()  # the work's CPU, not a loaded machine's stalls
        result = decode(bytes(blob), "Message", SCHEMA)
        slowest = max(slowest, time.thread_time() - start)
        _message_view(result.obj or {})
        assert result.read <= len(blob), i
    assert slowest < 0.5


def test_valid_blobs_decode_whole() -> None:
    for blob in valid_blobs():
        expected = SCHEMA.by_id[int.from_bytes(blob[:4], "little")].type
        result = decode(blob, expected, SCHEMA)
        assert result.error is None, result.error
        assert result.constructor is not None


def test_unknown_constructor_keeps_what_was_read() -> None:
    blob = w.message_l228(msg_id=8, peer=w.peer_user(1), date=1, text="kept", media=w.u32(0xDEADBEEF))
    result = decode(blob, "Message", SCHEMA, root="message")
    assert isinstance(result.error, UnknownConstructor)
    assert result.error.cid == 0xDEADBEEF and result.error.where == "message.media"
    assert result.obj is not None and result.obj["message"] == "kept" and result.obj["id"] == 8
    top = decode(w.u32(0xDEADBEEF), "Message", SCHEMA)
    assert top.obj is None and isinstance(top.error, UnknownConstructor) and top.constructor is None


def test_lengths_are_checked_before_anything_is_sliced() -> None:
    huge_string = w.u32(0xB5A1CE5A) + b"\xfe\xff\xff\x7f" + b"x" * 16  # chatEditTitle, 8 MB title claimed
    result = decode(huge_string, "MessageAction", SCHEMA)
    assert isinstance(result.error, Truncated) and "8388607 byte(s) needed" in str(result.error)
    bad_length = w.u32(0xB5A1CE5A) + b"\xff" + b"\0" * 7
    assert isinstance(decode(bad_length, "MessageAction", SCHEMA).error, Malformed)
    chat_create = w.u32(0xBD47CBAD) + w.tl_str("group")  # messageActionChatCreate title users:Vector<long>
    huge_vector = chat_create + w.u32(w.VECTOR) + w.u32(0xFFFFFFFF) + b"\0" * 32
    start = time.thread_time()
    result = decode(huge_vector, "MessageAction", SCHEMA)
    assert isinstance(result.error, Malformed) and "4294967295 elements" in str(result.error)
    assert time.thread_time() - start < 0.1
    not_vector = chat_create + w.u32(0x12345678) + w.u32(1) + w.i64(5)
    assert isinstance(decode(not_vector, "MessageAction", SCHEMA).error, Malformed)
    bad_bool = w.u32(0x22EB6ABA) + w.i32(1) + w.i32(2) + w.peer_user_int(3) + w.u32(0x11111111)  # out:Bool
    assert "is not a Bool" in str(decode(bad_bool, "Message", SCHEMA).error)
    wrong_type = w.peer_user(5)  # a Peer where a Message belongs
    assert "is a Peer, not a Message" in str(decode(wrong_type, "Message", SCHEMA).error)


def test_the_byte_budget_bounds_what_is_read() -> None:
    blob = w.message_l228(msg_id=1, peer=w.peer_user(1), date=1, text="y" * 5000)
    assert decode(blob, "Message", SCHEMA).error is None
    result = decode(blob, "Message", SCHEMA, max_bytes=1024)
    assert isinstance(result.error, Truncated) and "byte budget" in str(result.error)
    assert result.read <= 1024


def test_nesting_is_bounded_without_recursion_errors() -> None:
    toy = Schema("node#1 next:Node = Node;\nleaf#2 = Node;\nlist#3 items:Vector<Node> = Node;")
    deep = w.u32(1) * 100_000 + w.u32(2)
    result = decode(deep, "Node", toy)
    assert isinstance(result.error, Malformed) and f"deeper than {MAX_DEPTH}" in str(result.error)
    lists = (w.u32(3) + w.u32(w.VECTOR) + w.u32(1)) * 50_000 + w.u32(2)
    assert isinstance(decode(lists, "Node", toy).error, Malformed)
    shallow = w.u32(1) * 5 + w.u32(2)
    assert decode(shallow, "Node", toy).error is None


def test_the_table_holds_every_layer_and_android_form() -> None:
    for cid in (*ANDROID_MESSAGE_IDS, *LATER_MESSAGE_IDS):
        assert SCHEMA.by_id[cid].type == "Message", hex(cid)
    types = {c.type for c in SCHEMA}
    for con in SCHEMA:
        assert con.layers, con.name  # every line says where it comes from
        for p in con.params:
            if p.kind in ("object", "vector") and p.type not in ("int", "long", "string", "bytes", "double"):
                assert p.type in types, (con.name, p.name, p.type)
    # the current layer's own lines, as published (fields after the attachment are not listed)
    message = SCHEMA.by_id[0x7600B9D3]
    names = [p.name for p in message.params]
    assert names[:3] == ["flags", "flags2", "id"] and names[-3:] == ["date", "message", "media"]
    assert message.prefix and message.layers == "227-228"


def test_schema_lines_are_checked() -> None:
    with pytest.raises(ValueError, match="listed twice"):
        Schema("a#1 = A;\nb#1 = A;")
    with pytest.raises(ValueError, match="not a TL constructor line"):
        Schema("a = A;")


def test_objects_serialised_by_telethon_decode_alike() -> None:
    """An independent writer as oracle: Telethon (MIT) serialises layer-229 objects from its own
    generated tables. A test dependency only (the ``dev`` extra pins the release of layer 229);
    skipped where it is not installed."""
    types = pytest.importorskip("telethon.tl.types")
    date = 1704164645
    doc = types.Document(
        id=5, access_hash=6, file_reference=b"r", date=date, mime_type="video/mp4", size=10**10, dc_id=2,
        attributes=[
            types.DocumentAttributeVideo(duration=3.5, w=640, h=480, round_message=True, video_codec="h264"),
            types.DocumentAttributeFilename(file_name="clip.mp4"),
        ],
        thumbs=[types.PhotoStrippedSize(type="i", bytes=b"xyz"), types.PhotoSizeProgressive(type="y", w=1, h=2, sizes=[1, 2])],
        video_thumbs=[types.VideoSizeEmojiMarkup(emoji_id=7, background_colors=[1, 2])],
    )  # fmt: skip
    message = types.Message(
        id=42, peer_id=types.PeerChannel(99), date=date, message="hello world", out=True,
        from_id=types.PeerUser(7), from_boosts_applied=3, from_rank="admin", saved_peer_id=types.PeerChat(5),
        fwd_from=types.MessageFwdHeader(date=date, from_id=types.PeerUser(8), from_name="F", saved_date=date),
        via_bot_id=11, via_business_bot_id=12, guestchat_via_from=types.PeerUser(13),
        reply_to=types.MessageReplyHeader(
            reply_to_msg_id=41, reply_to_peer_id=types.PeerUser(9), reply_from=types.MessageFwdHeader(date=date, from_name="q"),
            reply_media=types.MessageMediaDocument(document=doc, video=True, ttl_seconds=5), quote_text="hel",
            quote_entities=[types.MessageEntityBold(0, 3), types.MessageEntityCustomEmoji(0, 1, document_id=5)],
            quote_offset=1, poll_option=b"p",
        ),
        media=types.MessageMediaVenue(
            geo=types.GeoPoint(long=-0.1, lat=51.5, access_hash=1, accuracy_radius=3),
            title="t", address="a", provider="p", venue_id="v", venue_type="vt",
        ),
        entities=[types.MessageEntityUrl(0, 5)], views=4, forwards=5,
    )  # fmt: skip
    view = _message_view(decode(bytes(message), "Message", SCHEMA).obj or {})
    assert view["body"] == "hello world" and view["from"] == ("user", 7) and view["peer"] == ("channel", 99)
    assert (view["fwd_from"], view["fwd_from_name"], view["fwd_date"]) == (("user", 8), "F", date)
    assert (view["reply_to_msg_id"], view["reply_to_peer"], view["via_bot_id"]) == (41, ("user", 9), 11)
    assert view["media"] == {"kind": "venue", "lat": 51.5, "long": -0.1, "title": "t", "address": "a"}
    call = types.MessageService(
        id=43, peer_id=types.PeerUser(5), date=date, out=True,
        action=types.MessageActionPhoneCall(call_id=77, reason=types.PhoneCallDiscardReasonBusy(), video=True),
        reply_to=types.MessageReplyStoryHeader(peer=types.PeerUser(3), story_id=4),
    )  # fmt: skip
    assert _message_view(decode(bytes(call), "Message", SCHEMA).obj or {})["call"] == {
        "call_id": 77, "duration": None, "video": True, "reason": "busy",
    }  # fmt: skip
    user = types.User(
        id=5, is_self=True, first_name="F", last_name="L", username="un", phone="1", access_hash=1
    )
    decoded = decode(bytes(user), "User", SCHEMA).obj or {}
    assert (decoded["id"], decoded["first_name"], decoded["username"], decoded["phone"]) == (
        5,
        "F",
        "un",
        "1",
    )


def test_text_that_is_not_utf8_is_kept_visible_and_said() -> None:
    """Review: a string whose bytes are not UTF-8 was shown with ``\\x`` escapes and nothing
    said, so the stored bytes ``ff fe`` and a message typed as the six characters ``\\xff\\xfe``
    read the same. The escapes stay (nothing is dropped), and the field is named."""
    good = w.message_l228(msg_id=1, peer=w.peer_user(1), date=1, text="\\xff\\xfe")
    marker = b"MARKER"
    bad = w.message_l228(msg_id=2, peer=w.peer_user(1), date=1, text="MARKER")
    bad = bad.replace(w.tl_bytes(marker), w.tl_bytes(b"\xff\xfe\\x"))
    typed, stored = (
        decode(good, "Message", SCHEMA, root="message"),
        decode(bad, "Message", SCHEMA, root="message"),
    )
    assert typed.obj is not None and stored.obj is not None
    assert typed.bad_text == () and stored.bad_text == ("message.message",)
    assert _message_view(stored.obj)["body"] == "\\xff\\xfe\\x"  # the bytes, visible
