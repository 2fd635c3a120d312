#!/usr/bin/env python3
"""The independent reader of the corpus test (test/real-world-corpus.test.ts).

Reads vCard files with Python vobject and iCalendar files with Python
icalendar (Debian python3-vobject, python3-icalendar: scripts/install-system-deps.sh)
and prints, per file, what they hold in a form that does not depend on the
order of items or of lines: each item as a sorted list of property lines
(name, parameters, value as the library reads it), calendar properties as a
set. Nothing here shares code with the simsync readers it checks.

Input on stdin: JSON [{"path": ..., "kind": "vcard"|"ical"}]. Output: JSON
{path: {"ok": true, "items": [...], "calprops": [...]} | {"ok": false, "error": "..."}}.
"""
import json
import sys

import icalendar
import vobject


def decode(data: bytes) -> str:
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def vcard_line(line) -> str:
    params = sorted((k.upper(), sorted(str(v) for v in vs)) for k, vs in line.params.items() if k.upper() != "CHARSET")
    group = f"{line.group}." if line.group else ""
    return f"{group}{line.name.upper()};{json.dumps(params)}:{line.value!s}"


def read_vcards(text: str):
    items = []
    for card in vobject.readComponents(text, transform=False, allowQP=True):
        lines = sorted(vcard_line(line) for line in card.lines())
        items.append(lines)
    return {"ok": True, "items": sorted(json.dumps(i, ensure_ascii=False) for i in items), "calprops": []}


def ical_props(component) -> list:
    out = []
    for name, value in component.property_items(recursive=False, sorted=False):
        if name in ("BEGIN", "END"):
            continue
        raw = value.to_ical() if hasattr(value, "to_ical") else value
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        params = getattr(value, "params", None)
        listed = sorted((k, str(v)) for k, v in params.items()) if params else []
        out.append(f"{name};{json.dumps(listed, ensure_ascii=False)}:{text}")
    return out


def ical_component(component) -> str:
    parts = sorted(ical_props(component))
    children = sorted(ical_component(c) for c in component.subcomponents)
    return json.dumps([component.name, parts, children], ensure_ascii=False)


def read_ical(text: str):
    roots = icalendar.Calendar.from_ical(text, multiple=True)
    items, zones, calprops = [], set(), set()
    for root in roots:
        if root.name == "VCALENDAR":
            calprops.update(ical_props(root))
            children = root.subcomponents
        else:
            children = [root]
        for child in children:
            if child.name == "VTIMEZONE":
                zones.add(ical_component(child))
            else:
                items.append(ical_component(child))
    return {"ok": True, "items": sorted(items) + sorted(zones), "calprops": sorted(calprops)}


def main() -> None:
    out = {}
    for entry in json.load(sys.stdin):
        try:
            with open(entry["path"], "rb") as fh:
                text = decode(fh.read())
            out[entry["path"]] = read_vcards(text) if entry["kind"] == "vcard" else read_ical(text)
        except Exception as e:  # noqa: BLE001 - any refusal is an answer
            out[entry["path"]] = {"ok": False, "error": f"{type(e).__name__}: {e}"}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
