"""A StatusNotifierItem watcher and host for the desktop E2E test, on the
test's own D-Bus session, in pure Python (jeepney, from PyPI).

What a desktop's panel does, reduced to what the tray test needs:

- Owns `org.kde.StatusNotifierWatcher` and answers on
  `/StatusNotifierWatcher`: `RegisterStatusNotifierItem(s)` (a bus name
  or, as libayatana-appindicator sends, an object path on the caller's
  connection), `RegisterStatusNotifierHost(s)`, and the properties
  `RegisteredStatusNotifierItems` (as), `IsStatusNotifierHostRegistered`
  (b, always true: this is the host too) and `ProtocolVersion` (i, 0),
  through `org.freedesktop.DBus.Properties` Get and GetAll. It emits
  `StatusNotifierItemRegistered` as a watcher does. Anything else is
  answered with `org.freedesktop.DBus.Error.UnknownMethod`.
- As the host, reads an item's `Menu` property (org.kde.StatusNotifierItem)
  and the menu behind it over `com.canonical.dbusmenu` (`GetLayout`), and
  clicks an entry (`Event(id, "clicked", 0, time)`), as a panel does when
  the person picks it.

Nothing is rendered; no icon is read.
"""
from __future__ import annotations

import threading
import time

from jeepney import DBusAddress, HeaderFields, MessageType, new_error, new_method_call, new_method_return, new_signal
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import open_dbus_connection

WATCHER = "org.kde.StatusNotifierWatcher"
WATCHER_PATH = "/StatusNotifierWatcher"
ITEM = "org.kde.StatusNotifierItem"
PROPS = "org.freedesktop.DBus.Properties"
MENU = "com.canonical.dbusmenu"


class Watcher:
    """The watcher, answering on its own connection in a thread."""

    def __init__(self, bus_address: str) -> None:
        self.address = bus_address
        self.items: list[tuple[str, str]] = []  # (bus name, object path)
        self._stop = threading.Event()
        self.conn = open_dbus_connection(bus_address)
        reply = self.conn.send_and_get_reply(message_bus.RequestName(WATCHER, 4))  # DO_NOT_QUEUE
        if reply.body[0] != 1:
            raise RuntimeError(f"cannot own {WATCHER}: RequestName answered {reply.body[0]}")
        self.thread = threading.Thread(target=self._serve, name="sni-watcher", daemon=True)
        self.thread.start()

    def close(self) -> None:
        self._stop.set()
        self.thread.join(timeout=5)
        self.conn.close()

    def _props(self) -> dict[str, tuple[str, object]]:
        return {
            "RegisteredStatusNotifierItems": ("as", [f"{b}{p}" for b, p in self.items]),
            "IsStatusNotifierHostRegistered": ("b", True),
            "ProtocolVersion": ("i", 0),
        }

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
            fields = msg.header.fields
            iface = fields.get(HeaderFields.interface)
            member = fields.get(HeaderFields.member)
            sender = fields.get(HeaderFields.sender)
            if iface in (WATCHER, None) and member == "RegisterStatusNotifierItem":
                service = msg.body[0]
                item = (sender, service) if service.startswith("/") else (service, "/StatusNotifierItem")
                if item not in self.items:
                    self.items.append(item)
                self.conn.send(new_method_return(msg))
                self.conn.send(new_signal(DBusAddress(WATCHER_PATH, interface=WATCHER),
                                          "StatusNotifierItemRegistered", "s", (f"{item[0]}{item[1]}",)))
            elif iface in (WATCHER, None) and member == "RegisterStatusNotifierHost":
                self.conn.send(new_method_return(msg))
            elif iface == PROPS and member == "Get" and msg.body[1] in self._props():
                self.conn.send(new_method_return(msg, "v", (self._props()[msg.body[1]],)))
            elif iface == PROPS and member == "GetAll":
                self.conn.send(new_method_return(msg, "a{sv}", (self._props(),)))
            else:
                self.conn.send(new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod", "s",
                                         (f"{iface}.{member} is not served here",)))


class Host:
    """Reads and clicks an item's menu, as a panel would."""

    def __init__(self, bus_address: str) -> None:
        self.conn = open_dbus_connection(bus_address)

    def close(self) -> None:
        self.conn.close()

    def _call(self, msg):
        reply = self.conn.send_and_get_reply(msg, timeout=10)
        if reply.header.message_type == MessageType.error:
            raise RuntimeError(f"D-Bus error: {reply.header.fields.get(HeaderFields.error_name)} {reply.body}")
        return reply.body

    def menu_path(self, item: tuple[str, str]) -> str:
        bus, path = item
        body = self._call(new_method_call(DBusAddress(path, bus_name=bus, interface=PROPS), "Get", "ss", (ITEM, "Menu")))
        return body[0][1]

    def layout(self, item: tuple[str, str]) -> dict:
        """The menu as a tree: {id, label, enabled, checked, children}."""
        bus, _ = item
        path = self.menu_path(item)
        body = self._call(new_method_call(DBusAddress(path, bus_name=bus, interface=MENU), "GetLayout", "iias", (0, -1, [])))
        return _node(body[1])

    def click(self, item: tuple[str, str], entry_id: int) -> None:
        bus, _ = item
        path = self.menu_path(item)
        self._call(new_method_call(DBusAddress(path, bus_name=bus, interface=MENU), "Event", "isvu",
                                   (entry_id, "clicked", ("i", 0), int(time.time()) & 0xFFFFFFFF)))


def _node(raw) -> dict:
    entry_id, props, children = raw
    value = {k: v[1] for k, v in props.items()}
    return {
        "id": entry_id,
        "label": value.get("label", "").replace("__", "\0").replace("_", "").replace("\0", "_"),
        "enabled": value.get("enabled", True),
        "visible": value.get("visible", True),
        "checked": value.get("toggle-state") == 1,
        "separator": value.get("type") == "separator",
        "children": [_node(c[1]) for c in children],
    }


def entries(tree: dict) -> list[dict]:
    """Every entry of a menu tree, depth first."""
    out = []
    for c in tree["children"]:
        out.append(c)
        out.extend(entries(c))
    return out
