"""Text values in the legacy encodings and widths some formats impose."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from gridkit.errors import InputError

# Characters GBK lacks that gridkit's own messages use, and the GBK look-alikes written in
# their place (counted in the export's warnings). Anything else GBK lacks stops the export.
GBK_FALLBACK = str.maketrans({"²": "2", "³": "3", "¹": "1", "µ": "μ", "−": "-", "✓": "√",
                              "⟨": "〈", "⟩": "〉"})


def fit_encoding(table: pa.Table, layer: str, encoding: str,
                 fix: str) -> tuple[pa.Table, dict[str, int]]:
    """``table`` with text that ``encoding`` can hold.

    Look-alikes for the few symbols in :data:`GBK_FALLBACK` (counts per field), an error naming the
    feature and field for any other character it lacks.
    """
    if encoding.lower().replace("-", "") == "utf8":
        return table, {}
    counts = {}
    for index, name in enumerate(table.column_names):
        _check_text(name, layer, "field name", encoding, fix)
        column = table.column(name)
        if not pa.types.is_string(column.type):
            continue
        values = column.to_pylist()
        replaced = 0
        for row, plain in enumerate(pc.string_is_ascii(column).to_pylist()):
            value = values[row]
            if value is None or plain or _encodes(value, encoding):
                continue
            values[row] = value.translate(GBK_FALLBACK)
            _check_text(values[row], layer, f"feature {row + 1} field {name}", encoding, fix)
            replaced += 1
        if replaced:
            counts[name] = replaced
            table = table.set_column(index, name, pa.array(values, pa.string()))
    return table, counts


def _encodes(text: str, encoding: str) -> bool:
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def _check_text(text: str, layer: str, where: str, encoding: str, fix: str) -> None:
    try:
        text.encode(encoding)
    except UnicodeEncodeError as exc:
        raise InputError(f"layer {layer} {where}: {text[exc.start]!r} cannot be written in "
                         f"{encoding.upper()}; {fix}", parameter="encoding") from None


def truncate(table: pa.Table, limit: int, encoding: str) -> tuple[pa.Table, dict[str, int]]:
    """Cut text longer than ``limit`` bytes at a character boundary; counts per field."""
    counts = {}
    for index, name in enumerate(table.column_names):
        column = table.column(name)
        if not pa.types.is_string(column.type):
            continue
        values = column.to_pylist()
        cut = 0
        for row, value in enumerate(values):
            if value is not None and len(value) * 4 > limit and \
                    len(value.encode(encoding)) > limit:
                values[row] = _cut(value, limit, encoding)
                cut += 1
        if cut:
            counts[name] = cut
            table = table.set_column(index, name, pa.array(values, pa.string()))
    return table, counts


def _cut(text: str, limit: int, encoding: str) -> str:
    encoded = text.encode(encoding)[:limit]
    return encoded.decode(encoding, errors="ignore")


def as_plain_types(table: pa.Table) -> pa.Table:
    """Date-times as ISO 8601 text and binary as hex: what text-based formats can hold."""
    for index, field in enumerate(table.schema):
        column = table.column(index)
        if pa.types.is_timestamp(field.type):
            zone = field.type.tz
            suffix = "" if not zone else "Z" if zone.upper() in ("UTC", "Z", "+00:00") else "%z"
            text = pc.strftime(column, format=f"%Y-%m-%dT%H:%M:%S{suffix}")
            # Arrow prints the unit's fraction (".000"); whole seconds need none.
            text = pc.replace_substring_regex(text, r"\.0+(Z|[+-]\d{4})?$", r"\1")
            table = table.set_column(index, field.name, text)
        elif pa.types.is_binary(field.type) or pa.types.is_large_binary(field.type):
            text = pa.array([None if v is None else v.hex() for v in column.to_pylist()],
                            pa.string())
            table = table.set_column(index, field.name, text)
    return table
