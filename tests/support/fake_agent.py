"""A program posing as the keyfob agent, for the security tests: it binds
the agent's socket (after the real agent was stopped) and tries to fish a
PIN out of whichever client connects, by asking for one as the real agent
would. Everything it receives is appended to the log file.

    python3 fake_agent.py SOCKET LOG

Exits when its stdin closes or on SIGTERM.
"""
import json
import os
import signal
import socket
import sys
import threading


def serve(conn: socket.socket, log: str) -> None:
    conn.settimeout(10)
    got = b""
    try:
        got += conn.recv(65536)
        # Ask in the client's own protocol version, as the agent would.
        try:
            v = json.loads(got.split(b"\n")[0])["v"]
        except (ValueError, KeyError, IndexError):
            v = 3
        ask = {"v": v, "reply": "ask", "kind": "pin", "profile": "work", "identity": "work",
               "mfa_serial": None}
        conn.sendall((json.dumps(ask) + "\n").encode())
        got += conn.recv(65536)
    except OSError:
        pass
    finally:
        with open(log, "ab") as f:
            f.write(got + b"\n--\n")
        conn.close()


def main() -> None:
    path, log = sys.argv[1], sys.argv[2]
    open(log, "ab").close()
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    s = socket.socket(socket.AF_UNIX)
    s.bind(path)
    os.chmod(path, 0o600)
    s.listen(16)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    threading.Thread(target=lambda: (sys.stdin.read(), os._exit(0)), daemon=True).start()
    print("listening", flush=True)
    while True:
        conn, _ = s.accept()
        threading.Thread(target=serve, args=(conn, log), daemon=True).start()


if __name__ == "__main__":
    main()
