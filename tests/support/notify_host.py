"""A desktop notification service for the desktop E2E test, on the test's
own D-Bus session, in pure Python (jeepney), reduced to what the test
reads: it owns `org.freedesktop.Notifications` and records each `Notify`
(app name, summary, body), answering it as a notification server does
(the Desktop Notifications Specification: `Notify`, `GetCapabilities`,
`GetServerInformation`, `CloseNotification`). Nothing is shown.

Started only where a case checks a notification: elsewhere the test's bus
has no notification service, as under a bare Xvfb, and the app must not
mind.
"""
from __future__ import annotations

import threading
import time

from jeepney import HeaderFields, MessageType, new_error, new_method_return
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import open_dbus_connection

NAME = "org.freedesktop.Notifications"


class Notifications:
    """The service, answering on its own connection in a thread."""

    def __init__(self, bus_address: str) -> None:
        self.seen: list[dict] = []
        self._next = 0
        self._stop = threading.Event()
        self.conn = open_dbus_connection(bus_address)
        reply = self.conn.send_and_get_reply(message_bus.RequestName(NAME, 4))  # DO_NOT_QUEUE
        if reply.body[0] != 1:
            raise RuntimeError(f"cannot own {NAME}: RequestName answered {reply.body[0]}")
        self.thread = threading.Thread(target=self._serve, name="notifications", daemon=True)
        self.thread.start()

    def close(self) -> None:
        self._stop.set()
        self.thread.join(timeout=5)
        self.conn.close()

    def wait_for(self, match, timeout: float = 20) -> dict:
        """The first notification `match` accepts, waited for."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for n in list(self.seen):
                if match(n):
                    return n
            time.sleep(0.1)
        raise AssertionError(f"no such notification; seen: {self.seen}")

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                msg = self.conn.receive(timeout=0.2)
            except TimeoutError:
                continue
            except OSError:
                return
            if msg.header.message_type != MessageType.method_call:
                continue
            member = msg.header.fields.get(HeaderFields.member)
            if member == "Notify":
                app, _replaces, _icon, summary, body = msg.body[:5]
                self._next += 1
                self.seen.append({"app": app, "summary": summary, "body": body})
                self.conn.send(new_method_return(msg, "u", (self._next,)))
            elif member == "GetCapabilities":
                self.conn.send(new_method_return(msg, "as", (["body"],)))
            elif member == "GetServerInformation":
                self.conn.send(new_method_return(msg, "ssss", ("keyfob-e2e", "keyfob", "1", "1.2")))
            elif member == "CloseNotification":
                self.conn.send(new_method_return(msg))
            else:
                self.conn.send(new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod", "s",
                                         (f"{member} is not served here",)))
