#!/usr/bin/env python3
"""What scripts/bench makes of its results: the targets table (text and markdown), the JSON file and the SVG
chart (hand-written SVG, Python's standard library only). Also runs alone, to redo the markdown and the
chart from a results file without measuring again:

    python3 scripts/bench_report.py RESULTS.json [--markdown FILE]... [--svg FILE]

A markdown file holding the two markers below gets only the part between them replaced, so the text around
the table (BENCHMARKS.md's own sections, the README's) survives a regeneration.
"""

import argparse
import html
import json
import math
import sys
from pathlib import Path

BEGIN = "<!-- bench:begin -->"
END = "<!-- bench:end -->"


def rate(r):
    return f"{r:,.0f} jobs/s"


def ms(v):
    return f"{v:.3f} ms" if v < 10 else f"{v:.1f} ms"


def mib(kib):
    return f"{kib / 1024:.1f} MiB"


def targets(results):
    """One row per figure the issue sets a target for (and the figures beside them): what, Verk, Sidekiq (same
    run), goal, met (True, False, or None when there is no goal)."""
    s = results["sections"]
    rows = []

    def row(what, verk, sidekiq="", goal="", met=None):
        rows.append({"what": what, "verk": verk, "sidekiq": sidekiq, "goal": goal, "met": met})

    if "drain" in s:
        d = s["drain"]
        v, w, i = d["verk"]["median"], d["sidekiq_warn"]["median"], d["sidekiq_info"]["median"]
        row(f"no-op drain, 1 queue, c{d['concurrency']}, {d['jobs']:,} jobs", rate(v),
            f"{rate(w)} (WARN logging, {d['jobs_sidekiq']:,} jobs)", "≥ 150,000 jobs/s", v >= 150_000)
        row("… Verk ÷ Sidekiq at WARN logging", f"{d['ratio_warn']:.1f}×", "", "≥ 15×", d["ratio_warn"] >= 15)
        row("… Verk ÷ Sidekiq at default INFO logging", f"{d['ratio_info']:.1f}×", rate(i) + " (INFO logging)")
        q, n = d["queues"], d["nodes"]
        row(f"no-op drain, {q['queues']} queues × {q['jobs_per_queue']:,}, 1 node", rate(q["rate"]) + " in all")
        row(f"no-op drain, {n['nodes']} nodes, 1 queue, {n['jobs']:,} jobs", rate(n["rate"]) + " in all")
    if "latency" in s:
        lat = s["latency"]
        v, k = lat["verk"], lat["sidekiq"]
        what = "latency enqueue → perform,"
        row(f"{what} p50 ({lat['rate']:,} jobs/s for {lat['jobs'] / lat['rate']:.0f} s)", ms(v["p50"]), ms(k["p50"]), "≤ 0.3 ms and ≤ Sidekiq", v["p50"] <= 0.3 and v["p50"] <= k["p50"])
        row(f"{what} p90", ms(v["p90"]), ms(k["p90"]))
        row(f"{what} p99", ms(v["p99"]), ms(k["p99"]), "≤ 1 ms and ≤ Sidekiq", v["p99"] <= 1 and v["p99"] <= k["p99"])
        row(f"{what} max", ms(v["max"]), ms(k["max"]))
    if "memory" in s:
        m = s["memory"]
        row(f"peak RSS, supervisor, after the drain of {m['verk_jobs']:,}", mib(m["supervisor_kib"]),
            f"{mib(m['sidekiq_kib'])} (its process, after {m['sidekiq_jobs']:,})", "≤ 20 MiB", m["supervisor_kib"] <= 20 * 1024)
        row("peak RSS, worker process, same drain", mib(m["workers_kib"]), "", "≤ 15 MiB", m["workers_kib"] <= 15 * 1024)
    if "enqueue" in s:
        e = s["enqueue"]
        ping = e["ping"]["median"] if "ping" in e else e["ping_mbulk"]["median"]
        row(f"enqueue one at a time ({e['sizes']['one']:,} jobs)",
            f"{rate(e['verk_one']['median'])} ({e['ratio_to_ping']:.0%} of PING, {ping:,.0f}/s)",
            rate(e["sidekiq_push"]["median"]) + " (push)", "within 10 % of PING", e["ratio_to_ping"] >= 0.9)
        row(f"enqueue in bulk, 1,000 per call ({e['sizes']['bulk']:,})", rate(e["verk_bulk"]["median"]),
            rate(e["sidekiq_push_bulk"]["median"]) + " (push_bulk)", "≥ 300,000 jobs/s", e["verk_bulk"]["median"] >= 300_000)
    if "crash" in s:
        c = s["crash"]
        k = c["kill_to_ready_ms"]
        row(f"crash → replacement ready ({c['crashes']} first restarts)",
            f"p50 {k['p50']:.1f} ms, p90 {k['p90']:.1f}, max {k['max']:.1f}", "—", "p50 ≤ 20 ms",
            k["p50"] <= 20 and c["backoffs_seen"] == 0)
    for w in s.get("work", []):
        kind = "sleeping" if w["kind"] == "sleep" else "CPU-bound"
        row(f"1 ms {kind} jobs, c{w['concurrency']} (ideal {w['ideal']:,.0f}/s)",
            f"{rate(w['verk']['rate'])} ({w['verk']['rate'] / w['ideal']:.0%})",
            f"{rate(w['sidekiq']['rate'])} ({w['sidekiq']['rate'] / w['ideal']:.0%})")
    return rows


def met_text(met, markdown):
    if met is None:
        return ""
    if met:
        return "yes"
    return "**no**" if markdown else "NO"


def text_table(results):
    rows = results["targets"]
    head = ("", "Verk for Swift", "Sidekiq 6.4, same run", "target", "met")
    cells = [head] + [(r["what"], r["verk"], r["sidekiq"], r["goal"], met_text(r["met"], False)) for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(5)]
    lines = []
    for n, c in enumerate(cells):
        lines.append("  ".join(text.ljust(widths[i]) for i, text in enumerate(c)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown(results):
    m = results["machine"]
    kind = "smoke run (small sizes)" if results["mode"] == "smoke" else "full run"
    runs = "one run" if results["runs"] == 1 else f"medians of {results['runs']} runs for drain, latency and enqueue"
    lines = [
        f"Measured {results['started_at'][:10]} by `scripts/bench` ({kind}, {runs}; {results['duration_s']:.0f} s) on "
        f"{m['cores']} cores ({m['cpu']}), Linux {m['kernel']}, redis-server {m['redis']}, Swift {m['swift']}, "
        f"Ruby {m['ruby']} with Sidekiq {m['sidekiq']}; load average {m['loadavg_start']} at the start and "
        f"{m.get('loadavg_end', '?')} at the end. Binaries: {results['build']}.",
        "",
        "| | Verk for Swift | Sidekiq 6.4, same run | target | met |",
        "|---|---|---|---|---|",
    ]
    for r in results["targets"]:
        cells = [r["what"], r["verk"], r["sidekiq"], r["goal"], met_text(r["met"], True)]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def write_markdown(results, path):
    fragment = markdown(results)
    target = Path(path)
    if target.exists():
        text = target.read_text()
        if BEGIN in text and END in text:
            before, rest = text.split(BEGIN, 1)
            _, after = rest.split(END, 1)
            target.write_text(f"{before}{BEGIN}\n{fragment}{END}{after}")
            return
    target.write_text(fragment)


# The chart.

COLORS = {"0": "#9ecae1", "concurrency": "#4292c6", "1000": "#08306b", "default": "#31a354", "sidekiq": "#cc2222"}
FONT = "font-family='Helvetica, Arial, sans-serif'"


def nice_ticks(top, count=5):
    """0 and evenly spaced round values (1, 2 or 5 × 10^k apart) reaching at least `top`."""
    if top <= 0:
        return [0, 1]
    raw = top / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return [i * step for i in range(int(math.ceil(top / step)) + 1)]


def short(r):
    return f"{r / 1000:.0f}k" if r >= 10_000 else f"{r / 1000:.1f}k" if r >= 1000 else f"{r:.0f}"


def text(x, y, content, size=12, anchor="middle", color="#222", weight="normal", rotate=None):
    transform = f" transform='rotate({rotate} {x:.1f} {y:.1f})'" if rotate else ""
    return (f"<text x='{x:.1f}' y='{y:.1f}' font-size='{size}' text-anchor='{anchor}' fill='{color}' "
            f"font-weight='{weight}' {FONT}{transform}>{html.escape(content)}</text>")


def throughput_panel(results, x0, y0, width, height):
    parts = [text(x0 + width / 2, y0 - 10, "No-op throughput against concurrency and window", 14, weight="bold")]
    sweep = results["sections"].get("sweep")
    if not sweep:
        return parts + [text(x0 + width / 2, y0 + height / 2, "not measured in this run")]
    concurrencies = sorted({p["concurrency"] for p in sweep["verk"]})
    names = {"0": "Verk, prefetch 0", "concurrency": "Verk, prefetch = concurrency", "1000": "Verk, prefetch 1000",
             "default": "Verk, default prefetch"}
    series = [(names[p], COLORS[p], values) for p in names
              if (values := {q["concurrency"]: q["rate"] for q in sweep["verk"] if q["prefetch"] == p})]
    series.append(("Sidekiq 6.4 (WARN logging)", COLORS["sidekiq"], {q["concurrency"]: q["rate"] for q in sweep["sidekiq"]}))
    top = max(v for _, _, values in series for v in values.values())
    ticks = nice_ticks(top * 1.3)  # headroom for the legend
    left, bottom = x0 + 60, y0 + height - 40
    plot_w, plot_h = width - 80, height - 60

    def px(i):
        return left + plot_w * (i + 0.5) / len(concurrencies)

    def py(v):
        return bottom - plot_h * v / ticks[-1]

    for t in ticks:
        parts.append(f"<line x1='{left}' y1='{py(t):.1f}' x2='{left + plot_w}' y2='{py(t):.1f}' stroke='#e5e5e5'/>")
        parts.append(text(left - 6, py(t) + 4, short(t) if t else "0", 11, anchor="end", color="#555"))
    parts.append(f"<line x1='{left}' y1='{bottom}' x2='{left + plot_w}' y2='{bottom}' stroke='#888'/>")
    for i, c in enumerate(concurrencies):
        parts.append(text(px(i), bottom + 16, str(c), 11, color="#555"))
    parts.append(text(left + plot_w / 2, bottom + 34, "concurrency (threads per queue)", 12, color="#333"))
    parts.append(text(x0 + 14, y0 + plot_h / 2, "jobs/s", 12, color="#333", rotate=-90))
    labels = {}  # x -> [(y, text, color)]: spread apart below, so close values stay readable
    for name, color, values in series:
        points = [(px(i), py(values[c]), values[c]) for i, c in enumerate(concurrencies) if c in values]
        dash = " stroke-dasharray='6 4'" if name.startswith("Sidekiq") else ""
        parts.append(f"<polyline fill='none' stroke='{color}' stroke-width='2.5'{dash} "
                     f"points='{' '.join(f'{x:.1f},{y:.1f}' for x, y, _ in points)}'/>")
        for x, y, v in points:
            parts.append(f"<circle cx='{x:.1f}' cy='{y:.1f}' r='3.5' fill='{color}'/>")
            labels.setdefault(x, []).append([y - 6, short(v), color])
    for x, column in labels.items():
        column.sort(key=lambda label: label[0])
        for above, below in zip(column, column[1:]):
            below[0] = max(below[0], above[0] + 11)
        for y, content, color in column:
            parts.append(text(x + 6, y, content, 10, anchor="start", color=color))
    for n, (name, color, _) in enumerate(series):
        ly = y0 + 12 + n * 16
        parts.append(f"<rect x='{left + 10}' y='{ly - 9}' width='14' height='4' fill='{color}'/>")
        parts.append(text(left + 30, ly - 3, name, 11, anchor="start"))
    return parts


def latency_panel(results, x0, y0, width, height):
    lat = results["sections"].get("latency")
    title = "Latency, enqueue → perform start"
    if lat:
        title += f", at {lat['rate']:,} jobs/s"
    parts = [text(x0 + width / 2, y0 - 10, title, 14, weight="bold")]
    if not lat:
        return parts + [text(x0 + width / 2, y0 + height / 2, "not measured in this run")]
    keys = ("p50", "p90", "p99", "max")
    systems = (("Verk for Swift", COLORS["concurrency"], lat["verk"]), ("Sidekiq 6.4", COLORS["sidekiq"], lat["sidekiq"]))
    values = [v[k] for _, _, v in systems for k in keys]
    low = 10 ** math.floor(math.log10(max(min(values), 0.001)))
    high = 10 ** math.ceil(math.log10(max(values) * 1.5))
    left, bottom = x0 + 60, y0 + height - 40
    plot_w, plot_h = width - 80, height - 60

    def py(v):
        return bottom - plot_h * (math.log10(max(v, low)) - math.log10(low)) / (math.log10(high) - math.log10(low))

    decade = low
    while decade <= high * 1.0001:
        parts.append(f"<line x1='{left}' y1='{py(decade):.1f}' x2='{left + plot_w}' y2='{py(decade):.1f}' stroke='#e5e5e5'/>")
        parts.append(text(left - 6, py(decade) + 4, f"{decade:g} ms", 11, anchor="end", color="#555"))
        decade *= 10
    parts.append(f"<line x1='{left}' y1='{bottom}' x2='{left + plot_w}' y2='{bottom}' stroke='#888'/>")
    group = plot_w / len(keys)
    bar = group * 0.3
    for i, k in enumerate(keys):
        gx = left + group * i + group / 2
        parts.append(text(gx, bottom + 16, k, 11, color="#555"))
        for j, (_, color, v) in enumerate(systems):
            bx = gx - bar + j * bar
            parts.append(f"<rect x='{bx + 1:.1f}' y='{py(v[k]):.1f}' width='{bar - 2:.1f}' height='{bottom - py(v[k]):.1f}' fill='{color}'/>")
            parts.append(text(bx + bar / 2, py(v[k]) - 4, f"{v[k]:.2f}" if v[k] < 10 else f"{v[k]:.0f}", 10, color=color))
        goal = {"p50": 0.3, "p99": 1.0}.get(k)
        if goal:
            parts.append(f"<line x1='{gx - bar - 4:.1f}' y1='{py(goal):.1f}' x2='{gx + bar + 4:.1f}' y2='{py(goal):.1f}' "
                         "stroke='#333' stroke-dasharray='3 3'/>")
            parts.append(text(gx - bar - 6, py(goal) + 3, "target", 9, anchor="end", color="#333"))
    parts.append(text(x0 + 14, y0 + plot_h / 2, "milliseconds (log scale)", 12, color="#333", rotate=-90))
    for n, (name, color, _) in enumerate(systems):
        ly = y0 + 12 + n * 16
        parts.append(f"<rect x='{left + 10}' y='{ly - 10}' width='10' height='10' fill='{color}'/>")
        parts.append(text(left + 26, ly - 1, name, 11, anchor="start"))
    return parts


def svg(results):
    width, height = 1000, 440
    m = results["machine"]
    kind = "smoke run" if results["mode"] == "smoke" else "full run"
    caption = (f"scripts/bench, {kind} of {results['started_at'][:10]}: {m['cores']} cores ({m['cpu']}), redis-server "
               f"{m['redis']}, Swift {m['swift']}, Sidekiq {m['sidekiq']}; Redis, the system and the driver share the cores")
    parts = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' viewBox='0 0 {width} {height}'>",
             f"<rect width='{width}' height='{height}' fill='white'/>"]
    parts += throughput_panel(results, 10, 50, 480, 360)
    parts += latency_panel(results, 510, 50, 480, 360)
    parts.append(text(width / 2, height - 8, caption, 11, color="#555"))
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def write(results, json_path=None, markdown_paths=(), svg_path=None):
    """Writes what was asked for; the paths written."""
    written = []
    if json_path:
        Path(json_path).write_text(json.dumps(results, indent=2) + "\n")
        written.append(json_path)
    for path in markdown_paths:
        write_markdown(results, path)
        written.append(path)
    if svg_path:
        Path(svg_path).parent.mkdir(parents=True, exist_ok=True)
        Path(svg_path).write_text(svg(results))
        written.append(svg_path)
    return written


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", help="a file written by scripts/bench --json")
    parser.add_argument("--markdown", metavar="FILE", action="append", default=[])
    parser.add_argument("--svg", metavar="FILE")
    options = parser.parse_args(argv)
    results = json.loads(Path(options.results).read_text())
    results["targets"] = targets(results)
    for path in write(results, markdown_paths=options.markdown, svg_path=options.svg):
        print(f"wrote {path}")
    if not options.markdown and not options.svg:
        print(text_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
