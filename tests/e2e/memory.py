"""The desktop app's memory after locking: what a core dump of each of its
processes holds (read through /proc/PID/mem, or a real gdb gcore with
KEYFOB_E2E_GCORE=1), searched for the long-term secret and the PIN. Used by tests/e2e/desktop.py as its last case, when
the app has handled every flow (add, unlock, prompt, settings).

What is asserted (`assert_none_left`): after "Lock all", no process of
the app (its own, WebKit's network and web processes) holds a copy of
the long-term secret or of the PIN.

How each process comes to hold none:
- The web process's JavaScript heap keeps the strings of whatever was
  typed into the page (JavaScript cannot wipe a string, only drop it for
  the garbage collector): the PIN was found there 16 times and the secret
  once. "Lock all" therefore ends the web process by destroying the
  window and building it afresh, and the check runs on the new one, once
  the old one is gone.
- The app's own process: Rust's memory is wiped when freed (the
  zeroizing allocator), but every IPC message also passes through
  WebKit's UI-process heap, C++ memory that allocator does not see, and
  a clean-clone CI run once found the PIN there after the lock. So the
  page seals secret fields before they cross (src-tauri/src/sealing.rs),
  to a key that "Lock all" replaces: what that heap keeps is ciphertext
  no key opens any more.
- The test types PINs and the secret key by key (desktop.py's
  `type_secret`), as a person does: WebDriver's Element Send Keys would
  put the whole text in one automation message through the UI process,
  a copy no user's typing makes.

KEYFOB_E2E_CONTEXT=1 prints the bytes around each copy found, for
whoever has to find what holds it.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path


def processes(root_pid: int) -> dict[int, str]:
    """The process `root_pid` and its descendants, with their names."""
    children: dict[int, list[int]] = {}
    names: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
        names[int(entry.name)] = name
    found, todo = {}, [root_pid]
    while todo:
        pid = todo.pop()
        found[pid] = names.get(pid, "?")
        todo.extend(children.get(pid, []))
    return found


def app_pid(exe: Path) -> int:
    """The running app's pid (started by WebKitWebDriver, not by us)."""
    target = str(exe.resolve())
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if str(Path(entry / "exe").resolve()) == target:
                    return int(entry.name)
            except OSError:
                continue
    raise RuntimeError(f"{exe} is not running")


def resident_regions(pid: int) -> list[tuple[int, int]]:
    """The readable regions of `pid` with any page in memory or swap."""
    regions, current = [], None
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        fields = line.split()
        if "-" in fields[0] and len(fields) >= 2 and len(fields[1]) == 4:
            start, end = (int(x, 16) for x in fields[0].split("-"))
            current = (start, end) if fields[1][0] == "r" else None
        elif current and fields[0] in ("Rss:", "Swap:") and int(fields[1]) > 0:
            regions.append(current)
            current = None
    return regions


PAGE = os.sysconf("SC_PAGE_SIZE")


def present_runs(pid: int, start: int, end: int) -> list[tuple[int, int]]:
    """The stretches of [start, end) whose pages are in memory or swap,
    from /proc/PID/pagemap (bit 63: present, bit 62: swapped). WebKit
    reserves gigabytes it never touches; reading only these is what keeps
    the scan to seconds."""
    with open(f"/proc/{pid}/pagemap", "rb", buffering=0) as pagemap:
        pagemap.seek(start // PAGE * 8)
        raw = pagemap.read((end - start) // PAGE * 8)
    entries = memoryview(raw).cast("Q")
    runs, run_start = [], None
    for i, entry in enumerate(entries):
        addr = start + i * PAGE
        if entry >> 62:
            if run_start is None:
                run_start = addr
        elif run_start is not None:
            runs.append((run_start, addr))
            run_start = None
    if run_start is not None:
        runs.append((run_start, end))
    return runs


def count_in_memory(pid: int, needles: dict[str, str]) -> dict[str, int]:
    """Counts each needle (UTF-8 and UTF-16LE, the encodings Rust and
    JavaScript keep strings in) in what a core dump of `pid` would hold
    beyond zeros: every readable page in memory or swap, read through
    /proc/PID/mem. (`gcore` writes the same bytes, plus WebKit's untouched
    reservations as gigabytes of zeros: 6.5 GB a process here, minutes to
    write and scan.)"""
    patterns = {label: (t.encode(), t.encode("utf-16-le")) for label, t in needles.items()}
    longest = max(len(p) for pair in patterns.values() for p in pair)
    counts = dict.fromkeys(needles, 0)
    where: list[tuple[str, str]] = []
    with open(f"/proc/{pid}/mem", "rb", buffering=0) as mem:
        for region_start, region_end in resident_regions(pid):
            for start, end in present_runs(pid, region_start, region_end):
                tail = b""
                for offset in range(start, end, 1 << 20):
                    try:
                        mem.seek(offset)
                        chunk = mem.read(min(1 << 20, end - offset))
                    except OSError:
                        break  # unmapped meanwhile, or a guard page
                    data = tail + chunk
                    for label, pair in patterns.items():
                        # A match across the chunk boundary is counted in
                        # the chunk where it ends, exactly once.
                        n = sum(data.count(p) - tail.count(p) for p in pair)
                        counts[label] += n
                        if n:
                            where.append((label, region_of(pid, offset)))
                            if os.environ.get("KEYFOB_E2E_CONTEXT"):
                                for pat in pair:
                                    i = data.find(pat)
                                    while i >= 0:
                                        print(f"      context: {data[max(0, i - 160):i + len(pat) + 160]!r}")
                                        i = data.find(pat, i + 1)
                    tail = data[-(longest - 1):]
    for label, region in where:
        # Where a copy is, for whoever has to find what holds it.
        print(f"      {label} found in {region}")
    return counts


def region_of(pid: int, address: int) -> str:
    """The /proc/PID/maps line of the region holding `address`."""
    for line in Path(f"/proc/{pid}/maps").read_text().splitlines():
        start, end = (int(x, 16) for x in line.split()[0].split("-"))
        if start <= address < end:
            return f"{line.strip()} (size {(end - start) >> 10} KiB)"
    return "an unmapped region"


def count_in_core(pid: int, needles: dict[str, str]) -> dict[str, int]:
    """The same count in a real core dump taken with gdb's gcore (slow and
    large: for the figures in docs/SECURITY.md, KEYFOB_E2E_GCORE=1)."""
    if shutil.which("gcore") is None:
        raise RuntimeError("gcore (gdb) is missing: scripts/deps test installs it")
    with tempfile.TemporaryDirectory(prefix="keyfob-core-") as tmp:
        prefix = Path(tmp) / "core"
        subprocess.run(["gcore", "-o", str(prefix), str(pid)], check=True, timeout=600,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        core = Path(f"{prefix}.{pid}")
        counts = dict.fromkeys(needles, 0)
        longest = max(len(t.encode("utf-16-le")) for t in needles.values())
        with core.open("rb") as f:
            tail = b""
            while chunk := f.read(1 << 24):
                data = tail + chunk
                for label, text in needles.items():
                    for p in (text.encode(), text.encode("utf-16-le")):
                        counts[label] += data.count(p) - tail.count(p)
                tail = data[-(longest - 1):]
    return counts


def after_lock(exe: Path, needles: dict[str, str]) -> list[tuple[int, str, dict[str, int]]]:
    """Counts of each needle in a core dump of each of the app's processes."""
    found = []
    for pid, name in sorted(processes(app_pid(exe)).items()):
        count = count_in_core if os.environ.get("KEYFOB_E2E_GCORE") else count_in_memory
        try:
            found.append((pid, name, count(pid, needles)))
        except (subprocess.CalledProcessError, FileNotFoundError, ProcessLookupError):
            continue  # a helper process that exited meanwhile
    return found


def assert_none_left(found: list[tuple[int, str, dict[str, int]]]) -> None:
    """Every process read, the app's and a web process among them, holds
    no copy of any needle."""
    names = [name for _, name, _ in found]
    assert any(n.startswith("keyfob-desktop") for n in names), f"the app's process was not read: {names}"
    assert any(n.startswith("WebKitWebProces") for n in names), f"no web process was read: {names}"
    left = [
        (pid, name, counts)
        for pid, name, counts in found
        if any(counts.values())
    ]
    assert not left, f"copies survive the lock: {left}"
