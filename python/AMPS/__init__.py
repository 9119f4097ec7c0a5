# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The ampsd authors
"""AMPS: the AMPS Python client's names, over ampsd (the local sidecar).

A program written for the AMPS Python client changes its connect URI to
an ampsd one and keeps the rest: Client/HAClient, publish, subscribe,
sow, sow_and_subscribe, Command/execute, MessageStream, the exception
classes.  ampsd holds the AMPS connection, the publish store and the
bookmark store; a program may exit once its publishes are stored.
docs/PYTHON.md maps every class and method.

This file is the thin Python layer: the exception hierarchy, constants,
URI parsing, the convenience methods that build a Command, and the
classes of the AMPS client that ampsd makes configuration (stores,
server choosers, delay strategies).  The rest is the C module _amps.
"""

import atexit
import os
import threading
import urllib.parse
import weakref

from . import _amps
from ._amps import (Command, Message, MessageStream,
                    CompositeMessageBuilder, CompositeMessageParser,
                    NVFIXBuilder, NVFIXShredder, FIXBuilder, FIXShredder)

__all__ = [
    "Client", "HAClient", "Command", "Message", "MessageStream",
    "CompositeMessageBuilder", "CompositeMessageParser", "NVFIXBuilder",
    "NVFIXShredder", "FIXBuilder", "FIXShredder", "ConnectionStateListener",
    "DefaultServerChooser", "FixedDelayStrategy", "ExponentialDelayStrategy",
    "MemoryPublishStore", "PublishStore", "MemoryBookmarkStore",
    "MMapBookmarkStore", "DefaultAuthenticator",
]

# ---------------------------------------------------------------------
# Exceptions (the AMPS client's hierarchy; ampsd's own failures map onto
# the nearest class, docs/PYTHON.md "Errors").


class AMPSError(Exception):
    """Base of every error this module raises; code is libampsipc's."""
    code = _amps.ERR_UNKNOWN


AMPSException = AMPSError


def _exc(name, base, doc):
    cls = type(name, (base,), {"__doc__": doc, "__module__": __name__})
    globals()[name] = cls
    __all__.append(name)
    if name.endswith("Error"):
        alias = name[:-5] + "Exception"
        globals().setdefault(alias, cls)
        __all__.append(alias)
    return cls


__all__ += ["AMPSError", "AMPSException"]
_exc("CommandError", AMPSError, "AMPS or ampsd refused a command.")
_exc("ConnectionError", AMPSError, "The connection failed.")
_exc("AlreadyConnectedError", ConnectionError, "connect() twice.")
_exc("AuthenticationError", ConnectionError, "Logon refused.")
_exc("NotEntitledError", AuthenticationError,
     "Not entitled: by AMPS, or by ampsd.conf's allow rules.")
_exc("ConnectionRefusedError", ConnectionError,
     "ampsd is not listening (or its connection limit was reached).")
_exc("DisconnectedError", ConnectionError,
     "Not connected, or the connection to ampsd or AMPS was lost.")
_exc("InvalidURIError", ConnectionError,
     "A URI this module cannot use, or a connection ampsd does not have.")
_exc("InvalidTransportOptionsError", ConnectionError, "Bad URI options.")
_exc("TransportTypeError", ConnectionError, "Unknown transport.")
_exc("RetryOperationError", ConnectionError,
     "The operation may be retried (ampsd's store is unavailable or full).")
_exc("BadFilterError", CommandError, "AMPS could not parse a filter.")
_exc("BadRegexTopicError", CommandError, "A topic regex is invalid.")
_exc("InvalidTopicError", CommandError, "No such topic, or wrong kind.")
_exc("NameInUseError", ConnectionError, "The client name is in use.")
_exc("SubscriptionAlreadyExistsError", CommandError,
     "A subscription with this sub_id exists.")
SubscriptionAlreadyExistsException = SubscriptionAlreadyExistsError
_exc("TimedOutError", AMPSError, "A wait ran out of time.")
_exc("MessageTypeError", AMPSError, "Message type error.")
_exc("MessageTypeNotFoundError", MessageTypeError, "Unknown message type.")
_exc("StreamError", AMPSError, "Corrupt data or a protocol error.")
_exc("UnknownError", AMPSError, "An error without a better class.")
_exc("UsageError", AMPSError, "A call that is not allowed here.")
UsageException = UsageError
_exc("LocalStorageError", RetryOperationError,
     "ampsd's store is unavailable or the disk is full.")

_ERRORS = {
    _amps.ERR_PROTOCOL: StreamError,
    _amps.ERR_VERSION: ConnectionError,
    _amps.ERR_AUTHENTICATION: AuthenticationError,
    _amps.ERR_BAD_FILTER: BadFilterError,
    _amps.ERR_BAD_REGEX_TOPIC: BadRegexTopicError,
    _amps.ERR_INVALID_TOPIC: InvalidTopicError,
    _amps.ERR_NOT_ENTITLED: NotEntitledError,
    _amps.ERR_NAME_IN_USE: NameInUseError,
    _amps.ERR_SUB_EXISTS: SubscriptionAlreadyExistsError,
    _amps.ERR_TIMED_OUT: TimedOutError,
    _amps.ERR_DISCONNECTED: DisconnectedError,
    _amps.ERR_COMMAND: CommandError,
    _amps.ERR_INVALID_URI: InvalidURIError,
    _amps.ERR_CONNECTION_REFUSED: ConnectionRefusedError,
    _amps.ERR_TRANSPORT_OPTIONS: InvalidTransportOptionsError,
    _amps.ERR_TRANSPORT_TYPE: TransportTypeError,
    _amps.ERR_MESSAGE_TYPE: MessageTypeError,
    _amps.ERR_RETRY: RetryOperationError,
    _amps.ERR_STREAM: StreamError,
    _amps.ERR_UNKNOWN: UnknownError,
    _amps.ERR_NOT_PERMITTED: NotEntitledError,
    _amps.ERR_STORE_UNAVAILABLE: LocalStorageError,
    _amps.ERR_DISK_FULL: LocalStorageError,
    _amps.ERR_TOO_FAR_BEHIND: DisconnectedError,
    _amps.ERR_NOT_SUPPORTED: CommandError,
    _amps.ERR_NO_SUCH_CONNECTION: InvalidURIError,
    _amps.ERR_TOO_BIG: UsageError,
    _amps.ERR_LIMIT: ConnectionRefusedError,
    _amps.ERR_SHUTTING_DOWN: DisconnectedError,
    _amps.ERR_NO_RESOURCES: RetryOperationError,
    _amps.ERR_SYSTEM: ConnectionError,
    _amps.ERR_USAGE: UsageError,
    _amps.ERR_CLOSED: DisconnectedError,
}
_amps._set_errors(_ERRORS, AMPSError, AlreadyConnectedError)

# ---------------------------------------------------------------------
# Constants.


class _Commands:
    """Message.Command: what get_command() returns."""
    Publish = "p"
    DeltaPublish = "delta_publish"
    Subscribe = "subscribe"
    DeltaSubscribe = "delta_subscribe"
    SOW = "sow"
    SOWAndSubscribe = "sow_and_subscribe"
    SOWAndDeltaSubscribe = "sow_and_delta_subscribe"
    SOWDelete = "sow_delete"
    Unsubscribe = "unsubscribe"
    Ack = "ack"
    OOF = "oof"
    GroupBegin = "group_begin"
    GroupEnd = "group_end"
    Flush = "flush"
    Heartbeat = "heartbeat"


class _AckTypes:
    """Message.AckType: what get_ack_type() returns; set_ack_type takes
    one, a comma list, or an iterable of them."""
    None_ = ""
    Received = "received"
    Parsed = "parsed"
    Processed = "processed"
    Persisted = "persisted"
    Completed = "completed"
    Stats = "stats"


class _Status:
    Success = "success"
    Failure = "failure"


_amps._set_type_attr(Message, "Command", _Commands)
_amps._set_type_attr(Message, "AckType", _AckTypes)
_amps._set_type_attr(Message, "Status", _Status)


class ConnectionStateListener:
    """Values passed to connection state listeners."""
    Disconnected = 0
    Shutdown = 1
    Connected = 2
    LoggedOn = 4
    PublishReplayed = 8
    HeartbeatInitiated = 16
    Resubscribed = 32
    UNKNOWN = 16384


class _Bookmarks:
    """Client.Bookmarks: where a bookmark subscription starts."""
    EPOCH = "0"
    NOW = "0|1|"
    MOST_RECENT = "recent"


# ---------------------------------------------------------------------
# URIs: ampsd://[/socket/path][?connection=NAME], or None.

def _parse_uri(uri):
    """(socket path or None, connection name or None) for uri."""
    if uri is None or uri == "":
        return None, None
    u = urllib.parse.urlsplit(uri)
    if u.scheme != "ampsd":
        raise InvalidURIError(
            "%r: this client talks to ampsd; use ampsd:// (the default "
            "socket), ampsd:///path/to/ampsd.sock, and ?connection=NAME "
            "for a named ampsd connection. AMPS servers are configured in "
            "ampsd.conf" % (uri,))
    if u.netloc not in ("", "localhost"):
        raise InvalidURIError("%r: ampsd is local; no host in the URI"
                              % (uri,))
    path = u.path or None
    conn = None
    for k, v in urllib.parse.parse_qsl(u.query, keep_blank_values=True):
        if k == "connection":
            conn = v or None
        elif k in ("timeout",):
            pass
        else:
            raise InvalidTransportOptionsError(
                "%r: unknown option %r (only connection=NAME)" % (uri, k))
    return path, conn


_live = weakref.WeakSet()
_live_lock = threading.Lock()


@atexit.register
def _close_all():
    """Close clients still open at exit, before the interpreter stops
    (their receive threads must not outlive it)."""
    with _live_lock:
        clients = list(_live)
    for c in clients:
        try:
            c.close()
        except Exception:
            pass


def _not_here(what, where):
    raise UsageError("%s is configured in ampsd.conf (%s), not by the "
                     "program" % (what, where))


def _with_handler(args, kwargs):
    """Split the AMPS 'optional first argument is a handler' shape."""
    handler = kwargs.pop("on_message", None)
    if args and (callable(args[0]) or args[0] is None) and \
            not isinstance(args[0], str):
        handler, args = args[0], args[1:]
    return handler, list(args), kwargs


class Client(_amps.Client):
    """A connection to ampsd with the AMPS Python client's methods."""

    Bookmarks = _Bookmarks
    ConnectionStateListener = ConnectionStateListener

    def __init__(self, name=None):
        super().__init__(name)
        self._uri = None
        self._heartbeat = None
        with _live_lock:
            _live.add(self)

    # -- connecting ----------------------------------------------------
    def connect(self, uri=None, timeout=None):
        """Connect to ampsd.  uri: None or "ampsd://" (the socket in
        $AMPSD_SOCKET, else the default), "ampsd:///path/to.sock", with
        "?connection=NAME" for a named ampsd connection."""
        path, conn = _parse_uri(uri)
        ms = 10000 if not timeout else int(timeout)
        self._connect(path, conn, ms)
        self._uri = uri

    def logon(self, timeout=0, authenticator=None, options=None):
        """ampsd logs on to AMPS (credentials in ampsd.conf); checks that
        the client is connected and returns its name."""
        if not self.is_connected():
            raise DisconnectedError("logon: not connected (call connect)")
        return self.get_name()

    def connect_and_logon(self, uri=None, timeout=None):
        self.connect(uri, timeout)
        return self.logon()

    def disconnect(self):
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def get_uri(self):
        return self._uri

    def get_current_uri(self):
        return self._uri

    def get_logon_correlation_data(self):
        return None

    # -- settings ampsd owns ---------------------------------------------
    def set_heartbeat(self, interval, timeout=None):
        """Accepted; ampsd keeps heartbeats with AMPS (ampsd.conf
        "heartbeat") and notices a dead program by its socket."""
        self._heartbeat = (interval, timeout)

    def set_ack_batch_size(self, n):
        """Accepted; ampsd batches queue acks upstream ("queue-ack batch N
        timeout DUR" in ampsd.conf); each ack reaches ampsd at once."""
        self._ack_batch = int(n)

    def get_ack_batch_size(self):
        return getattr(self, "_ack_batch", 0)

    def set_ack_timeout(self, ms):
        """Accepted; see set_ack_batch_size."""
        self._ack_timeout = int(ms)

    def get_ack_timeout(self):
        return getattr(self, "_ack_timeout", 0)

    def flush_acks(self):
        """Acks are sent to ampsd as they are made; nothing to do."""

    def set_server_chooser(self, chooser):
        _not_here("the list of AMPS servers", 'connection "NAME" { '
                  'server "tcp://..."; }')

    def set_reconnect_delay_strategy(self, strategy):
        _not_here("the reconnect delay", 'connection { reconnect ... }')

    def set_reconnect_delay(self, ms):
        self.set_reconnect_delay_strategy(None)

    def set_publish_store(self, store):
        _not_here("the publish store", "state-directory")

    def set_bookmark_store(self, store):
        _not_here("the bookmark store", "state-directory")

    def set_transport_filter(self, fn):
        _not_here("the AMPS transport", "ampsd -t / trace wire")

    def get_bookmark_store(self):
        """The durable subscriptions' store, which lives in ampsd:
        discard_message(m) is m.discard()."""
        return _BookmarkStore(self)

    def get_publish_store(self):
        return _PublishStore(self)

    # -- receiving -------------------------------------------------------
    def _run(self, cmd, handler):
        if handler is not None:
            return self.execute_async(cmd, handler)
        return self.execute(cmd)

    @staticmethod
    def _fill(cmd, topic=None, filter=None, options=None, timeout=None,
              sub_id=None, bookmark=None, batch_size=None, top_n=None,
              order_by=None, query_id=None, skip_n=None, ack_type=None,
              max_backlog=None):
        if topic is not None:
            cmd.set_topic(topic)
        if filter is not None:
            cmd.set_filter(filter)
        if options:
            # max_backlog=N goes in its own field: ampsd's flow control
            # and queue-ack batching use it.
            rest = []
            for o in options.split(","):
                k, _, v = o.strip().partition("=")
                if k == "max_backlog" and max_backlog is None and \
                        v.isdigit():
                    max_backlog = int(v)
                elif o.strip():
                    rest.append(o.strip())
            if rest:
                cmd.set_options(",".join(rest))
        if timeout:
            cmd.set_timeout(int(timeout))
        if sub_id is not None:
            cmd.set_sub_id(sub_id)
        if bookmark is not None:
            cmd.set_bookmark(bookmark)
        if batch_size is not None:
            cmd.set_batch_size(batch_size)
        if top_n is not None and top_n >= 0:
            cmd.set_top_n(top_n)
        if skip_n is not None:
            cmd.set_skip_n(skip_n)
        if order_by is not None:
            cmd.set_order_by(order_by)
        if query_id is not None:
            cmd.set_query_id(query_id)
        if ack_type is not None:
            cmd.set_ack_type(ack_type)
        if max_backlog is not None:
            cmd.set_max_backlog(max_backlog)
        return cmd

    _SUB_ARGS = ("topic", "filter", "options", "timeout", "sub_id",
                 "bookmark")
    _SOW_ARGS = ("topic", "filter", "batch_size", "timeout", "top_n",
                 "order_by", "bookmark", "options")
    _SAS_ARGS = ("topic", "filter", "batch_size", "oof_enabled",
                 "send_empties", "timeout", "top_n", "order_by",
                 "bookmark", "options", "sub_id")

    def _receive(self, name, names, args, kwargs):
        handler, args, kwargs = _with_handler(args, kwargs)
        if len(args) > len(names):
            raise TypeError("%s: too many arguments" % name)
        kw = dict(zip(names, args))
        for k, v in kwargs.items():
            if k in kw:
                raise TypeError("%s: %s given twice" % (name, k))
            kw[k] = v
        opts = []
        if kw.pop("oof_enabled", False):
            opts.append("oof")
        if kw.pop("send_empties", False):
            opts.append("send_empties")
        conflation = kw.pop("conflation", None)
        if conflation:
            opts.append("conflation=%s" % conflation)
        if opts:
            kw["options"] = ",".join(
                ([kw["options"]] if kw.get("options") else []) + opts)
        durable = kw.pop("durable", None)
        cmd = self._fill(Command(name), **kw)
        if durable is not None:
            cmd.set_durable(durable)
        return self._run(cmd, handler)

    def subscribe(self, *args, **kwargs):
        """subscribe([handler,] topic, filter=None, options=None,
        timeout=0, sub_id=None, bookmark=None)"""
        return self._receive("subscribe", self._SUB_ARGS, args, kwargs)

    def delta_subscribe(self, *args, **kwargs):
        return self._receive("delta_subscribe", self._SUB_ARGS, args,
                             kwargs)

    def bookmark_subscribe(self, *args, **kwargs):
        """bookmark_subscribe([handler,] topic, bookmark, filter=None,
        sub_id=None, options=None, timeout=0)"""
        handler, args, kwargs = _with_handler(args, kwargs)
        names = ("topic", "bookmark", "filter", "sub_id", "options",
                 "timeout")
        kw = dict(zip(names, args))
        kw.update(kwargs)
        return self._receive("subscribe", (), [handler] if handler else [],
                             kw)

    def sow(self, *args, **kwargs):
        """sow([handler,] topic, filter=None, batch_size=10, timeout=0,
        top_n=None, order_by=None, bookmark=None, options=None)"""
        return self._receive("sow", self._SOW_ARGS, args, kwargs)

    def sow_and_subscribe(self, *args, **kwargs):
        """sow_and_subscribe([handler,] topic, filter=None, batch_size=10,
        oof_enabled=False, send_empties=False, timeout=0, top_n=None,
        order_by=None, bookmark=None, options=None, sub_id=None)"""
        return self._receive("sow_and_subscribe", self._SAS_ARGS, args,
                             kwargs)

    def sow_and_delta_subscribe(self, *args, **kwargs):
        return self._receive("sow_and_delta_subscribe", self._SAS_ARGS,
                             args, kwargs)

    def _sow_delete(self, cmd, handler, timeout):
        cmd.add_ack_type("stats")
        if timeout:
            cmd.set_timeout(int(timeout))
        if handler is not None:
            return self.execute_async(cmd, handler)
        stats = None
        for m in self.execute(cmd):
            if m.get_command() == "ack" and m.get_ack_type() == "stats":
                stats = m
        return stats

    def sow_delete(self, *args, **kwargs):
        """sow_delete([handler,] topic, filter, options=None, timeout=0):
        without a handler, returns the stats ack (get_matches())."""
        handler, args, kwargs = _with_handler(args, kwargs)
        kw = dict(zip(("topic", "filter", "options", "timeout"), args))
        kw.update(kwargs)
        cmd = Command("sow_delete").set_topic(kw["topic"]) \
            .set_filter(kw.get("filter"))
        if kw.get("options"):
            cmd.set_options(kw["options"])
        return self._sow_delete(cmd, handler, kw.get("timeout"))

    def sow_delete_by_keys(self, *args, **kwargs):
        """sow_delete_by_keys([handler,] topic, keys, timeout=0)"""
        handler, args, kwargs = _with_handler(args, kwargs)
        kw = dict(zip(("topic", "keys", "timeout"), args))
        kw.update(kwargs)
        cmd = Command("sow_delete").set_topic(kw["topic"]) \
            .set_sow_keys(kw["keys"])
        return self._sow_delete(cmd, handler, kw.get("timeout"))

    def sow_delete_by_data(self, *args, **kwargs):
        """sow_delete_by_data([handler,] topic, data, timeout=0)"""
        handler, args, kwargs = _with_handler(args, kwargs)
        kw = dict(zip(("topic", "data", "timeout"), args))
        kw.update(kwargs)
        cmd = Command("sow_delete").set_topic(kw["topic"]) \
            .set_data(kw["data"])
        return self._sow_delete(cmd, handler, kw.get("timeout"))

    def discard(self, message):
        """A durable subscription processed message (its resume point
        moves in ampsd)."""
        message.discard()

    def __repr__(self):
        return "<AMPS.Client %r %s>" % (
            self.get_name(),
            "connected" if self.is_connected() else "not connected")


# The daemon is the HA client: one class, two names.
HAClient = Client


class _BookmarkStore:
    """client.get_bookmark_store(): the store is ampsd's."""

    def __init__(self, client):
        self._client = client

    def discard_message(self, message):
        message.discard()

    def discard(self, message):
        message.discard()

    def purge(self, sub_id=None):
        if sub_id is None:
            raise UsageError("purge() of every durable subscription: "
                             "name one (ampsctl lists them)")
        self._client.remove_durable(sub_id)


class _PublishStore:
    """client.get_publish_store(): the store is ampsd's."""

    def __init__(self, client):
        self._client = client

    def unpersisted_count(self):
        return self._client.get_unpersisted_count()


class _Configured:
    """AMPS client classes whose job ampsd does: constructing them works
    (so programs import and build them unchanged); handing them to a
    client raises UsageError naming the ampsd.conf setting."""

    def __init__(self, *args, **kwargs):
        self.args = args
        self.kwargs = kwargs


class DefaultServerChooser(_Configured):
    def __init__(self):
        super().__init__()
        self.uris = []

    def add(self, uri):
        self.uris.append(uri)
        return self

    def get_current_uri(self):
        return self.uris[0] if self.uris else None


class FixedDelayStrategy(_Configured):
    pass


class ExponentialDelayStrategy(_Configured):
    pass


class MemoryPublishStore(_Configured):
    pass


class PublishStore(_Configured):
    pass


class MemoryBookmarkStore(_Configured):
    pass


class MMapBookmarkStore(_Configured):
    pass


class DefaultAuthenticator(_Configured):
    pass
