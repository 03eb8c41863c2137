"""The URL harness's entries of the channels pages; see tests/url_table.py for the format.

Everyone who reads marketing reads the list (searched, filtered, sorted, paged; a
filter value that is not a choice is a 400); only the business manager adds a
channel, changes one and switches one off or back on (POST only), each write
audited; a bad form is a 400 and writes nothing."""

from __future__ import annotations

READERS = "403 403 200 200 200 200 200 200 login"
READERS_BAD = "403 403 400 400 400 400 400 400 login"
BM_GET = "403 403 200 403 403 403 403 403 login"
BM_POST = "403 403 302w 403 403 403 403 403 login"
BM_BAD = "403 403 400 403 403 403 403 403 login"
# a switch to the state the channel is already in: said, nothing written
BM_NOTHING = "403 403 302 403 403 403 403 403 login"


def _channel(key: str):
    return lambda w, s: {"pk": w.objects["channel"][key].pk}


def _new_channel(w, s) -> dict:
    return {
        "code": "video",
        "name": "视频银行",
        "contact_channel": "call",
        "transaction_channel": "",
        "position": "300",
        "description": "远程视频柜员。",
    }


def _changed_channel(w, s) -> dict:
    return {
        "name": "驻场营销（改）",
        "contact_channel": "visit",
        "transaction_channel": "COUNTER",
        "position": "210",
        "description": "",
    }


def add(t) -> None:
    t.URLS["marketing:channel_list"] = t.Url(
        t.Case(get=READERS),
        t.Case(label="searched", get=READERS, query=lambda w, s: {"q": "外呼"}),
        t.Case(
            label="switched off, sorted, paged",
            get=READERS,
            query=lambda w, s: {"active": "0", "sort": "-campaigns", "size": "50", "page": "2"},
        ),
        t.Case(label="bad status", get=READERS_BAD, query=lambda w, s: {"active": "maybe"}),
    )
    t.URLS["marketing:channel_create"] = t.Url(
        t.Case(get=BM_GET, post=BM_POST, data=_new_channel),
        t.Case(
            label="code taken",
            post=BM_BAD,
            data=lambda w, s: {**_new_channel(w, s), "code": "call_centre"},
        ),
        t.Case(label="no name", post=BM_BAD, data=lambda w, s: {**_new_channel(w, s), "name": ""}),
    )
    t.URLS["marketing:channel_edit"] = t.Url(
        t.Case(kwargs=_channel("in_use"), get=BM_GET, post=BM_POST, data=_changed_channel),
        t.Case(
            label="bad contact channel",
            kwargs=_channel("in_use"),
            post=BM_BAD,
            data=lambda w, s: {**_changed_channel(w, s), "contact_channel": "fax"},
        ),
    )
    t.URLS["marketing:channel_switch"] = t.Url(
        t.Case(label="off", kwargs=_channel("in_use"), post=BM_POST, data=lambda w, s: {"active": "0"}),
        t.Case(label="on", kwargs=_channel("off"), post=BM_POST, data=lambda w, s: {"active": "1"}),
        t.Case(
            label="already off", kwargs=_channel("off"), post=BM_NOTHING, data=lambda w, s: {"active": "0"}
        ),
        t.Case(label="bad", kwargs=_channel("in_use"), post=BM_BAD, data=lambda w, s: {"active": "soon"}),
    )
