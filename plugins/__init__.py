"""Exhibit's built-in artifact plugins, one module per artifact family.

The tuple :data:`BUILTIN_PLUGINS` is the registry of built-ins: listing them here, explicitly,
means no plugin appears or disappears because some module happened to be imported, and the order
of the tuple (not import order) is the order plugins run in. A test fails when a module of this
package is missing from the tuple. Third-party plugins use the ``exhibit.plugins`` entry-point
group instead (see docs/plugins.md).
"""

from __future__ import annotations

from plugins.browser.chrome import ChromeHistoryPlugin
from plugins.browser.firefox import FirefoxHistoryPlugin
from plugins.chat.addressbook_ios import AddressBookIosPlugin
from plugins.chat.callhistory_ios import CallHistoryIosPlugin
from plugins.chat.calllog_android import AndroidCallLogPlugin
from plugins.chat.contacts_android import AndroidContactsPlugin
from plugins.chat.imessage import IMessagePlugin
from plugins.chat.kik_android import KikAndroidPlugin
from plugins.chat.kik_ios import KikIosPlugin
from plugins.chat.mms_android import AndroidMmsPlugin
from plugins.chat.signal_android import SignalAndroidPlugin
from plugins.chat.skype import SkypePlugin
from plugins.chat.sms_android import AndroidSmsPlugin
from plugins.chat.telegram_android import TelegramAndroidPlugin
from plugins.chat.viber_android import ViberDataPlugin, ViberMessagesPlugin
from plugins.chat.whatsapp_android import WhatsAppAndroidContactsPlugin, WhatsAppAndroidPlugin
from plugins.chat.whatsapp_ios import WhatsAppIosCallsPlugin, WhatsAppIosContactsPlugin, WhatsAppIosPlugin
from plugins.document.odf import OdfPlugin
from plugins.document.ole_office import OleOfficePlugin
from plugins.document.ooxml import OoxmlPlugin
from plugins.document.pdf import PdfPlugin
from plugins.indicator.identifiers import IdentifiersAnalyzer
from plugins.indicator.text_identifiers import TextIdentifiersPlugin
from plugins.media.pdq import PdqPlugin
from plugins.media.photos_exif import PhotoExifPlugin
from plugins.media.video_meta import VideoMetaPlugin
from triage.plugin import Analyzer, Plugin

__all__ = ["BUILTIN_ANALYZERS", "BUILTIN_PLUGINS"]

BUILTIN_PLUGINS: tuple[type[Plugin], ...] = (
    AndroidSmsPlugin,
    AndroidMmsPlugin,
    AndroidCallLogPlugin,
    AndroidContactsPlugin,
    WhatsAppIosPlugin,
    IMessagePlugin,
    AddressBookIosPlugin,
    CallHistoryIosPlugin,
    WhatsAppIosContactsPlugin,
    WhatsAppIosCallsPlugin,
    WhatsAppAndroidPlugin,
    WhatsAppAndroidContactsPlugin,
    TelegramAndroidPlugin,
    SkypePlugin,
    KikIosPlugin,
    ViberDataPlugin,
    ViberMessagesPlugin,
    SignalAndroidPlugin,
    KikAndroidPlugin,
    ChromeHistoryPlugin,
    FirefoxHistoryPlugin,
    PhotoExifPlugin,
    VideoMetaPlugin,
    PdqPlugin,
    OoxmlPlugin,
    OdfPlugin,
    PdfPlugin,
    OleOfficePlugin,
    TextIdentifiersPlugin,
)

#: Built-in analyzers (run after the file plugins, over a run's stored records), in running order.
BUILTIN_ANALYZERS: tuple[type[Analyzer], ...] = (IdentifiersAnalyzer,)
