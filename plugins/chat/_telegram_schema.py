"""The TL constructors Telegram Android's ``cache4.db`` blobs are read with: data, no code.

Each line is a constructor in the notation of Telegram's published TL schema
(``name#id field:type ... = Type;``), followed by ``// first-last``, the layers whose published
schema file holds that constructor id. They were taken from the schema files of layers 54 to 228
as kept in the history of two open-source clients (Telethon's ``telethon_generator/data/api.tl``,
layers 54-190; gotd/td's ``_schema/telegram.tl``, layers 128-228) and the two layer-229 action
constructors of Telethon 1.45.0. Ranges only cover the layer files found (some layers are missing,
none before 54), so a constructor may be older or newer than its range says.

What is kept, and how lines were shortened from the published ones:

- Only the result types the plugin needs: ``Message`` (the stored message), ``MessageMedia`` and
  ``MessageAction`` (the kind of attachment or service event), ``Peer``, ``MessageFwdHeader``,
  ``MessageReplyHeader``, ``MessageEntity``, ``GeoPoint``, ``WebPage``, ``Photo``, ``PhotoSize``,
  ``FileLocation``, ``VideoSize``, ``Document``, ``DocumentAttribute``, ``InputStickerSet``,
  ``MaskCoords``, ``PhoneCallDiscardReason``, ``User``, ``Chat`` and ``Bool``.
- ``name:flags.N?true`` fields are left out: they take no bytes (the code reads the bits it uses,
  such as ``out`` = bit 1, from the flags word).
- A line ends with ``...`` at the first field of a type not listed above (a ``Message`` at its
  reply markup, a ``User`` at its photo): reading stops there, which is safe because nothing after
  it is needed. Every ``MessageAction`` is cut right after its id except phone calls and chat titles.
- The block after the published ones lists Telegram Android's own constructors (``TLRPC.java``):
  message forms of layers before 54 that the app still reads from its cache, its internal betas of
  later layers, and what it stores for secret-chat messages and files. Their fields were read from
  the app's deserialisers (``readParams``), for the facts only.

A constructor id names exactly one layout (it is a checksum of the definition), which is why one
table serves every layer: a blob names its own constructor.
"""

from __future__ import annotations

__all__ = ["SCHEMA"]

SCHEMA = """
// --- Message
message#c09be45f flags:# id:int from_id:flags.8?int to_id:Peer fwd_from:flags.2?MessageFwdHeader via_bot_id:flags.11?int reply_to_msg_id:flags.3?int date:int message:string media:flags.9?MessageMedia ... = Message;  // 54-68
messageEmpty#83e5de54 id:int = Message;  // 54-122
messageService#9e19a1f6 flags:# id:int from_id:flags.8?int to_id:Peer reply_to_msg_id:flags.3?int date:int action:MessageAction = Message;  // 54-117
message#90dddc11 flags:# id:int from_id:flags.8?int to_id:Peer fwd_from:flags.2?MessageFwdHeader via_bot_id:flags.11?int reply_to_msg_id:flags.3?int date:int message:string media:flags.9?MessageMedia ... = Message;  // 70-72
message#44f9b43d flags:# id:int from_id:flags.8?int to_id:Peer fwd_from:flags.2?MessageFwdHeader via_bot_id:flags.11?int reply_to_msg_id:flags.3?int date:int message:string media:flags.9?MessageMedia ... = Message;  // 73-104
message#452c0e65 flags:# id:int from_id:flags.8?int to_id:Peer fwd_from:flags.2?MessageFwdHeader via_bot_id:flags.11?int reply_to_msg_id:flags.3?int date:int message:string media:flags.9?MessageMedia ... = Message;  // 105-117
message#58ae39c9 flags:# id:int from_id:flags.8?Peer peer_id:Peer fwd_from:flags.2?MessageFwdHeader via_bot_id:flags.11?int reply_to:flags.3?MessageReplyHeader date:int message:string media:flags.9?MessageMedia ... = Message;  // 119-123
messageService#286fa604 flags:# id:int from_id:flags.8?Peer peer_id:Peer reply_to:flags.3?MessageReplyHeader date:int action:MessageAction = Message;  // 119-123
messageEmpty#90a6ca84 flags:# id:int peer_id:flags.0?Peer = Message;  // 123-228
message#bce383d2 flags:# id:int from_id:flags.8?Peer peer_id:Peer fwd_from:flags.2?MessageFwdHeader via_bot_id:flags.11?int reply_to:flags.3?MessageReplyHeader date:int message:string media:flags.9?MessageMedia ... = Message;  // 124-132
messageService#2b085862 flags:# id:int from_id:flags.8?Peer peer_id:Peer reply_to:flags.3?MessageReplyHeader date:int action:MessageAction ttl_period:flags.25?int = Message;  // 124-195
message#85d6cbe2 flags:# id:int from_id:flags.8?Peer peer_id:Peer fwd_from:flags.2?MessageFwdHeader via_bot_id:flags.11?long reply_to:flags.3?MessageReplyHeader date:int message:string media:flags.9?MessageMedia ... = Message;  // 133-135
message#38116ee0 flags:# id:int from_id:flags.8?Peer peer_id:Peer fwd_from:flags.2?MessageFwdHeader via_bot_id:flags.11?long reply_to:flags.3?MessageReplyHeader date:int message:string media:flags.9?MessageMedia ... = Message;  // 136-169
message#76bec211 flags:# id:int from_id:flags.8?Peer peer_id:Peer saved_peer_id:flags.28?Peer fwd_from:flags.2?MessageFwdHeader via_bot_id:flags.11?long reply_to:flags.3?MessageReplyHeader date:int message:string media:flags.9?MessageMedia ... = Message;  // 170-173
message#1e4c8a69 flags:# id:int from_id:flags.8?Peer from_boosts_applied:flags.29?int peer_id:Peer saved_peer_id:flags.28?Peer fwd_from:flags.2?MessageFwdHeader via_bot_id:flags.11?long reply_to:flags.3?MessageReplyHeader date:int message:string media:flags.9?MessageMedia ... = Message;  // 174
message#a66c7efc flags:# id:int from_id:flags.8?Peer from_boosts_applied:flags.29?int peer_id:Peer saved_peer_id:flags.28?Peer fwd_from:flags.2?MessageFwdHeader via_bot_id:flags.11?long reply_to:flags.3?MessageReplyHeader date:int message:string media:flags.9?MessageMedia ... = Message;  // 176
message#2357bf25 flags:# flags2:# id:int from_id:flags.8?Peer from_boosts_applied:flags.29?int peer_id:Peer saved_peer_id:flags.28?Peer fwd_from:flags.2?MessageFwdHeader via_bot_id:flags.11?long via_business_bot_id:flags2.0?long reply_to:flags.3?MessageReplyHeader date:int message:string media:flags.9?MessageMedia ... = Message;  // 177-179
message#94345242 flags:# flags2:# id:int from_id:flags.8?Peer from_boosts_applied:flags.29?int peer_id:Peer saved_peer_id:flags.28?Peer fwd_from:flags.2?MessageFwdHeader via_bot_id:flags.11?long via_business_bot_id:flags2.0?long reply_to:flags.3?MessageReplyHeader date:int message:string media:flags.9?MessageMedia ... = Message;  // 181-195
message#96fdbbe9 flags:# flags2:# id:int from_id:flags.8?Peer from_boosts_applied:flags.29?int peer_id:Peer saved_peer_id:flags.28?Peer fwd_from:flags.2?MessageFwdHeader via_bot_id:flags.11?long via_business_bot_id:flags2.0?long reply_to:flags.3?MessageReplyHeader date:int message:string media:flags.9?MessageMedia ... = Message;  // 196-199
messageService#d3d28540 flags:# id:int from_id:flags.8?Peer peer_id:Peer reply_to:flags.3?MessageReplyHeader date:int action:MessageAction ... = Message;  // 196-204
message#eabcdd4d flags:# flags2:# id:int from_id:flags.8?Peer from_boosts_applied:flags.29?int peer_id:Peer saved_peer_id:flags.28?Peer fwd_from:flags.2?MessageFwdHeader via_bot_id:flags.11?long via_business_bot_id:flags2.0?long reply_to:flags.3?MessageReplyHeader date:int message:string media:flags.9?MessageMedia ... = Message;  // 200-204
message#9815cec8 flags:# flags2:# id:int from_id:flags.8?Peer from_boosts_applied:flags.29?int peer_id:Peer saved_peer_id:flags.28?Peer fwd_from:flags.2?MessageFwdHeader via_bot_id:flags.11?long via_business_bot_id:flags2.0?long reply_to:flags.3?MessageReplyHeader date:int message:string media:flags.9?MessageMedia ... = Message;  // 206-216
messageService#7a800e0a flags:# id:int from_id:flags.8?Peer peer_id:Peer saved_peer_id:flags.28?Peer reply_to:flags.3?MessageReplyHeader date:int action:MessageAction ... = Message;  // 206-228
message#b92f76cf flags:# flags2:# id:int from_id:flags.8?Peer from_boosts_applied:flags.29?int peer_id:Peer saved_peer_id:flags.28?Peer fwd_from:flags.2?MessageFwdHeader via_bot_id:flags.11?long via_business_bot_id:flags2.0?long reply_to:flags.3?MessageReplyHeader date:int message:string media:flags.9?MessageMedia ... = Message;  // 218-220
message#9cb490e9 flags:# flags2:# id:int from_id:flags.8?Peer from_boosts_applied:flags.29?int peer_id:Peer saved_peer_id:flags.28?Peer fwd_from:flags.2?MessageFwdHeader via_bot_id:flags.11?long via_business_bot_id:flags2.0?long reply_to:flags.3?MessageReplyHeader date:int message:string media:flags.9?MessageMedia ... = Message;  // 221-222
message#3ae56482 flags:# flags2:# id:int from_id:flags.8?Peer from_boosts_applied:flags.29?int from_rank:flags2.12?string peer_id:Peer saved_peer_id:flags.28?Peer fwd_from:flags.2?MessageFwdHeader via_bot_id:flags.11?long via_business_bot_id:flags2.0?long reply_to:flags.3?MessageReplyHeader date:int message:string media:flags.9?MessageMedia ... = Message;  // 223-224
message#95ef6f2b flags:# flags2:# id:int from_id:flags.8?Peer from_boosts_applied:flags.29?int from_rank:flags2.12?string peer_id:Peer saved_peer_id:flags.28?Peer fwd_from:flags.2?MessageFwdHeader via_bot_id:flags.11?long via_business_bot_id:flags2.0?long guestchat_via_from:flags2.19?Peer reply_to:flags.3?MessageReplyHeader date:int message:string media:flags.9?MessageMedia ... = Message;  // 225
message#7600b9d3 flags:# flags2:# id:int from_id:flags.8?Peer from_boosts_applied:flags.29?int from_rank:flags2.12?string peer_id:Peer saved_peer_id:flags.28?Peer fwd_from:flags.2?MessageFwdHeader via_bot_id:flags.11?long via_business_bot_id:flags2.0?long guestchat_via_from:flags2.19?Peer reply_to:flags.3?MessageReplyHeader date:int message:string media:flags.9?MessageMedia ... = Message;  // 227-228
// --- MessageAction
messageActionChannelCreate#95d2ac92 title:string = MessageAction;  // 54-228
messageActionChannelMigrateFrom#b055eaee ... = MessageAction;  // 54-132
messageActionChatAddUser#488a7337 ... = MessageAction;  // 54-132
messageActionChatCreate#a6638b9a title:string users:Vector<int> = MessageAction;  // 54-132
messageActionChatDeletePhoto#95e3fbef = MessageAction;  // 54-228
messageActionChatDeleteUser#b2ae9b0c ... = MessageAction;  // 54-132
messageActionChatEditPhoto#7fcb13a8 ... = MessageAction;  // 54-228
messageActionChatEditTitle#b5a1ce5a title:string = MessageAction;  // 54-228
messageActionChatJoinedByLink#f89cf5e8 ... = MessageAction;  // 54-132
messageActionChatMigrateTo#51bdb021 ... = MessageAction;  // 54-132
messageActionEmpty#b6aef7b0 = MessageAction;  // 54-228
messageActionHistoryClear#9fbab604 = MessageAction;  // 54-228
messageActionPinMessage#94bd38ed = MessageAction;  // 54-228
messageActionGameScore#92a72876 ... = MessageAction;  // 57-228
messageActionPhoneCall#80e11a7f flags:# call_id:long reason:flags.0?PhoneCallDiscardReason duration:flags.1?int = MessageAction;  // 62-228
messageActionPaymentSent#40699cd0 ... = MessageAction;  // 66-142
messageActionPaymentSentMe#8f31b327 ... = MessageAction;  // 66-193
messageActionScreenshotTaken#4792929b = MessageAction;  // 70-228
messageActionCustomAction#fae69f56 ... = MessageAction;  // 72-228
messageActionBotAllowed#abe9affe ... = MessageAction;  // 76-152
messageActionSecureValuesSent#d95c6154 ... = MessageAction;  // 81-228
messageActionSecureValuesSentMe#1b287353 ... = MessageAction;  // 81-228
messageActionContactSignUp#f3f25f76 = MessageAction;  // 91-228
messageActionGeoProximityReached#98e0d697 ... = MessageAction;  // 120-228
messageActionGroupCall#7a0d7f42 ... = MessageAction;  // 122-228
messageActionInviteToGroupCall#76b9f11a ... = MessageAction;  // 122-132
messageActionSetMessagesTTL#aa1afbfd ... = MessageAction;  // 124-149
messageActionGroupCallScheduled#b3a07661 ... = MessageAction;  // 128-228
messageActionSetChatTheme#aa786345 ... = MessageAction;  // 132-211
messageActionChannelMigrateFrom#ea3948e9 ... = MessageAction;  // 133-228
messageActionChatAddUser#15cefd00 ... = MessageAction;  // 133-228
messageActionChatCreate#bd47cbad title:string users:Vector<long> = MessageAction;  // 133-228
messageActionChatDeleteUser#a43f30cc ... = MessageAction;  // 133-228
messageActionChatJoinedByLink#31224c3 ... = MessageAction;  // 133-228
messageActionChatMigrateTo#e1037f92 ... = MessageAction;  // 133-228
messageActionInviteToGroupCall#502f92f7 ... = MessageAction;  // 133-228
messageActionChatJoinedByRequest#ebbca3cb = MessageAction;  // 134-228
messageActionWebViewDataSent#b4c38cb5 ... = MessageAction;  // 140-228
messageActionWebViewDataSentMe#47dd8079 ... = MessageAction;  // 140-228
messageActionPaymentSent#96163f56 ... = MessageAction;  // 143-193
messageActionGiftPremium#aba0f5c6 ... = MessageAction;  // 144-155
messageActionTopicCreate#d999256 ... = MessageAction;  // 148-228
messageActionTopicEdit#b18a431c ... = MessageAction;  // 148-149
messageActionSetMessagesTTL#3c134d7b ... = MessageAction;  // 150-228
messageActionTopicEdit#c0944820 ... = MessageAction;  // 150-228
messageActionAttachMenuBotAllowed#e7e75f97 = MessageAction;  // 151-152
messageActionSuggestProfilePhoto#57de635e ... = MessageAction;  // 151-228
messageActionRequestedPeer#fe77345d ... = MessageAction;  // 152-167
messageActionBotAllowed#c516d679 ... = MessageAction;  // 154-228
messageActionGiftPremium#c83d6aec ... = MessageAction;  // 158-189
messageActionSetChatWallPaper#bc44a927 ... = MessageAction;  // 158-166
messageActionSetSameChatWallPaper#c0787d6d ... = MessageAction;  // 158-166
messageActionGiftCode#d2cfdb0e ... = MessageAction;  // 166-167
messageActionGiveawayLaunch#332ba9ed = MessageAction;  // 166-186
messageActionGiveawayResults#2a9fadc5 ... = MessageAction;  // 167-186
messageActionSetChatWallPaper#5060a3f4 ... = MessageAction;  // 167-228
messageActionGiftCode#678c2e09 ... = MessageAction;  // 169-189
messageActionRequestedPeer#31518e9b ... = MessageAction;  // 169-228
messageActionBoostApply#cc02aa6d ... = MessageAction;  // 174-228
messageActionRequestedPeerSentMe#93b31848 ... = MessageAction;  // 177-228
messageActionPaymentRefunded#41b3e202 ... = MessageAction;  // 184-228
messageActionGiftStars#45d5b021 ... = MessageAction;  // 185-228
messageActionGiveawayLaunch#a80f51e4 ... = MessageAction;  // 187-228
messageActionGiveawayResults#87e2f155 ... = MessageAction;  // 187-228
messageActionPrizeStars#b00c47a2 ... = MessageAction;  // 187-228
messageActionStarGift#9bb3ef44 ... = MessageAction;  // 189-192
messageActionGiftCode#56d03994 ... = MessageAction;  // 190-216
messageActionGiftPremium#6c6274fa ... = MessageAction;  // 190-216
messageActionStarGift#8557637 ... = MessageAction;  // 193-195
messageActionPaymentSent#c624b16e ... = MessageAction;  // 195-228
messageActionPaymentSentMe#ffa00ccc ... = MessageAction;  // 195-228
messageActionStarGift#d8f4f0a7 ... = MessageAction;  // 196
messageActionStarGiftUnique#26077b99 ... = MessageAction;  // 196
messageActionStarGift#4717e8a4 ... = MessageAction;  // 198-211
messageActionStarGiftUnique#acdfcb81 ... = MessageAction;  // 198-202
messageActionPaidMessagesPrice#bcd71419 ... = MessageAction;  // 201-203
messageActionPaidMessagesRefunded#ac1f1fcd ... = MessageAction;  // 201-228
messageActionConferenceCall#2ffe2f7a ... = MessageAction;  // 202-228
messageActionStarGiftUnique#2e3ae60e ... = MessageAction;  // 203-210
messageActionPaidMessagesPrice#84b88578 ... = MessageAction;  // 204-228
messageActionGiftTon#a8a3c699 ... = MessageAction;  // 206-228
messageActionSuggestedPostApproval#ee7a1596 ... = MessageAction;  // 206-228
messageActionSuggestedPostRefund#69f916f8 ... = MessageAction;  // 206-228
messageActionSuggestedPostSuccess#95ddcf69 ... = MessageAction;  // 206-228
messageActionTodoAppendTasks#c7edbc83 ... = MessageAction;  // 206-228
messageActionTodoCompletions#cc7c5c89 ... = MessageAction;  // 206-228
messageActionStarGiftUnique#34f762f3 ... = MessageAction;  // 211-214
messageActionSetChatTheme#b91bbd3a ... = MessageAction;  // 214-228
messageActionStarGift#f24de7fa ... = MessageAction;  // 214-216
messageActionStarGiftUnique#95728543 ... = MessageAction;  // 216-221
messageActionSuggestBirthday#2c8f2a25 ... = MessageAction;  // 216-228
messageActionGiftCode#31c48347 ... = MessageAction;  // 218-228
messageActionGiftPremium#48e91302 ... = MessageAction;  // 218-228
messageActionStarGift#db596550 ... = MessageAction;  // 218
messageActionStarGift#ea2c31d3 ... = MessageAction;  // 220-228
messageActionStarGiftPurchaseOffer#774278d4 ... = MessageAction;  // 220-228
messageActionStarGiftPurchaseOfferDeclined#73ada76b ... = MessageAction;  // 220-228
messageActionChangeCreator#e188503b ... = MessageAction;  // 222-228
messageActionNewCreatorPending#b07ed085 ... = MessageAction;  // 222-228
messageActionStarGiftUnique#e6c31522 ... = MessageAction;  // 222-228
messageActionNoForwardsRequest#3e2793ba ... = MessageAction;  // 223-228
messageActionNoForwardsToggle#bf7d6572 ... = MessageAction;  // 223-228
messageActionManagedBotCreated#16605e3e ... = MessageAction;  // 224-228
messageActionPollAppendAnswer#9da1cd6c ... = MessageAction;  // 224-228
messageActionPollDeleteAnswer#399674dc ... = MessageAction;  // 224-228
messageActionChangeCommunity#5d20bae8 ... = MessageAction;  // 228
// --- MessageMedia
messageMediaContact#5e7d2f39 phone_number:string first_name:string last_name:string user_id:int = MessageMedia;  // 54-81
messageMediaDocument#f3e02ea8 document:Document caption:string = MessageMedia;  // 54-68
messageMediaEmpty#3ded6320 = MessageMedia;  // 54-228
messageMediaGeo#56e0d474 geo:GeoPoint = MessageMedia;  // 54-228
messageMediaPhoto#3d8ce53d photo:Photo caption:string = MessageMedia;  // 54-68
messageMediaUnsupported#9f84f49e = MessageMedia;  // 54-228
messageMediaVenue#7912b71f geo:GeoPoint title:string address:string provider:string venue_id:string = MessageMedia;  // 54-71
messageMediaWebPage#a32dd600 webpage:WebPage = MessageMedia;  // 54-165
messageMediaGame#fdb19008 ... = MessageMedia;  // 57-228
messageMediaInvoice#84551347 flags:# title:string description:string ... = MessageMedia;  // 66-145
messageMediaDocument#7c4414d3 flags:# document:flags.0?Document caption:flags.1?string ttl_seconds:flags.2?int = MessageMedia;  // 70-74
messageMediaPhoto#b5223b0f flags:# photo:flags.0?Photo caption:flags.1?string ttl_seconds:flags.2?int = MessageMedia;  // 70-74
messageMediaGeoLive#7c3c2609 geo:GeoPoint period:int = MessageMedia;  // 72-119
messageMediaVenue#2ec0533f geo:GeoPoint title:string address:string provider:string venue_id:string venue_type:string = MessageMedia;  // 72-228
messageMediaDocument#9cb070d7 flags:# document:flags.0?Document ttl_seconds:flags.2?int = MessageMedia;  // 75-158
messageMediaPhoto#695150d7 flags:# photo:flags.0?Photo ttl_seconds:flags.2?int = MessageMedia;  // 75-223
messageMediaContact#cbf24940 phone_number:string first_name:string last_name:string vcard:string user_id:int = MessageMedia;  // 82-132
messageMediaPoll#4bd6e798 ... = MessageMedia;  // 91-223
messageMediaDice#638fe46b value:int = MessageMedia;  // 111
messageMediaDice#3f7ee58b value:int emoticon:string = MessageMedia;  // 112-220
messageMediaGeoLive#b940c666 flags:# geo:GeoPoint heading:flags.0?int period:int proximity_notification_radius:flags.1?int = MessageMedia;  // 120-228
messageMediaContact#70322949 phone_number:string first_name:string last_name:string vcard:string user_id:long = MessageMedia;  // 133-228
messageMediaInvoice#f6a548d3 flags:# title:string description:string ... = MessageMedia;  // 146-228
messageMediaDocument#4cf4d72d flags:# document:flags.0?Document alt_document:flags.5?Document ttl_seconds:flags.2?int = MessageMedia;  // 160-187
messageMediaStory#cbb20d88 flags:# user_id:long id:int ... = MessageMedia;  // 160-163
messageMediaStory#68cb6283 flags:# peer:Peer id:int ... = MessageMedia;  // 164-228
messageMediaGiveaway#58260664 flags:# channels:Vector<long> countries_iso2:flags.1?Vector<string> quantity:int months:int until_date:int = MessageMedia;  // 166-167
messageMediaWebPage#ddf10c3b flags:# webpage:WebPage = MessageMedia;  // 166-228
messageMediaGiveaway#daad85b0 flags:# channels:Vector<long> countries_iso2:flags.1?Vector<string> prize_description:flags.3?string quantity:int months:int until_date:int = MessageMedia;  // 169-186
messageMediaGiveawayResults#c6991068 flags:# channel_id:long additional_peers_count:flags.3?int launch_msg_id:int winners_count:int unclaimed_count:int winners:Vector<long> months:int prize_description:flags.1?string until_date:int = MessageMedia;  // 169-186
messageMediaPaidMedia#a8852491 stars_amount:long ... = MessageMedia;  // 183-228
messageMediaGiveaway#aa073beb flags:# channels:Vector<long> countries_iso2:flags.1?Vector<string> prize_description:flags.3?string quantity:int months:flags.4?int stars:flags.5?long until_date:int = MessageMedia;  // 187-228
messageMediaGiveawayResults#ceaa3ea1 flags:# channel_id:long additional_peers_count:flags.3?int launch_msg_id:int winners_count:int unclaimed_count:int winners:Vector<long> months:flags.4?int stars:flags.5?long prize_description:flags.1?string until_date:int = MessageMedia;  // 187-228
messageMediaDocument#dd570bd5 flags:# document:flags.0?Document alt_documents:flags.5?Vector<Document> ttl_seconds:flags.2?int = MessageMedia;  // 188-196
messageMediaDocument#52d8ccd9 flags:# document:flags.0?Document alt_documents:flags.5?Vector<Document> video_cover:flags.9?Photo video_timestamp:flags.10?int ttl_seconds:flags.2?int = MessageMedia;  // 198-228
messageMediaToDo#8a53b014 flags:# ... = MessageMedia;  // 206-228
messageMediaVideoStream#ca5cab89 flags:# ... = MessageMedia;  // 218-228
messageMediaDice#8cbec07 flags:# value:int emoticon:string ... = MessageMedia;  // 221-228
messageMediaPhoto#e216eb63 flags:# photo:flags.0?Photo ttl_seconds:flags.2?int video:flags.4?Document = MessageMedia;  // 224-228
messageMediaPoll#773f4e66 flags:# ... = MessageMedia;  // 224-228
// --- Peer
peerChannel#bddde532 channel_id:int = Peer;  // 54-132
peerChat#bad0e5bb chat_id:int = Peer;  // 54-132
peerUser#9db1bc6d user_id:int = Peer;  // 54-132
peerChannel#a2a5371e channel_id:long = Peer;  // 133-228
peerChat#36c6019a chat_id:long = Peer;  // 133-228
peerUser#59511722 user_id:long = Peer;  // 133-228
// --- MessageFwdHeader
messageFwdHeader#c786ddcb flags:# from_id:flags.0?int date:int channel_id:flags.1?int channel_post:flags.2?int = MessageFwdHeader;  // 54-68
messageFwdHeader#fadff4ac flags:# from_id:flags.0?int date:int channel_id:flags.1?int channel_post:flags.2?int post_author:flags.3?string = MessageFwdHeader;  // 70-72
messageFwdHeader#559ebe6d flags:# from_id:flags.0?int date:int channel_id:flags.1?int channel_post:flags.2?int post_author:flags.3?string saved_from_peer:flags.4?Peer saved_from_msg_id:flags.4?int = MessageFwdHeader;  // 73-95
messageFwdHeader#ec338270 flags:# from_id:flags.0?int from_name:flags.5?string date:int channel_id:flags.1?int channel_post:flags.2?int post_author:flags.3?string saved_from_peer:flags.4?Peer saved_from_msg_id:flags.4?int = MessageFwdHeader;  // 97-112
messageFwdHeader#353a686b flags:# from_id:flags.0?int from_name:flags.5?string date:int channel_id:flags.1?int channel_post:flags.2?int post_author:flags.3?string saved_from_peer:flags.4?Peer saved_from_msg_id:flags.4?int psa_type:flags.6?string = MessageFwdHeader;  // 113-117
messageFwdHeader#5f777dce flags:# from_id:flags.0?Peer from_name:flags.5?string date:int channel_post:flags.2?int post_author:flags.3?string saved_from_peer:flags.4?Peer saved_from_msg_id:flags.4?int psa_type:flags.6?string = MessageFwdHeader;  // 119-169
messageFwdHeader#4e4df4bb flags:# from_id:flags.0?Peer from_name:flags.5?string date:int channel_post:flags.2?int post_author:flags.3?string saved_from_peer:flags.4?Peer saved_from_msg_id:flags.4?int saved_from_id:flags.8?Peer saved_from_name:flags.9?string saved_date:flags.10?int psa_type:flags.6?string = MessageFwdHeader;  // 170-228
// --- MessageReplyHeader
messageReplyHeader#a6d57763 flags:# reply_to_msg_id:int reply_to_peer_id:flags.0?Peer reply_to_top_id:flags.1?int = MessageReplyHeader;  // 119-165
messageReplyStoryHeader#9c98bfc1 user_id:long story_id:int = MessageReplyHeader;  // 160-173
messageReplyHeader#6eebcabd flags:# reply_to_msg_id:flags.4?int reply_to_peer_id:flags.0?Peer reply_from:flags.5?MessageFwdHeader reply_media:flags.8?MessageMedia reply_to_top_id:flags.1?int quote_text:flags.6?string quote_entities:flags.7?Vector<MessageEntity> = MessageReplyHeader;  // 166
messageReplyHeader#afbc09db flags:# reply_to_msg_id:flags.4?int reply_to_peer_id:flags.0?Peer reply_from:flags.5?MessageFwdHeader reply_media:flags.8?MessageMedia reply_to_top_id:flags.1?int quote_text:flags.6?string quote_entities:flags.7?Vector<MessageEntity> quote_offset:flags.10?int = MessageReplyHeader;  // 167-207
messageReplyStoryHeader#e5af939 peer:Peer story_id:int = MessageReplyHeader;  // 174-228
messageReplyHeader#6917560b flags:# reply_to_msg_id:flags.4?int reply_to_peer_id:flags.0?Peer reply_from:flags.5?MessageFwdHeader reply_media:flags.8?MessageMedia reply_to_top_id:flags.1?int quote_text:flags.6?string quote_entities:flags.7?Vector<MessageEntity> quote_offset:flags.10?int todo_item_id:flags.11?int = MessageReplyHeader;  // 209-223
messageReplyHeader#1b97dd66 flags:# reply_to_msg_id:flags.4?int reply_to_peer_id:flags.0?Peer reply_from:flags.5?MessageFwdHeader reply_media:flags.8?MessageMedia reply_to_top_id:flags.1?int quote_text:flags.6?string quote_entities:flags.7?Vector<MessageEntity> quote_offset:flags.10?int todo_item_id:flags.11?int poll_option:flags.12?bytes = MessageReplyHeader;  // 224-228
// --- MessageEntity
inputMessageEntityMentionName#208e68c9 offset:int length:int ... = MessageEntity;  // 54-228
messageEntityBold#bd610bc9 offset:int length:int = MessageEntity;  // 54-228
messageEntityBotCommand#6cef8ac7 offset:int length:int = MessageEntity;  // 54-228
messageEntityCode#28a20571 offset:int length:int = MessageEntity;  // 54-228
messageEntityEmail#64e475c2 offset:int length:int = MessageEntity;  // 54-228
messageEntityHashtag#6f635b0d offset:int length:int = MessageEntity;  // 54-228
messageEntityItalic#826f8b60 offset:int length:int = MessageEntity;  // 54-228
messageEntityMention#fa04579d offset:int length:int = MessageEntity;  // 54-228
messageEntityMentionName#352dca58 offset:int length:int user_id:int = MessageEntity;  // 54-132
messageEntityPre#73924be0 offset:int length:int language:string = MessageEntity;  // 54-228
messageEntityTextUrl#76a6d327 offset:int length:int url:string = MessageEntity;  // 54-228
messageEntityUnknown#bb92ba95 offset:int length:int = MessageEntity;  // 54-228
messageEntityUrl#6ed02538 offset:int length:int = MessageEntity;  // 54-228
messageEntityCashtag#4c4e743f offset:int length:int = MessageEntity;  // 76-228
messageEntityPhone#9b69e34b offset:int length:int = MessageEntity;  // 76-228
messageEntityBlockquote#20df5d0 offset:int length:int = MessageEntity;  // 102-179
messageEntityStrike#bf0693d4 offset:int length:int = MessageEntity;  // 102-228
messageEntityUnderline#9c4e7e8b offset:int length:int = MessageEntity;  // 102-228
messageEntityBankCard#761e6af4 offset:int length:int = MessageEntity;  // 110-228
messageEntityMentionName#dc7b1140 offset:int length:int user_id:long = MessageEntity;  // 133-228
messageEntitySpoiler#32ca960f offset:int length:int = MessageEntity;  // 136-228
messageEntityCustomEmoji#c8cf05f8 offset:int length:int document_id:long = MessageEntity;  // 144-228
messageEntityBlockquote#f1ccaaac flags:# offset:int length:int = MessageEntity;  // 181-228
messageEntityFormattedDate#904ac7c7 flags:# offset:int length:int date:int = MessageEntity;  // 223-228
messageEntityDiffDelete#652c1c5 offset:int length:int = MessageEntity;  // 224-228
messageEntityDiffInsert#71777116 offset:int length:int = MessageEntity;  // 224-228
messageEntityDiffReplace#c6c1e5a7 offset:int length:int old_text:string = MessageEntity;  // 224-228
// --- GeoPoint
geoPoint#2049d70c long:double lat:double = GeoPoint;  // 54-81
geoPointEmpty#1117dd5f = GeoPoint;  // 54-228
geoPoint#296f104 long:double lat:double access_hash:long = GeoPoint;  // 82-119
geoPoint#b2a2f663 flags:# long:double lat:double access_hash:long accuracy_radius:flags.0?int = GeoPoint;  // 120-228
// --- WebPage
webPage#ca820ed7 flags:# id:long url:string display_url:string type:flags.0?string site_name:flags.1?string title:flags.2?string description:flags.3?string photo:flags.4?Photo embed_url:flags.5?string embed_type:flags.5?string embed_width:flags.6?int embed_height:flags.6?int duration:flags.7?int author:flags.8?string document:flags.9?Document = WebPage;  // 54-57
webPageEmpty#eb1477e8 id:long = WebPage;  // 54-165
webPagePending#c586da1c id:long date:int = WebPage;  // 54-165
webPage#5f07b4bc flags:# id:long url:string display_url:string hash:int type:flags.0?string site_name:flags.1?string title:flags.2?string description:flags.3?string photo:flags.4?Photo embed_url:flags.5?string embed_type:flags.5?string embed_width:flags.6?int embed_height:flags.6?int duration:flags.7?int author:flags.8?string document:flags.9?Document ... = WebPage;  // 62-104
webPageNotModified#85849473 = WebPage;  // 62-110
webPage#fa64e172 flags:# id:long url:string display_url:string hash:int type:flags.0?string site_name:flags.1?string title:flags.2?string description:flags.3?string photo:flags.4?Photo embed_url:flags.5?string embed_type:flags.5?string embed_width:flags.6?int embed_height:flags.6?int duration:flags.7?int author:flags.8?string document:flags.9?Document documents:flags.11?Vector<Document> ... = WebPage;  // 105-106
webPage#e89c45b2 flags:# id:long url:string display_url:string hash:int type:flags.0?string site_name:flags.1?string title:flags.2?string description:flags.3?string photo:flags.4?Photo embed_url:flags.5?string embed_type:flags.5?string embed_width:flags.6?int embed_height:flags.6?int duration:flags.7?int author:flags.8?string document:flags.9?Document ... = WebPage;  // 108-228
webPageNotModified#7311ca11 flags:# cached_page_views:flags.0?int = WebPage;  // 111-228
webPageEmpty#211a1788 flags:# id:long url:flags.0?string = WebPage;  // 166-228
webPagePending#b0d13e47 flags:# id:long url:flags.0?string date:int = WebPage;  // 166-228
// --- Photo
photo#cded42fe id:long access_hash:long date:int sizes:Vector<PhotoSize> = Photo;  // 54-55
photoEmpty#2331b22d id:long = Photo;  // 54-228
photo#9288dd29 flags:# id:long access_hash:long date:int sizes:Vector<PhotoSize> = Photo;  // 57-82
photo#9c477dd8 flags:# id:long access_hash:long file_reference:bytes date:int sizes:Vector<PhotoSize> = Photo;  // 89-97
photo#d07504a5 flags:# id:long access_hash:long file_reference:bytes date:int sizes:Vector<PhotoSize> dc_id:int = Photo;  // 98-114
photo#fb197a65 flags:# id:long access_hash:long file_reference:bytes date:int sizes:Vector<PhotoSize> video_sizes:flags.1?Vector<VideoSize> dc_id:int = Photo;  // 116-228
// --- PhotoSize
photoCachedSize#e9a734fa type:string location:FileLocation w:int h:int bytes:bytes = PhotoSize;  // 54-126
photoSize#77bfb61b type:string location:FileLocation w:int h:int size:int = PhotoSize;  // 54-126
photoSizeEmpty#e17e23c type:string = PhotoSize;  // 54-228
photoStrippedSize#e0b0bc2e type:string bytes:bytes = PhotoSize;  // 93-228
photoSizeProgressive#5aa86a51 type:string location:FileLocation w:int h:int sizes:Vector<int> = PhotoSize;  // 119-126
photoPathSize#d8214d41 type:string bytes:bytes = PhotoSize;  // 122-228
photoCachedSize#21e1ad6 type:string w:int h:int bytes:bytes = PhotoSize;  // 128-228
photoSize#75c78e60 type:string w:int h:int size:int = PhotoSize;  // 128-228
photoSizeProgressive#fa3efb95 type:string w:int h:int sizes:Vector<int> = PhotoSize;  // 128-228
// --- FileLocation
fileLocation#53d69076 dc_id:int volume_id:long local_id:int secret:long = FileLocation;  // 54-82
fileLocationUnavailable#7c596b46 volume_id:long local_id:int secret:long = FileLocation;  // 54-97
fileLocation#91d11eb dc_id:int volume_id:long local_id:int secret:long file_reference:bytes = FileLocation;  // 89-97
fileLocationToBeDeprecated#bc7fc6cd volume_id:long local_id:int = FileLocation;  // 98-126
// --- VideoSize
videoSize#435bb987 type:string location:FileLocation w:int h:int size:int = VideoSize;  // 114
videoSize#e831c556 flags:# type:string location:FileLocation w:int h:int size:int video_start_ts:flags.0?double = VideoSize;  // 116-126
videoSize#de33b094 flags:# type:string w:int h:int size:int video_start_ts:flags.0?double = VideoSize;  // 128-228
videoSizeEmojiMarkup#f85c413c emoji_id:long background_colors:Vector<int> = VideoSize;  // 152-228
videoSizeStickerMarkup#da082fe stickerset:InputStickerSet sticker_id:long background_colors:Vector<int> = VideoSize;  // 152-228
// --- Document
document#87232bc7 id:long access_hash:long date:int mime_type:string size:int thumb:PhotoSize dc_id:int version:int attributes:Vector<DocumentAttribute> = Document;  // 54-82
documentEmpty#36f8c871 id:long = Document;  // 54-228
document#59534e4c id:long access_hash:long file_reference:bytes date:int mime_type:string size:int thumb:PhotoSize dc_id:int attributes:Vector<DocumentAttribute> = Document;  // 89-91
document#9ba29cc1 flags:# id:long access_hash:long file_reference:bytes date:int mime_type:string size:int thumbs:flags.0?Vector<PhotoSize> dc_id:int attributes:Vector<DocumentAttribute> = Document;  // 93-113
document#1e87342b flags:# id:long access_hash:long file_reference:bytes date:int mime_type:string size:int thumbs:flags.0?Vector<PhotoSize> video_thumbs:flags.1?Vector<VideoSize> dc_id:int attributes:Vector<DocumentAttribute> = Document;  // 114-142
document#8fd4c4d8 flags:# id:long access_hash:long file_reference:bytes date:int mime_type:string size:long thumbs:flags.0?Vector<PhotoSize> video_thumbs:flags.1?Vector<VideoSize> dc_id:int attributes:Vector<DocumentAttribute> = Document;  // 143-228
// --- DocumentAttribute
documentAttributeAnimated#11b58939 = DocumentAttribute;  // 54-228
documentAttributeAudio#9852f9c6 flags:# duration:int title:flags.0?string performer:flags.1?string waveform:flags.2?bytes = DocumentAttribute;  // 54-228
documentAttributeFilename#15590068 file_name:string = DocumentAttribute;  // 54-228
documentAttributeImageSize#6c37c15c w:int h:int = DocumentAttribute;  // 54-228
documentAttributeSticker#3a556302 alt:string stickerset:InputStickerSet = DocumentAttribute;  // 54-55
documentAttributeVideo#5910cccb duration:int w:int h:int = DocumentAttribute;  // 54-62
documentAttributeHasStickers#9801d2f7 = DocumentAttribute;  // 57-228
documentAttributeSticker#6319d612 flags:# alt:string stickerset:InputStickerSet mask_coords:flags.0?MaskCoords = DocumentAttribute;  // 57-228
documentAttributeVideo#ef02ce6 flags:# duration:int w:int h:int = DocumentAttribute;  // 66-158
documentAttributeCustomEmoji#fd149899 flags:# alt:string stickerset:InputStickerSet = DocumentAttribute;  // 144-228
documentAttributeVideo#d38ff1c2 flags:# duration:double w:int h:int preload_prefix_size:flags.2?int = DocumentAttribute;  // 160-184
documentAttributeVideo#17399fad flags:# duration:double w:int h:int preload_prefix_size:flags.2?int video_start_ts:flags.4?double = DocumentAttribute;  // 185-187
documentAttributeVideo#43c57c48 flags:# duration:double w:int h:int preload_prefix_size:flags.2?int video_start_ts:flags.4?double video_codec:flags.5?string = DocumentAttribute;  // 188-228
// --- InputStickerSet
inputStickerSetEmpty#ffb62b95 = InputStickerSet;  // 54-228
inputStickerSetID#9de7a269 id:long access_hash:long = InputStickerSet;  // 54-228
inputStickerSetShortName#861cc8a0 short_name:string = InputStickerSet;  // 54-228
inputStickerSetAnimatedEmoji#28703c8 = InputStickerSet;  // 104-228
inputStickerSetDice#79e21a53 = InputStickerSet;  // 111
inputStickerSetDice#e67f520e emoticon:string = InputStickerSet;  // 112-228
inputStickerSetAnimatedEmojiAnimations#cde3739 = InputStickerSet;  // 134-228
inputStickerSetPremiumGifts#c88b3b02 = InputStickerSet;  // 144-228
inputStickerSetEmojiDefaultStatuses#29d0f5ee = InputStickerSet;  // 145-228
inputStickerSetEmojiGenericAnimations#4c4d4ce = InputStickerSet;  // 145-228
inputStickerSetEmojiDefaultTopicIcons#44c1f8e9 = InputStickerSet;  // 148-228
inputStickerSetEmojiChannelDefaultStatuses#49748553 = InputStickerSet;  // 169-228
inputStickerSetTonGifts#1cf671a0 = InputStickerSet;  // 206-228
// --- MaskCoords
maskCoords#aed6dbb2 n:int x:double y:double zoom:double = MaskCoords;  // 57-228
// --- PhoneCallDiscardReason
phoneCallDiscardReasonBusy#faf7e8c9 = PhoneCallDiscardReason;  // 62-228
phoneCallDiscardReasonDisconnect#e095c1a0 = PhoneCallDiscardReason;  // 62-228
phoneCallDiscardReasonHangup#57adc690 = PhoneCallDiscardReason;  // 62-228
phoneCallDiscardReasonMissed#85e42301 = PhoneCallDiscardReason;  // 62-228
phoneCallDiscardReasonAllowGroupCall#afe2b839 encrypted_key:bytes = PhoneCallDiscardReason;  // 196-201
phoneCallDiscardReasonMigrateConferenceCall#9fbbf1f7 slug:string = PhoneCallDiscardReason;  // 202-228
// --- User
user#d10d979a flags:# id:int access_hash:flags.0?long first_name:flags.1?string last_name:flags.2?string username:flags.3?string phone:flags.4?string ... = User;  // 54-62
userEmpty#200250ba id:int = User;  // 54-132
user#2e13f4c3 flags:# id:int access_hash:flags.0?long first_name:flags.1?string last_name:flags.2?string username:flags.3?string phone:flags.4?string ... = User;  // 66-104
user#938458c1 flags:# id:int access_hash:flags.0?long first_name:flags.1?string last_name:flags.2?string username:flags.3?string phone:flags.4?string ... = User;  // 105-132
user#3ff6ecb0 flags:# id:long access_hash:flags.0?long first_name:flags.1?string last_name:flags.2?string username:flags.3?string phone:flags.4?string ... = User;  // 133-144
userEmpty#d3bc4b7a id:long = User;  // 133-228
user#5d99adee flags:# id:long access_hash:flags.0?long first_name:flags.1?string last_name:flags.2?string username:flags.3?string phone:flags.4?string ... = User;  // 145-146
user#8f97c628 flags:# flags2:# id:long access_hash:flags.0?long first_name:flags.1?string last_name:flags.2?string username:flags.3?string phone:flags.4?string ... = User;  // 148-158
user#abb5f120 flags:# flags2:# id:long access_hash:flags.0?long first_name:flags.1?string last_name:flags.2?string username:flags.3?string phone:flags.4?string ... = User;  // 160-165
user#eb602f25 flags:# flags2:# id:long access_hash:flags.0?long first_name:flags.1?string last_name:flags.2?string username:flags.3?string phone:flags.4?string ... = User;  // 166
user#215c4438 flags:# flags2:# id:long access_hash:flags.0?long first_name:flags.1?string last_name:flags.2?string username:flags.3?string phone:flags.4?string ... = User;  // 167-184
user#83314fca flags:# flags2:# id:long access_hash:flags.0?long first_name:flags.1?string last_name:flags.2?string username:flags.3?string phone:flags.4?string ... = User;  // 185-195
user#4b46c37e flags:# flags2:# id:long access_hash:flags.0?long first_name:flags.1?string last_name:flags.2?string username:flags.3?string phone:flags.4?string ... = User;  // 196-199
user#20b1422 flags:# flags2:# id:long access_hash:flags.0?long first_name:flags.1?string last_name:flags.2?string username:flags.3?string phone:flags.4?string ... = User;  // 200-216
user#31774388 flags:# flags2:# id:long access_hash:flags.0?long first_name:flags.1?string last_name:flags.2?string username:flags.3?string phone:flags.4?string ... = User;  // 218-227
user#b1b8cc83 flags:# flags2:# id:long access_hash:flags.0?long first_name:flags.1?string last_name:flags.2?string username:flags.3?string phone:flags.4?string ... = User;  // 228
// --- Chat
channel#a14dca52 flags:# id:int access_hash:flags.13?long title:string username:flags.6?string ... = Chat;  // 54-66
channelForbidden#8537784f flags:# id:int access_hash:long title:string = Chat;  // 54-66
chat#d91cdd54 flags:# id:int title:string ... = Chat;  // 54-91
chatEmpty#9ba2d800 id:int = Chat;  // 54-132
chatForbidden#7328bdb id:int title:string = Chat;  // 54-132
channel#cb44b1c flags:# id:int access_hash:flags.13?long title:string username:flags.6?string ... = Chat;  // 68-72
channelForbidden#289da732 flags:# id:int access_hash:long title:string until_date:flags.16?int = Chat;  // 68-132
channel#450b7115 flags:# id:int access_hash:flags.13?long title:string username:flags.6?string ... = Chat;  // 73-76
channel#c88974ac flags:# id:int access_hash:flags.13?long title:string username:flags.6?string ... = Chat;  // 78-91
channel#4df30834 flags:# id:int access_hash:flags.13?long title:string username:flags.6?string ... = Chat;  // 93-104
chat#3bda1bde flags:# id:int title:string ... = Chat;  // 93-132
channel#d31a961e flags:# id:int access_hash:flags.13?long title:string username:flags.6?string ... = Chat;  // 105-132
channel#8261ac61 flags:# id:long access_hash:flags.13?long title:string username:flags.6?string ... = Chat;  // 133-146
channelForbidden#17d493d5 flags:# id:long access_hash:long title:string until_date:flags.16?int = Chat;  // 133-228
chat#41cbf256 flags:# id:long title:string ... = Chat;  // 133-228
chatEmpty#29562865 id:long = Chat;  // 133-228
chatForbidden#6592a1a7 id:long title:string = Chat;  // 133-228
channel#83259464 flags:# flags2:# id:long access_hash:flags.13?long title:string username:flags.6?string ... = Chat;  // 148-163
channel#94f592db flags:# flags2:# id:long access_hash:flags.13?long title:string username:flags.6?string ... = Chat;  // 164-165
channel#1981ea7e flags:# flags2:# id:long access_hash:flags.13?long title:string username:flags.6?string ... = Chat;  // 166
channel#8e87ccd8 flags:# flags2:# id:long access_hash:flags.13?long title:string username:flags.6?string ... = Chat;  // 167
channel#aadfc8f flags:# flags2:# id:long access_hash:flags.13?long title:string username:flags.6?string ... = Chat;  // 169-185
channel#fe4478bd flags:# flags2:# id:long access_hash:flags.13?long title:string username:flags.6?string ... = Chat;  // 186-195
channel#e00998b7 flags:# flags2:# id:long access_hash:flags.13?long title:string username:flags.6?string ... = Chat;  // 196-199
channel#7482147e flags:# flags2:# id:long access_hash:flags.13?long title:string username:flags.6?string ... = Chat;  // 200-203
channel#fe685355 flags:# flags2:# id:long access_hash:flags.13?long title:string username:flags.6?string ... = Chat;  // 204-216
channel#1c32b11c flags:# flags2:# id:long access_hash:flags.13?long title:string username:flags.6?string ... = Chat;  // 218-227
channel#d49f34c6 flags:# flags2:# id:long access_hash:flags.13?long title:string username:flags.6?string ... = Chat;  // 228
community#65efe954 flags:# flags2:# id:long access_hash:flags.13?long title:string ... = Chat;  // 228
communityForbidden#fd3cdab8 flags:# id:long access_hash:flags.13?long title:string = Chat;  // 228
// --- Bool
boolFalse#bc799737 = Bool;  // 72-228
boolTrue#997275b5 = Bool;  // 72-228
// --- Telegram Android's own constructors (TLRPC.java), not in the published schema: the message
// forms of layers before 54 that it still reads from its cache, its internal betas of later layers,
// and the forms it stores for secret-chat messages and files (decrypted locally). Read up to the
// fields used here; "..." ends each one.
message#22eb6aba id:int from_id:int to_id:Peer out:Bool unread:Bool date:int message:string media:MessageMedia ... = Message;  // android TL_message_old
messageForwarded#5f46804 id:int fwd_from_id:int fwd_date:int from_id:int to_id:Peer out:Bool unread:Bool date:int message:string media:MessageMedia ... = Message;  // android TL_messageForwarded_old
message#567699b3 flags:# id:int from_id:int to_id:Peer date:int message:string media:MessageMedia ... = Message;  // android TL_message_old2
messageForwarded#a367e716 flags:# id:int fwd_from_id:int fwd_date:int from_id:int to_id:Peer date:int message:string media:MessageMedia ... = Message;  // android TL_messageForwarded_old2
message#a7ab1991 flags:# id:int from_id:int to_id:Peer fwd_from_id:flags.2?int fwd_date:flags.2?int reply_to_msg_id:flags.3?int date:int message:string media:MessageMedia ... = Message;  // android TL_message_old3
message#c3060325 flags:# id:int from_id:int to_id:Peer fwd_from_id:flags.2?int fwd_date:flags.2?int reply_to_msg_id:flags.3?int date:int message:string media:MessageMedia ... = Message;  // android TL_message_old4
message#f07814c8 flags:# id:int from_id:int to_id:Peer fwd_from_id:flags.2?int fwd_date:flags.2?int reply_to_msg_id:flags.3?int date:int message:string media:MessageMedia ... = Message;  // android TL_message_old5
message#2bebfa86 flags:# id:int from_id:int to_id:Peer fwd_from_id:flags.2?int fwd_date:flags.2?int reply_to_msg_id:flags.3?int date:int message:string media:flags.9?MessageMedia ... = Message;  // android TL_message_old6
message#5ba66c13 flags:# id:int from_id:flags.8?int to_id:Peer fwd_from_id:flags.2?Peer fwd_date:flags.2?int reply_to_msg_id:flags.3?int date:int message:string media:flags.9?MessageMedia ... = Message;  // android TL_message_old7
message#c992e15c flags:# id:int from_id:flags.8?int to_id:Peer fwd_from_id:flags.2?Peer fwd_date:flags.2?int via_bot_id:flags.11?int reply_to_msg_id:flags.3?int date:int message:string media:flags.9?MessageMedia ... = Message;  // android TL_message_layer47
message#1c9b1027 flags:# id:int from_id:flags.8?int to_id:Peer fwd_from:flags.2?MessageFwdHeader via_bot_id:flags.11?int reply_to_msg_id:flags.3?int date:int message:string media:flags.9?MessageMedia ... = Message;  // android TL_message_layer104_2
message#9789dac4 flags:# id:int from_id:flags.8?int to_id:Peer fwd_from:flags.2?MessageFwdHeader via_bot_id:flags.11?int reply_to_msg_id:flags.3?int date:int message:string media:flags.9?MessageMedia ... = Message;  // android TL_message_layer104_3
message#f52e6b7f flags:# id:int from_id:flags.8?int to_id:Peer fwd_from:flags.2?MessageFwdHeader via_bot_id:flags.11?int reply_to_msg_id:flags.3?int date:int message:string media:flags.9?MessageMedia ... = Message;  // android TL_message_layer118
messageService#9f8d60bb id:int from_id:int to_id:Peer out:Bool unread:Bool date:int action:MessageAction ... = Message;  // android TL_messageService_old
messageService#1d86f70e flags:# id:int from_id:int to_id:Peer date:int action:MessageAction ... = Message;  // android TL_messageService_old2
messageService#c06b9607 flags:# id:int from_id:flags.8?int to_id:Peer date:int action:MessageAction ... = Message;  // android TL_messageService_layer48
messageSecret#555555f8 flags:# id:int ttl:int from_id:int to_id:Peer date:int message:string media:MessageMedia ... = Message;  // android TL_message_secret_old
messageSecret#555555f9 flags:# id:int ttl:int from_id:int to_id:Peer date:int message:string media:MessageMedia entities:Vector<MessageEntity> via_bot_name:flags.11?string reply_to_random_id:flags.3?long = Message;  // android TL_message_secret_layer72
messageSecret#555555fa flags:# id:int ttl:int from_id:int to_id:Peer date:int message:string media:MessageMedia entities:Vector<MessageEntity> via_bot_name:flags.11?string reply_to_random_id:flags.3?long grouped_id:flags.17?long = Message;  // android TL_message_secret
messageMediaPhoto#c8c45a2a ... = MessageMedia;  // android TL_messageMediaPhoto_old
messageMediaVideo#a2d24290 ... = MessageMedia;  // android TL_messageMediaVideo_old
messageMediaVideo#5bcf1675 ... = MessageMedia;  // android TL_messageMediaVideo_layer45
messageMediaAudio#c6b68300 ... = MessageMedia;  // android TL_messageMediaAudio_layer45
messageMediaDocument#2fda2204 ... = MessageMedia;  // android TL_messageMediaDocument_old
messageMediaUnsupported#29632a36 ... = MessageMedia;  // android TL_messageMediaUnsupported_old
messageActionUserJoined#55555550 ... = MessageAction;  // android TL_messageActionUserJoined
messageActionUserUpdatedPhoto#55555551 ... = MessageAction;  // android TL_messageActionUserUpdatedPhoto
messageActionTTLChange#55555552 ... = MessageAction;  // android TL_messageActionTTLChange
messageActionCreatedBroadcastList#55555557 ... = MessageAction;  // android TL_messageActionCreatedBroadcastList
messageActionLoginUnknownLocation#555555f5 ... = MessageAction;  // android TL_messageActionLoginUnknownLocation
messageActionEncrypted#555555f7 ... = MessageAction;  // android TL_messageEncryptedAction
messageActionChatAddUser#5e3cfc4b ... = MessageAction;  // android TL_messageActionChatAddUser_old
messageActionPhoneNumberRequest#1baa035 ... = MessageAction;  // android TL_messageActionPhoneNumberRequest
documentEncrypted#55555558 id:long access_hash:long date:int mime_type:string size:int thumb:PhotoSize dc_id:int attributes:Vector<DocumentAttribute> key:bytes iv:bytes = Document;  // android TL_documentEncrypted
fileEncryptedLocation#55555554 dc_id:int volume_id:long local_id:int secret:long key:bytes iv:bytes = FileLocation;  // android TL_fileEncryptedLocation
// --- layer 229 (Telethon 1.45.0, published constructors not in the layer-228 file)
messageActionChatJoinedViaCommunity#4a8bfe80 ... = MessageAction;  // 229
messageActionStarGiftUnique#7e1c1187 ... = MessageAction;  // 229
"""
