"""Format readers: PDF library choice (speed and table fidelity) and reports/second for PDF and HTML.

    python benchmarks/bench_formats.py [--repeat 20] [--html-n 300]

1. PDF libraries on the real report `tests/fixtures/real/huaian_2024.pdf` (6 pages): median time of each
   extraction, and FIDELITY = figures of huaian_2024.expected.json reproduced when the extracted text goes
   through the same parser (`parse_bytes`), out of all figures, plus the record's status; and ROWS INTACT
   = table-3 rows whose label and seven figures come out on one line, figures in column order:
   - `ours`: pypdfium2 characters + ruled-table lattice (pdfplumber's algorithm) → tab-separated rows;
   - `pdfplumber text`: `page.extract_text()`;
   - `pdfplumber tables`: `find_tables()` rows tab-joined, other text by `extract_text_lines()`;
   - `pdfminer.six text`: `high_level.extract_text()`;
   - `pypdfium2 text`: `PdfTextPage.get_text_range()`.
2. Throughput, one process, warm cache: PDF (the Huai'an report, parsed `--repeat` times) and HTML (the
   synthetic `html` layout, `--html-n` reports with known truth — accuracy is printed too), each both for
   the reader alone (`extract`) and the whole `parse_bytes`.

Prints a markdown table and writes `benchmarks/out/bench_formats-latest.json`.
"""

from __future__ import annotations

import argparse
import io
import json
import platform
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipelines.parsing import parse_bytes  # noqa: E402
from pipelines.parsing.formats import html, pdf  # noqa: E402
from pipelines.parsing.normalize import normalize  # noqa: E402
from pipelines.synth import generate_report  # noqa: E402
from schemas.codes import ROW_BY_CODE  # noqa: E402

HUAIAN = ROOT / "tests" / "fixtures" / "real" / "huaian_2024.pdf"
EXPECTED = ROOT / "tests" / "fixtures" / "real" / "huaian_2024.expected.json"
OUT = ROOT / "benchmarks" / "out"


def _median_seconds(fn: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """(median wall seconds, median CPU seconds of this process) per call.

    CPU time is reported beside wall time because a shared machine inflates wall time; the CPU time of
    a single-threaded extractor is what it costs wherever it runs.
    """
    fn()  # warm-up (imports, caches)
    walls, cpus = [], []
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    return statistics.median(walls), statistics.median(cpus)


# --------------------------------------------------------------------------------------------
# PDF extractors compared
# --------------------------------------------------------------------------------------------
def ours(data: bytes) -> str:
    return pdf.extract(data).text


def pdfplumber_text(data: bytes) -> str:
    import pdfplumber

    with pdfplumber.open(io.BytesIO(data)) as doc:
        return "\n".join(page.extract_text() or "" for page in doc.pages)


def pdfplumber_tables(data: bytes) -> str:
    import pdfplumber

    out: list[str] = []
    with pdfplumber.open(io.BytesIO(data)) as doc:
        for page in doc.pages:
            tables = page.find_tables()
            boxes = [t.bbox for t in tables]

            def outside(obj: dict[str, Any], boxes: list = boxes) -> bool:
                cx, cy = (obj["x0"] + obj["x1"]) / 2, (obj["top"] + obj["bottom"]) / 2
                return not any(b[0] <= cx <= b[2] and b[1] <= cy <= b[3] for b in boxes)

            items: list[tuple[float, list[str]]] = []
            for line in page.filter(outside).extract_text_lines():
                items.append((line["top"], [line["text"]]))
            for t in tables:
                rows = ["\t".join((c or "").replace("\n", "") for c in row) for row in t.extract()]
                items.append((t.bbox[1], rows))
            for _, lines in sorted(items, key=lambda i: i[0]):
                out.extend(lines)
    return "\n".join(out)


def pdfminer_text(data: bytes) -> str:
    from pdfminer.high_level import extract_text

    return extract_text(io.BytesIO(data))


def pypdfium2_text(data: bytes) -> str:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(data)
    try:
        return "\n".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
    finally:
        doc.close()


EXTRACTORS: dict[str, Callable[[bytes], str]] = {
    "ours (pypdfium2 + lattice)": ours,
    "pdfplumber text": pdfplumber_text,
    "pdfplumber tables": pdfplumber_tables,
    "pdfminer.six text": pdfminer_text,
    "pypdfium2 text": pypdfium2_text,
}


def _figures(record: dict[str, Any]) -> dict[tuple[str, ...], Any]:
    out: dict[tuple[str, ...], Any] = {("proactive", k): v for k, v in record["proactive"].items()}
    for table in ("applications", "appeals"):
        for outer, inner in record[table].items():
            out.update({(table, outer, code): v for code, v in inner.items()})
    return out


_NUMBER = re.compile(r"^\d+(?:\.\d+)?$")


def rows_intact(text: str, expected: dict[str, Any]) -> tuple[int, int]:
    """Table-3 rows printed as one line: the end of the row's label and its seven figures in column order.

    This is what the text parser gets for free from a grid; the final figures can still come out right
    from a scattered layout (the parser reassembles it), but only by its heuristics.
    """
    lines = []
    for line in normalize(text).splitlines():
        numbers = tuple(t for t in line.replace("\t", " ").split() if _NUMBER.match(t))
        lines.append((re.sub(r"\s+", "", line), numbers))
    intact = 0
    for code, row in expected["applications"].items():
        label = re.sub(r"\s+", "", normalize(ROW_BY_CODE[code].label))
        label_end = re.sub(r"^[\d.、()一二三四五六七八九十]+", "", label)[-5:]  # 3.其他 is printed 3、其他
        figures = tuple(str(v) for v in row.values())
        intact += any(label_end in compact and numbers == figures for compact, numbers in lines)
    return intact, len(expected["applications"])


def fidelity(name: str, text: str, expected: dict[str, Any]) -> dict[str, Any]:
    if name.startswith("ours"):
        got = parse_bytes(HUAIAN.read_bytes(), "huaian_2024.pdf").to_json()
    else:
        got = parse_bytes(text.encode("utf-8"), "huaian_2024.txt").to_json()
    want, have = _figures(expected), _figures(got)
    right = sum(1 for k, v in want.items() if have.get(k) == v)
    meta = all(got[k] == expected[k] for k in ("agency", "year", "template"))
    intact, rows = rows_intact(text, expected)
    return {
        "figures_right": right,
        "figures": len(want),
        "metadata_right": meta,
        "status": got["status"],
        "rows_intact": intact,
        "rows": rows,
    }


# --------------------------------------------------------------------------------------------
# Throughput
# --------------------------------------------------------------------------------------------
def throughput(items: list[tuple[bytes, str]], fn: Callable[[bytes, str], Any], repeat: int = 1) -> dict[str, float]:
    """Reports per second of wall time and of this process's CPU time."""
    t, c = time.perf_counter(), time.process_time()
    for _ in range(repeat):
        for data, name in items:
            fn(data, name)
    n = len(items) * repeat
    return {"wall": n / (time.perf_counter() - t), "cpu": n / max(1e-9, time.process_time() - c)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=20, help="runs per PDF extractor / PDF throughput runs")
    ap.add_argument("--html-n", type=int, default=300, help="synthetic HTML reports for the throughput")
    args = ap.parse_args()

    data = HUAIAN.read_bytes()
    expected = json.loads(EXPECTED.read_text(encoding="utf-8"))
    libraries: dict[str, Any] = {}
    for name, fn in EXTRACTORS.items():
        wall, cpu = _median_seconds(lambda fn=fn: fn(data), args.repeat)
        libraries[name] = {"seconds": wall, "cpu_seconds": cpu, **fidelity(name, fn(data), expected)}

    pdf_items = [(data, "huaian_2024.pdf")]
    reports = [generate_report(seed, layout="html") for seed in range(args.html_n)]
    html_items = [(r.data, r.name) for r in reports]
    right = sum(1 for r in reports if _figures(parse_bytes(r.data, r.name, r.sidecar).to_json()) == _figures(r.truth))
    results: dict[str, Any] = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "libraries": libraries,
        "throughput_reports_per_s": {
            "pdf extract": throughput(pdf_items, lambda d, n: pdf.extract(d), args.repeat),
            "pdf parse_bytes": throughput(pdf_items, parse_bytes, args.repeat),
            "html extract": throughput(html_items, lambda d, n: html.extract(d)),
            "html parse_bytes": throughput(html_items, parse_bytes),
        },
        "html_synthetic": {
            "reports": len(reports),
            "all_figures_right": right,
            "bytes_mean": sum(len(d) for d, _ in html_items) // max(1, len(html_items)),
        },
    }

    print("| PDF extractor (huaian_2024.pdf, 6 pages) | median wall ms | median CPU ms | table rows intact "
          "| figures right | status |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---|")
    for name, r in libraries.items():
        print(
            f"| {name} | {r['seconds'] * 1000:.1f} | {r['cpu_seconds'] * 1000:.1f} | {r['rows_intact']}/{r['rows']} | "
            f"{r['figures_right']}/{r['figures']} | {r['status']} |"
        )
    print()
    print("| reader | reports/s wall (1 process) | reports/s CPU |")
    print("|---|---:|---:|")
    for name, v in results["throughput_reports_per_s"].items():
        print(f"| {name} | {v['wall']:.1f} | {v['cpu']:.1f} |")
    h = results["html_synthetic"]
    print(f"\nsynthetic HTML: {h['all_figures_right']}/{h['reports']} reports with every figure right")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "bench_formats-latest.json").write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
