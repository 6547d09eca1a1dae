"""A TL writer for the Telegram fixtures: objects serialised field by field, by hand.

Each builder writes one constructor exactly as the published TL schema line quoted above it says
(the layer files of Telegram's API schema; the Android-only forms as the app's TLRPC.java reads
them), so the blobs it makes are the ones Telegram for Android stores in ``cache4.db``. It does not
use the plugin's constructor table (``plugins/chat/_telegram_schema.py``) on purpose: a wrong
line there is caught by a blob written from the published line here.

Flag-only ``true`` fields are written as bits of the flags word, as TL does.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

VECTOR = 0x1CB5C415
BOOL_TRUE = 0x997275B5
BOOL_FALSE = 0xBC799737


def i32(value: int) -> bytes:
    return struct.pack("<i", value)


def u32(value: int) -> bytes:
    return struct.pack("<I", value & 0xFFFFFFFF)


def i64(value: int) -> bytes:
    return struct.pack("<q", value)


def f64(value: float) -> bytes:
    return struct.pack("<d", value)


def tl_bytes(data: bytes) -> bytes:
    """``bytes``: length in 1 byte (or 254 and 3 bytes), the data, zero padding to 4."""
    n = len(data)
    head = bytes([n]) if n <= 253 else b"\xfe" + n.to_bytes(3, "little")
    body = head + data
    return body + b"\0" * (-len(body) % 4)


def tl_str(text: str) -> bytes:
    return tl_bytes(text.encode("utf-8"))


def vector(items: Sequence[bytes]) -> bytes:
    return u32(VECTOR) + u32(len(items)) + b"".join(items)


def tl_bool(value: bool) -> bytes:
    return u32(BOOL_TRUE if value else BOOL_FALSE)


def bits(*present: tuple[int, object]) -> int:
    """A flags word: bit ``n`` set for each ``(n, value)`` whose value is not None/False."""
    word = 0
    for bit, value in present:
        if value is not None and value is not False:
            word |= 1 << bit
    return word


def attach_path(path: str = " ") -> bytes:
    """What Telegram Android appends after a stored message: its local attachment path (a space
    when none), from ``Message.writeAttachPath``; the plugin never reads it."""
    return tl_str(path)


# --- Peer ---------------------------------------------------------------------------------------
# peerUser#59511722 user_id:long = Peer;        (layers 133-)
# peerChat#36c6019a chat_id:long = Peer;
# peerChannel#a2a5371e channel_id:long = Peer;
# peerUser#9db1bc6d user_id:int = Peer;         (layers -132)
# peerChannel#bddde532 channel_id:int = Peer;


def peer_user(user_id: int) -> bytes:
    return u32(0x59511722) + i64(user_id)


def peer_chat(chat_id: int) -> bytes:
    return u32(0x36C6019A) + i64(chat_id)


def peer_channel(channel_id: int) -> bytes:
    return u32(0xA2A5371E) + i64(channel_id)


def peer_user_int(user_id: int) -> bytes:
    return u32(0x9DB1BC6D) + i32(user_id)


def peer_channel_int(channel_id: int) -> bytes:
    return u32(0xBDDDE532) + i32(channel_id)


# --- Message ------------------------------------------------------------------------------------


def message_l228(
    *,
    msg_id: int,
    peer: bytes,
    date: int,
    text: str,
    out: bool = False,
    from_id: bytes | None = None,
    fwd: bytes | None = None,
    reply: bytes | None = None,
    media: bytes | None = None,
    entities: Sequence[bytes] | None = None,
    views: int | None = None,
    edit_date: int | None = None,
) -> bytes:
    """message#7600b9d3 flags:# out:flags.1?true ... flags2:# ... id:int from_id:flags.8?Peer
    from_boosts_applied:flags.29?int from_rank:flags2.12?string peer_id:Peer saved_peer_id:flags.28?Peer
    fwd_from:flags.2?MessageFwdHeader via_bot_id:flags.11?long via_business_bot_id:flags2.0?long
    guestchat_via_from:flags2.19?Peer reply_to:flags.3?MessageReplyHeader date:int message:string
    media:flags.9?MessageMedia reply_markup:flags.6?ReplyMarkup entities:flags.7?Vector<MessageEntity>
    views:flags.10?int forwards:flags.10?int replies:flags.23?MessageReplies edit_date:flags.15?int ...
    = Message;  (layers 227-229)"""
    flags = bits(
        (1, out), (8, from_id), (2, fwd), (3, reply), (9, media), (7, entities), (10, views), (15, edit_date)
    )
    parts = [u32(0x7600B9D3), u32(flags), u32(0), i32(msg_id)]
    if from_id is not None:
        parts.append(from_id)
    parts.append(peer)
    if fwd is not None:
        parts.append(fwd)
    if reply is not None:
        parts.append(reply)
    parts += [i32(date), tl_str(text)]
    if media is not None:
        parts.append(media)
    if entities is not None:
        parts.append(vector(entities))
    if views is not None:
        parts += [i32(views), i32(0)]
    if edit_date is not None:
        parts.append(i32(edit_date))
    return b"".join(parts)


def message_l181(
    *,
    msg_id: int,
    peer: bytes,
    date: int,
    text: str,
    out: bool = False,
    from_id: bytes | None = None,
    fwd: bytes | None = None,
    reply: bytes | None = None,
    media: bytes | None = None,
) -> bytes:
    """message#94345242 flags:# ... flags2:# ... id:int from_id:flags.8?Peer
    from_boosts_applied:flags.29?int peer_id:Peer saved_peer_id:flags.28?Peer
    fwd_from:flags.2?MessageFwdHeader via_bot_id:flags.11?long via_business_bot_id:flags2.0?long
    reply_to:flags.3?MessageReplyHeader date:int message:string media:flags.9?MessageMedia ... = Message;
    (layers 181-195)"""
    flags = bits((1, out), (8, from_id), (2, fwd), (3, reply), (9, media))
    parts = [u32(0x94345242), u32(flags), u32(0), i32(msg_id)]
    if from_id is not None:
        parts.append(from_id)
    parts.append(peer)
    if fwd is not None:
        parts.append(fwd)
    if reply is not None:
        parts.append(reply)
    parts += [i32(date), tl_str(text)]
    if media is not None:
        parts.append(media)
    return b"".join(parts)


def message_l133(
    *,
    msg_id: int,
    peer: bytes,
    date: int,
    text: str,
    out: bool = False,
    from_id: bytes | None = None,
    fwd: bytes | None = None,
    via_bot_id: int | None = None,
    reply: bytes | None = None,
    media: bytes | None = None,
) -> bytes:
    """message#85d6cbe2 flags:# ... id:int from_id:flags.8?Peer peer_id:Peer
    fwd_from:flags.2?MessageFwdHeader via_bot_id:flags.11?long reply_to:flags.3?MessageReplyHeader
    date:int message:string media:flags.9?MessageMedia ... = Message;  (layers 133-135)"""
    flags = bits((1, out), (8, from_id), (2, fwd), (11, via_bot_id), (3, reply), (9, media))
    parts = [u32(0x85D6CBE2), u32(flags), i32(msg_id)]
    if from_id is not None:
        parts.append(from_id)
    parts.append(peer)
    if fwd is not None:
        parts.append(fwd)
    if via_bot_id is not None:
        parts.append(i64(via_bot_id))
    if reply is not None:
        parts.append(reply)
    parts += [i32(date), tl_str(text)]
    if media is not None:
        parts.append(media)
    return b"".join(parts)


def message_l73(
    *,
    msg_id: int,
    to_id: bytes,
    date: int,
    text: str,
    out: bool = False,
    from_id: int | None = None,
    fwd: bytes | None = None,
    reply_to_msg_id: int | None = None,
    media: bytes | None = None,
) -> bytes:
    """message#44f9b43d flags:# ... id:int from_id:flags.8?int to_id:Peer
    fwd_from:flags.2?MessageFwdHeader via_bot_id:flags.11?int reply_to_msg_id:flags.3?int date:int
    message:string media:flags.9?MessageMedia ... = Message;  (layers 73-104)"""
    flags = bits((1, out), (8, from_id), (2, fwd), (3, reply_to_msg_id), (9, media))
    parts = [u32(0x44F9B43D), u32(flags), i32(msg_id)]
    if from_id is not None:
        parts.append(i32(from_id))
    parts.append(to_id)
    if fwd is not None:
        parts.append(fwd)
    if reply_to_msg_id is not None:
        parts.append(i32(reply_to_msg_id))
    parts += [i32(date), tl_str(text)]
    if media is not None:
        parts.append(media)
    return b"".join(parts)


def message_android_old2(
    *, msg_id: int, from_id: int, to_id: bytes, date: int, text: str, media: bytes
) -> bytes:
    """Telegram Android's TL_message_old2 (0x567699b3, before layer 54): flags:# id:int from_id:int
    to_id:Peer date:int message:string media:MessageMedia (media always present)."""
    return b"".join(
        [u32(0x567699B3), u32(0x300), i32(msg_id), i32(from_id), to_id, i32(date), tl_str(text), media]
    )


def message_android_secret(
    *,
    msg_id: int,
    ttl: int,
    from_id: int,
    to_id: bytes,
    date: int,
    text: str,
    media: bytes,
    out: bool = False,
    reply_to_random_id: int | None = None,
) -> bytes:
    """Telegram Android's TL_message_secret (0x555555fa), a decrypted secret-chat message:
    flags:# id:int ttl:int from_id:int to_id:Peer date:int message:string media:MessageMedia
    entities:Vector<MessageEntity> via_bot_name:flags.11?string reply_to_random_id:flags.3?long
    grouped_id:flags.17?long."""
    flags = bits((1, out), (3, reply_to_random_id))
    parts = [u32(0x555555FA), u32(flags), i32(msg_id), i32(ttl), i32(from_id), to_id, i32(date), tl_str(text)]
    parts += [media, vector([])]
    if reply_to_random_id is not None:
        parts.append(i64(reply_to_random_id))
    return b"".join(parts)


def message_service_l228(
    *, msg_id: int, peer: bytes, date: int, action: bytes, out: bool = False, from_id: bytes | None = None
) -> bytes:
    """messageService#7a800e0a flags:# ... id:int from_id:flags.8?Peer peer_id:Peer
    saved_peer_id:flags.28?Peer reply_to:flags.3?MessageReplyHeader date:int action:MessageAction
    reactions:flags.20?MessageReactions ttl_period:flags.25?int = Message;  (layers 206-229)"""
    flags = bits((1, out), (8, from_id))
    parts = [u32(0x7A800E0A), u32(flags), i32(msg_id)]
    if from_id is not None:
        parts.append(from_id)
    parts += [peer, i32(date), action]
    return b"".join(parts)


def message_service_l124(*, msg_id: int, peer: bytes, date: int, action: bytes, out: bool = False) -> bytes:
    """messageService#2b085862 flags:# ... id:int from_id:flags.8?Peer peer_id:Peer
    reply_to:flags.3?MessageReplyHeader date:int action:MessageAction ttl_period:flags.25?int
    = Message;  (layers 124-195)"""
    return b"".join([u32(0x2B085862), u32(bits((1, out))), i32(msg_id), peer, i32(date), action])


def message_empty(*, msg_id: int, peer: bytes | None = None) -> bytes:
    """messageEmpty#90a6ca84 flags:# id:int peer_id:flags.0?Peer = Message;  (layers 123-)"""
    return u32(0x90A6CA84) + u32(bits((0, peer))) + i32(msg_id) + (peer or b"")


# --- headers ------------------------------------------------------------------------------------


def fwd_header_l170(*, date: int, from_id: bytes | None = None, from_name: str | None = None) -> bytes:
    """messageFwdHeader#4e4df4bb flags:# imported:flags.7?true saved_out:flags.11?true
    from_id:flags.0?Peer from_name:flags.5?string date:int channel_post:flags.2?int
    post_author:flags.3?string saved_from_peer:flags.4?Peer saved_from_msg_id:flags.4?int
    saved_from_id:flags.8?Peer saved_from_name:flags.9?string saved_date:flags.10?int
    psa_type:flags.6?string = MessageFwdHeader;  (layers 170-)"""
    parts = [u32(0x4E4DF4BB), u32(bits((0, from_id), (5, from_name)))]
    if from_id is not None:
        parts.append(from_id)
    if from_name is not None:
        parts.append(tl_str(from_name))
    parts.append(i32(date))
    return b"".join(parts)


def fwd_header_l119(*, date: int, from_id: bytes, channel_post: int | None = None) -> bytes:
    """messageFwdHeader#5f777dce flags:# imported:flags.7?true from_id:flags.0?Peer
    from_name:flags.5?string date:int channel_post:flags.2?int post_author:flags.3?string
    saved_from_peer:flags.4?Peer saved_from_msg_id:flags.4?int psa_type:flags.6?string
    = MessageFwdHeader;  (layers 119-169)"""
    parts = [u32(0x5F777DCE), u32(bits((0, from_id), (2, channel_post))), from_id, i32(date)]
    if channel_post is not None:
        parts.append(i32(channel_post))
    return b"".join(parts)


def fwd_header_l97(*, date: int, channel_id: int, channel_post: int) -> bytes:
    """messageFwdHeader#ec338270 flags:# from_id:flags.0?int from_name:flags.5?string date:int
    channel_id:flags.1?int channel_post:flags.2?int post_author:flags.3?string
    saved_from_peer:flags.4?Peer saved_from_msg_id:flags.4?int = MessageFwdHeader;  (layers 97-112)"""
    return (
        u32(0xEC338270)
        + u32(bits((1, channel_id), (2, channel_post)))
        + i32(date)
        + i32(channel_id)
        + i32(channel_post)
    )


def reply_header_l167(
    *,
    reply_to_msg_id: int | None = None,
    reply_to_peer_id: bytes | None = None,
    reply_media: bytes | None = None,
    quote_text: str | None = None,
    quote_entities: Sequence[bytes] | None = None,
) -> bytes:
    """messageReplyHeader#afbc09db flags:# reply_to_scheduled:flags.2?true forum_topic:flags.3?true
    quote:flags.9?true reply_to_msg_id:flags.4?int reply_to_peer_id:flags.0?Peer
    reply_from:flags.5?MessageFwdHeader reply_media:flags.8?MessageMedia reply_to_top_id:flags.1?int
    quote_text:flags.6?string quote_entities:flags.7?Vector<MessageEntity> quote_offset:flags.10?int
    = MessageReplyHeader;  (layers 167-227)"""
    flags = bits(
        (4, reply_to_msg_id), (0, reply_to_peer_id), (8, reply_media), (6, quote_text), (7, quote_entities)
    )
    parts = [u32(0xAFBC09DB), u32(flags)]
    if reply_to_msg_id is not None:
        parts.append(i32(reply_to_msg_id))
    if reply_to_peer_id is not None:
        parts.append(reply_to_peer_id)
    if reply_media is not None:
        parts.append(reply_media)
    if quote_text is not None:
        parts.append(tl_str(quote_text))
    if quote_entities is not None:
        parts.append(vector(quote_entities))
    return b"".join(parts)


def reply_header_l119(*, reply_to_msg_id: int) -> bytes:
    """messageReplyHeader#a6d57763 flags:# reply_to_msg_id:int reply_to_peer_id:flags.0?Peer
    reply_to_top_id:flags.1?int = MessageReplyHeader;  (layers 119-165)"""
    return u32(0xA6D57763) + u32(0) + i32(reply_to_msg_id)


def entity_bold(offset: int, length: int) -> bytes:
    """messageEntityBold#bd610bc9 offset:int length:int = MessageEntity;"""
    return u32(0xBD610BC9) + i32(offset) + i32(length)


def entity_text_url(offset: int, length: int, url: str) -> bytes:
    """messageEntityTextUrl#76a6d327 offset:int length:int url:string = MessageEntity;"""
    return u32(0x76A6D327) + i32(offset) + i32(length) + tl_str(url)


# --- media --------------------------------------------------------------------------------------


def geo_point(lat: float, long: float, accuracy: int | None = None) -> bytes:
    """geoPoint#b2a2f663 flags:# long:double lat:double access_hash:long
    accuracy_radius:flags.0?int = GeoPoint;  (layers 120-) -- longitude first"""
    body = u32(0xB2A2F663) + u32(bits((0, accuracy))) + f64(long) + f64(lat) + i64(0x1234)
    return body + (i32(accuracy) if accuracy is not None else b"")


def geo_point_l54(lat: float, long: float) -> bytes:
    """geoPoint#2049d70c long:double lat:double = GeoPoint;  (layers 54-81)"""
    return u32(0x2049D70C) + f64(long) + f64(lat)


def media_geo(point: bytes) -> bytes:
    """messageMediaGeo#56e0d474 geo:GeoPoint = MessageMedia;"""
    return u32(0x56E0D474) + point


def media_venue(point: bytes, title: str, address: str) -> bytes:
    """messageMediaVenue#2ec0533f geo:GeoPoint title:string address:string provider:string
    venue_id:string venue_type:string = MessageMedia;"""
    return (
        u32(0x2EC0533F)
        + point
        + tl_str(title)
        + tl_str(address)
        + tl_str("foursquare")
        + tl_str("4b0")
        + tl_str("")
    )


def media_geo_live(point: bytes, period: int) -> bytes:
    """messageMediaGeoLive#b940c666 flags:# geo:GeoPoint heading:flags.0?int period:int
    proximity_notification_radius:flags.1?int = MessageMedia;"""
    return u32(0xB940C666) + u32(0) + point + i32(period)


def media_contact(phone: str, first: str, last: str, user_id: int) -> bytes:
    """messageMediaContact#70322949 phone_number:string first_name:string last_name:string
    vcard:string user_id:long = MessageMedia;  (layers 133-)"""
    return u32(0x70322949) + tl_str(phone) + tl_str(first) + tl_str(last) + tl_str("") + i64(user_id)


def photo_size(kind: str, w: int, h: int, size: int) -> bytes:
    """photoSize#75c78e60 type:string w:int h:int size:int = PhotoSize;"""
    return u32(0x75C78E60) + tl_str(kind) + i32(w) + i32(h) + i32(size)


def photo_stripped(data: bytes) -> bytes:
    """photoStrippedSize#e0b0bc2e type:string bytes:bytes = PhotoSize;"""
    return u32(0xE0B0BC2E) + tl_str("i") + tl_bytes(data)


def photo(photo_id: int, date: int) -> bytes:
    """photo#fb197a65 flags:# has_stickers:flags.0?true id:long access_hash:long file_reference:bytes
    date:int sizes:Vector<PhotoSize> video_sizes:flags.1?Vector<VideoSize> dc_id:int = Photo;"""
    sizes = vector([photo_stripped(b"\x01\x28\x1e" + b"\x00" * 40), photo_size("x", 800, 600, 51234)])
    return (
        u32(0xFB197A65) + u32(0) + i64(photo_id) + i64(99) + tl_bytes(b"\x02ref") + i32(date) + sizes + i32(4)
    )


def media_photo(photo_obj: bytes) -> bytes:
    """messageMediaPhoto#695150d7 flags:# spoiler:flags.3?true photo:flags.0?Photo
    ttl_seconds:flags.2?int = MessageMedia;  (layers 75-223)"""
    return u32(0x695150D7) + u32(1) + photo_obj


def media_photo_l70(photo_obj: bytes, caption: str) -> bytes:
    """messageMediaPhoto#b5223b0f flags:# photo:flags.0?Photo caption:flags.1?string
    ttl_seconds:flags.2?int = MessageMedia;  (layers 70-74)"""
    return u32(0xB5223B0F) + u32(0b11) + photo_obj + tl_str(caption)


def attr_filename(name: str) -> bytes:
    """documentAttributeFilename#15590068 file_name:string = DocumentAttribute;"""
    return u32(0x15590068) + tl_str(name)


def attr_audio(
    duration: int, voice: bool = False, title: str | None = None, performer: str | None = None
) -> bytes:
    """documentAttributeAudio#9852f9c6 flags:# voice:flags.10?true duration:int title:flags.0?string
    performer:flags.1?string waveform:flags.2?bytes = DocumentAttribute;"""
    flags = bits((10, voice), (0, title), (1, performer), (2, voice))
    body = u32(0x9852F9C6) + u32(flags) + i32(duration)
    body += tl_str(title) if title is not None else b""
    body += tl_str(performer) if performer is not None else b""
    return body + (tl_bytes(b"\x00\x11\x22\x33" * 8) if voice else b"")


def attr_video(duration: float, w: int, h: int, round_message: bool = False) -> bytes:
    """documentAttributeVideo#43c57c48 flags:# round_message:flags.0?true supports_streaming:flags.1?true
    nosound:flags.3?true duration:double w:int h:int preload_prefix_size:flags.2?int
    video_start_ts:flags.4?double video_codec:flags.5?string = DocumentAttribute;"""
    return u32(0x43C57C48) + u32(bits((0, round_message), (1, True))) + f64(duration) + i32(w) + i32(h)


def document(
    doc_id: int, date: int, mime: str, size: int, attributes: Sequence[bytes], thumb: bool = True
) -> bytes:
    """document#8fd4c4d8 flags:# id:long access_hash:long file_reference:bytes date:int mime_type:string
    size:long thumbs:flags.0?Vector<PhotoSize> video_thumbs:flags.1?Vector<VideoSize> dc_id:int
    attributes:Vector<DocumentAttribute> = Document;  (layers 143-)"""
    parts = [
        u32(0x8FD4C4D8),
        u32(bits((0, thumb))),
        i64(doc_id),
        i64(7),
        tl_bytes(b"ref"),
        i32(date),
        tl_str(mime),
    ]
    parts.append(i64(size))
    if thumb:
        parts.append(vector([photo_size("m", 320, 240, 9000)]))
    parts += [i32(2), vector(list(attributes))]
    return b"".join(parts)


def media_document(
    doc: bytes, *, voice: bool = False, video: bool = False, round_video: bool = False
) -> bytes:
    """messageMediaDocument#52d8ccd9 flags:# nopremium:flags.3?true spoiler:flags.4?true
    video:flags.6?true round:flags.7?true voice:flags.8?true document:flags.0?Document
    alt_documents:flags.5?Vector<Document> video_cover:flags.9?Photo video_timestamp:flags.10?int
    ttl_seconds:flags.2?int = MessageMedia;  (layers 196-)"""
    return u32(0x52D8CCD9) + u32(bits((0, True), (6, video), (7, round_video), (8, voice))) + doc


def web_page(url: str, title: str) -> bytes:
    """webPage#e89c45b2 flags:# ... id:long url:string display_url:string hash:int type:flags.0?string
    site_name:flags.1?string title:flags.2?string description:flags.3?string photo:flags.4?Photo ...
    cached_page:flags.10?Page attributes:flags.12?Vector<WebPageAttribute> = WebPage;"""
    flags = bits((1, True), (2, True), (3, True))
    body = u32(0xE89C45B2) + u32(flags) + i64(5) + tl_str(url) + tl_str(url.split("//")[-1]) + i32(0)
    return body + tl_str("Example") + tl_str(title) + tl_str("A page")


def media_web_page(page: bytes) -> bytes:
    """messageMediaWebPage#ddf10c3b flags:# force_large_media:flags.0?true force_small_media:flags.1?true
    manual:flags.3?true safe:flags.4?true webpage:WebPage = MessageMedia;  (layers 166-)"""
    return u32(0xDDF10C3B) + u32(0) + page


def media_empty() -> bytes:
    """messageMediaEmpty#3ded6320 = MessageMedia;"""
    return u32(0x3DED6320)


# --- actions ------------------------------------------------------------------------------------

REASON_MISSED = 0x85E42301  # phoneCallDiscardReasonMissed#85e42301
REASON_HANGUP = 0x57ADC690  # phoneCallDiscardReasonHangup#57adc690
REASON_BUSY = 0xFAF7E8C9  # phoneCallDiscardReasonBusy#faf7e8c9


def action_phone_call(
    call_id: int, *, reason: int | None, duration: int | None, video: bool = False
) -> bytes:
    """messageActionPhoneCall#80e11a7f flags:# video:flags.2?true call_id:long
    reason:flags.0?PhoneCallDiscardReason duration:flags.1?int = MessageAction;"""
    body = u32(0x80E11A7F) + u32(bits((2, video), (0, reason), (1, duration))) + i64(call_id)
    body += u32(reason) if reason is not None else b""
    return body + (i32(duration) if duration is not None else b"")


def action_chat_edit_title(title: str) -> bytes:
    """messageActionChatEditTitle#b5a1ce5a title:string = MessageAction;"""
    return u32(0xB5A1CE5A) + tl_str(title)


def action_chat_add_user(user_ids: Sequence[int]) -> bytes:
    """messageActionChatAddUser#15cefd00 users:Vector<long> = MessageAction;"""
    return u32(0x15CEFD00) + vector([i64(u) for u in user_ids])


# --- users and chats ----------------------------------------------------------------------------

SELF, CONTACT, MUTUAL, DELETED, BOT = 10, 11, 12, 13, 14


def user_l228(
    user_id: int,
    *,
    first: str | None = None,
    last: str | None = None,
    username: str | None = None,
    phone: str | None = None,
    flag_bits: Sequence[int] = (),
) -> bytes:
    """user#b1b8cc83 flags:# self:flags.10?true contact:flags.11?true mutual_contact:flags.12?true
    deleted:flags.13?true bot:flags.14?true ... flags2:# ... id:long access_hash:flags.0?long
    first_name:flags.1?string last_name:flags.2?string username:flags.3?string phone:flags.4?string
    photo:flags.5?UserProfilePhoto status:flags.6?UserStatus ... = User;  (layer 228-)"""
    flags = bits((0, True), (1, first), (2, last), (3, username), (4, phone), (6, True))
    for b in flag_bits:
        flags |= 1 << b
    parts = [u32(0xB1B8CC83), u32(flags), u32(0), i64(user_id), i64(0x55)]
    parts += [tl_str(v) for v in (first, last, username, phone) if v is not None]
    parts.append(u32(0x008C703F) + i32(1700000000))  # userStatusOffline#8c703f was_online:int
    return b"".join(parts)


def user_l133(user_id: int, *, first: str, phone: str | None = None) -> bytes:
    """user#3ff6ecb0 flags:# ... id:long access_hash:flags.0?long first_name:flags.1?string
    last_name:flags.2?string username:flags.3?string phone:flags.4?string ... = User;  (layers 133-144)"""
    flags = bits((1, first), (4, phone))
    return u32(0x3FF6ECB0) + u32(flags) + i64(user_id) + tl_str(first) + (tl_str(phone) if phone else b"")


def user_l66(user_id: int, *, first: str, last: str) -> bytes:
    """user#2e13f4c3 flags:# ... id:int access_hash:flags.0?long first_name:flags.1?string
    last_name:flags.2?string username:flags.3?string phone:flags.4?string ... = User;  (layers 66-104)"""
    return u32(0x2E13F4C3) + u32(bits((1, first), (2, last))) + i32(user_id) + tl_str(first) + tl_str(last)


def chat_l133(chat_id: int, title: str) -> bytes:
    """chat#41cbf256 flags:# ... id:long title:string photo:ChatPhoto participants_count:int ...
    = Chat;  (layers 133-)"""
    return u32(0x41CBF256) + u32(0) + i64(chat_id) + tl_str(title) + u32(0x37C1011C)  # chatPhotoEmpty


def channel_l228(channel_id: int, title: str, username: str | None = None) -> bytes:
    """channel#d49f34c6 flags:# ... flags2:# id:long access_hash:flags.13?long title:string
    username:flags.6?string photo:ChatPhoto date:int ... = Chat;  (layer 228-)"""
    flags = bits((13, True), (6, username), (5, True))  # bit 5: broadcast
    body = u32(0xD49F34C6) + u32(flags) + u32(0) + i64(channel_id) + i64(0x77) + tl_str(title)
    return body + (tl_str(username) if username else b"") + u32(0x37C1011C) + i32(1600000000)
