"""Every benchmark in one command, each figure a ratio against a baseline measured in the same run; one table.

    .venv/bin/python bench/run_all.py [--quick] [--standards N ...] [--no-own] [--work var/bench]
                                      [--skip build validation resources sparql memory load startup]
                                      [--reference-timeout SECONDS] [--reuse-reference] [--rebuild]
                                      [--query-timeout SECONDS] (see --help for durations and runs)

Sizes: the project's own data (the manifest's sources) and generated feeds of N standards
(bench/corpus.py; N=750 gives about 1M triples, the default; ``--quick`` uses N=8, about 10k). Feeds,
stores and N-Triples dumps are kept in ``--work`` and reused (``--rebuild`` rebuilds the stores). For each
size, in this order:

- build: ``kimgraph build --store PATH FILE`` (no validation) against pyoxigraph's ``bulk_load`` of the
  N-Quads it wrote (bench/build_bench.py; generated feeds only, the own data is not a feed);
- validation: the fast engine against pyshacl over the same data graphs, same findings required
  (bench/validate_bench.py); pyshacl is stopped after ``--reference-timeout`` and the ratio is then a
  lower bound; ``--reuse-reference`` takes its earlier result when its inputs are unchanged;
- one ``kimgraph serve`` with ``oxigraph serve-read-only`` on the same store, a bare FastAPI app and a
  minimal FastAPI + pyoxigraph SPARQL endpoint beside it: ``GET /id/...`` JSON-LD under wrk against the
  bare constant endpoint (bench/resource_bench.py), then ``/sparql`` lookups against the minimal in-process
  endpoint (with their ratio to Oxigraph's server) and heavy queries against in-process pyoxigraph
  (bench/sparql_bench.py; each cell the median of ``--sparql-runs`` runs of at least 20 requests; the
  server's query time limit raised by ``--query-timeout``). A duty's KSBs are asked three ways: the same
  duty each time (kimgraph answers it again from the answer it kept), a random duty each time
  (``@random``), and with a comment no request had before (``@unique``: every engine runs every query);
  heavy queries are always ``@unique``. Then the memory (PSS) of the server and its query workers, at rest
  after the load;
- load: small reads (``/sparql`` lookups, ``/id/`` JSON-LD, ``/health/ready``) from 32 wrk connections, with no
  writes and then during three back-to-back PUTs of 50,000 triples, on a copy of the store
  (bench/write_starvation.py; Python clients on the same two cores measured mostly their own queueing);
- startup: cold starts of ``kimgraph serve`` against ``oxigraph serve-read-only`` (bench/startup_bench.py).

Ratios are "higher is better for us": ours / baseline for rates, baseline / ours for seconds and MB.
The table is printed at the end and written to ``WORK/results.json``. A script, never a test.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import build_bench, resource_bench, sparql_bench, startup_bench, validate_bench, write_starvation  # noqa: E402
from bench.servers import (  # noqa: E402
    ProcessMemory,
    answers_prepared,
    bare_ready,
    kimgraph_ready,
    launch_bare,
    launch_kimgraph,
    launch_minimal,
    launch_oxigraph,
    minimal_ready,
    oxigraph_ready,
    tree_memory,
    until_at_rest,
    wait_until,
)
from store.embedded import Store  # noqa: E402

PARTS = ("build", "validation", "resources", "sparql", "memory", "load", "startup")
TABLE_ORDER = ("build", "validation", "server", "load", "startup")
LOAD_CLIENTS = 32
OWN = "own"
ONE_MILLION = 750


@dataclass
class Row:
    """One line of the final table; ``ratio`` is higher-is-better for us, ``met`` None when there is no target."""

    measurement: str
    triples: int
    ours: str
    baseline: str
    ratio: str
    target: str
    met: bool | None
    note: str = ""
    part: str = ""


@dataclass
class Size:
    """One size measured: ``own`` (the manifest's sources) or a generated feed of ``standards`` standards."""

    label: str
    store: Path
    feed: Path | None
    nt: Path


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def ratio_text(value: float, lower_bound: bool = False) -> str:
    return ("> " if lower_bound else "") + (f"{value:.2f}" if value < 100 else f"{value:,.0f}")


def prepare(size_label: str, work: Path, rebuild: bool) -> Size:
    """The feed (generated when missing) and the store (built when missing or ``rebuild``) of one size."""
    feed = None if size_label == OWN else validate_bench.feed_file(int(size_label), work)
    store = work / f"store-{size_label}"
    if rebuild:
        build_bench.remove_store(store)
    if not store.exists():
        say(f"{size_label}: kimgraph build --store {store}" + (f" {feed}" if feed else " (the manifest)"))
    validate_bench.built_store(store, feed)
    return Size(size_label, store, feed, work / f"data-{size_label}.nt")


def build_rows(size: Size, triples: int, work: Path, runs: int) -> list[Row]:
    say(f"{size.label}: build against bulk_load, {runs} runs each")
    result = build_bench.compare(size.feed, work, runs)
    return [Row("build rate vs pyoxigraph bulk_load", triples,
                f"{result.ours_rate:,.0f} q/s, {result.ours_s:.2f} s", f"{result.bulk_load_rate:,.0f} q/s, "
                f"{result.bulk_load_s:.2f} s", ratio_text(result.ratio), ">= 0.8", result.ratio >= 0.8,
                f"build rate: kimgraph build --no-validate FILE against bulk_load of the N-Quads it wrote "
                f"({result.quads:,} quads); in-process times, median of {runs} runs")]


def validation_rows(size: Size, work: Path, args) -> list[Row]:
    graphs, data_triples = validate_bench.data_dump(size.store, size.nt)
    say(f"{size.label}: validation, fast engine x{args.fast_runs} and pyshacl "
        f"(stopped after {args.reference_timeout:.0f} s{', reused if unchanged' if args.reuse_reference else ''})")
    result = validate_bench.compare(size.store, size.nt, graphs, data_triples, work, size.label,
                                    args.reference_timeout, args.reuse_reference, args.fast_runs)
    fast, reference = result.fast, result.reference
    reused = " (pyshacl result kept from an earlier run, same inputs)" if reference.get("reused") else ""
    rows = []
    for key, what in (("total_s", "end to end"), ("validate_s", "alone")):
        speedup = result.speedup(key)
        if result.finished:
            baseline, met = f"{reference[key]:.2f} s", speedup >= 20
        else:
            baseline = f"stopped after {reference['stopped_after_s']:.0f} s"
            met = True if speedup >= 20 else None
        rows.append(Row(f"validation {what} vs pyshacl", data_triples, f"{fast[key]:.2f} s", baseline,
                        ratio_text(speedup, not result.finished), ">= 20", met,
                        "validation of the data graphs (sources, concept schemes): end to end = rdflib load + pyshacl "
                        "against store open + fast engine; alone = without them; "
                        f"fast: median of {args.fast_runs} runs; peak RSS fast {fast['peak_rss_mb']:.0f} MB"
                        + (f", pyshacl {reference['peak_rss_mb']:.0f} MB" if result.finished else "") + reused))
    if result.finished:
        rows.append(Row("validation findings = pyshacl's", data_triples, f"{len(fast['findings'])} findings",
                        f"{len(reference['findings'])} findings", "-", "same", result.same_findings, reused.strip()))
    return rows


def server_rows(size: Size, triples: int, work: Path, args) -> list[Row]:
    """/id/ and /sparql load on one kimgraph serve, then the peak memory of it and its workers."""
    rows = []
    with ExitStack() as stack:
        settings = {"KIM_QUERY_TIMEOUT": str(args.query_timeout)} if args.query_timeout else {}
        kim = launch_kimgraph(stack, size.store, work / f"serve-{size.label}.log", settings=settings)
        oxi = launch_oxigraph(stack, size.store, work / f"oxigraph-{size.label}.log")
        bare = launch_bare(stack, work, work / f"bare-{size.label}.log")
        minimal = launch_minimal(stack, size.store, work, work / f"minimal-{size.label}.log")
        wait_until(lambda: kimgraph_ready(kim), kim.process, "kimgraph serve", timeout=600)
        wait_until(lambda: oxigraph_ready(oxi), oxi.process, "oxigraph serve")
        wait_until(lambda: bare_ready(bare), bare.process, "bare app")
        wait_until(lambda: minimal_ready(minimal), minimal.process, "minimal endpoint")
        if "resources" not in args.skip:
            say(f"{size.label}: waiting for the server's prepared answers of /id/ (reused from an earlier run "
                "when the store is unchanged)")
            started = time.perf_counter()
            wait_until(lambda: answers_prepared(kim), kim.process, "prepared answers", timeout=7200, interval=1)
            until_at_rest(kim.process.pid)  # what the server does in the background after a start (its search index)
            say(f"{size.label}: answers prepared after {time.perf_counter() - started:.0f} s; GET /id/ JSON-LD "
                f"against the bare constant endpoint, wrk {args.seconds:g} s each")
            result = resource_bench.compare(size.store, kim.url, bare.url, work, args.seconds, args.connections)
            rows.append(Row("GET /id/ JSON-LD vs bare FastAPI", triples,
                            f"{result.resource.rate:,.0f} req/s", f"{result.baseline.rate:,.0f} req/s",
                            ratio_text(result.ratio), ">= 0.5", result.ratio >= 0.5,
                            f"/id/: wrk -t2 -c{args.connections} -d{args.seconds:g}s over {result.resources:,} "
                            f"duty and KSB pages at random; p99 {result.resource.p99_ms:.1f} ms against "
                            f"{result.baseline.p99_ms:.1f} ms; non-2xx {result.resource.errors}"))
        if "sparql" not in args.skip:
            rows += sparql_rows(size, triples, kim.url, oxi.url, minimal.url, args)
        if "memory" not in args.skip:
            load = [part for part in ("resources", "sparql") if part not in args.skip]
            waited = until_at_rest(kim.process.pid)
            rows.append(memory_row(tree_memory(kim.process.pid), waited, oxi.process.pid, triples, load))
    return rows


def _by_role(processes: list[ProcessMemory], mb: Callable[[ProcessMemory], float]) -> str:
    roles: dict[str, list[float]] = {}
    for process in processes:
        roles.setdefault(process.role, []).append(mb(process))
    return ", ".join(f"{role}{f' x{len(mbs)}' if len(mbs) > 1 else ''} {sum(mbs):,.0f} MB"
                     for role, mbs in roles.items())


def memory_row(processes: list[ProcessMemory], waited: float, oxigraph: int, triples: int, load: list[str]) -> Row:
    """PSS of the server and everything below it (query workers, multiprocessing's helpers) once they are at rest
    after the load, against the peak RSS of oxigraph serve."""
    oxigraph_peak = sum(p.peak_rss_mb for p in tree_memory(oxigraph))
    pss = sum(p.pss_mb for p in processes)
    peaks = sum(p.peak_rss_mb for p in processes)
    return Row("server and workers memory at rest (PSS)", triples, f"{pss:,.0f} MB", f"{oxigraph_peak:,.0f} MB",
               ratio_text(oxigraph_peak / pss), "<= 200 MB", pss <= 200,
               f"after {' and '.join(load) or 'no'} load, once the processes had used under 2% of a core for 2 s "
               f"({waited:.0f} s after the last cell): PSS (shared pages counted once) "
               f"{_by_role(processes, lambda p: p.pss_mb)}; their peaks (VmHWM) "
               f"{_by_role(processes, lambda p: p.peak_rss_mb)}, {peaks:,.0f} MB summed; "
               "baseline: the peak of oxigraph serve-read-only after the /sparql load only")


def sparql_rows(size: Size, triples: int, kim_url: str, oxi_url: str, minimal_url: str, args) -> list[Row]:
    store = Store.open(size.store, read_only=True)
    queries = sparql_bench.bench_queries(sparql_bench.LOOKUPS + sparql_bench.HEAVY, store)
    sizes = sparql_bench.check_answers(store, {"kimgraph": kim_url + "/sparql", "oxigraph": oxi_url + "/query",
                                               "minimal": minimal_url + "/sparql"}, queries)
    say(f"{size.label}: /sparql, {len(queries)} queries x {args.clients} clients x 4 engines, "
        f"{args.sparql_seconds:g} s and 20 requests at least, median of {args.sparql_runs} runs each")
    cells = sparql_bench.compare(store, kim_url + "/sparql", oxi_url + "/query", minimal_url + "/sparql", queries,
                                 args.clients, args.sparql_seconds, runs=args.sparql_runs, min_requests=20)
    rows = []
    for cell in cells:
        answer = sizes[cell.query]["in-process"]
        errors = cell.kimgraph.errors + cell.oxigraph.errors + cell.minimal.errors
        detail = (f"{cell.query}: {str(answer).lower() if isinstance(answer, bool) else f'{answer} solutions'}; "
                  f"p99 {cell.kimgraph.percentile(0.99):.1f} ms" + (f"; {errors} errors" if errors else "")
                  + (f"; KIM_QUERY_TIMEOUT={args.query_timeout:g}" if args.query_timeout else ""))
        if cell.query in sparql_bench.HEAVY:
            rows.append(Row(f"/sparql {cell.query} x{cell.clients} vs in-process", triples,
                            f"{cell.kimgraph.rate:,.1f} req/s", f"{cell.inprocess.rate:,.1f} req/s",
                            ratio_text(cell.kim_vs_inprocess), ">= 0.9", cell.kim_vs_inprocess >= 0.9,
                            detail + f"; oxigraph serve {cell.oxigraph.rate:,.1f} req/s"))
        else:
            rows.append(Row(f"/sparql {cell.query} x{cell.clients} vs minimal in-process endpoint", triples,
                            f"{cell.kimgraph.rate:,.0f} req/s", f"{cell.minimal.rate:,.0f} req/s",
                            ratio_text(cell.kim_vs_minimal), ">= 1.0", cell.kim_vs_minimal >= 1.0,
                            detail + f"; minimal p99 {cell.minimal.percentile(0.99):.1f} ms; oxigraph serve "
                            f"{cell.oxigraph.rate:,.0f} req/s (kimgraph / oxigraph {cell.kim_vs_oxigraph:.2f}), "
                            f"p99 {cell.oxigraph.percentile(0.99):.1f} ms"))
    return rows


def load_rows(size: Size, triples: int, work: Path) -> list[Row]:
    """Small reads (/sparql lookups, /id/ JSON-LD, /health/ready) from LOAD_CLIENTS wrk connections with no
    writes, then during three back-to-back PUTs of 50,000 triples (bench/write_starvation.py), on a copy of
    the store."""
    say(f"{size.label}: {LOAD_CLIENTS} connections of small reads, calm and during 3 PUTs of 50,000 triples")
    result = write_starvation.wrk_during_puts(size.store, work, clients=LOAD_CLIENTS)
    puts = ", ".join(f"{status} in {seconds:.1f} s" for status, seconds in result.puts)
    rows = []
    for name, found in (("no writes", result.calm), ("during 3 PUTs of 50k triples", result.during)):
        note = (f"small reads, wrk x{LOAD_CLIENTS} connections: {found.requests:,} reads at {found.rate:,.0f}/s, "
                f"p50 {found.p50_ms:.1f} ms, p99 {found.p99_ms:.1f} ms, {found.errors} errors (non-2xx or 3xx, "
                "socket errors, timeouts)")
        if name != "no writes":
            note += f"; PUTs: {puts}; /health/ready after them {result.ready_after}"
        rows.append(Row(f"small reads x{LOAD_CLIENTS}, {name}: p99", triples, f"{found.p99_ms:.0f} ms", "-", "-",
                        "<= 500 ms, 0 errors", found.p99_ms <= 500 and found.errors == 0, note))
    return rows


def startup_rows(size: Size, triples: int, work: Path, runs: int) -> list[Row]:
    say(f"{size.label}: cold starts, {runs} of each server")
    result = startup_bench.compare(size.store, work, runs)
    note = f"cold start: median of {runs}; baseline: oxigraph serve-read-only until its first answer"
    return [Row("cold start to /health/live 200", triples, f"{result.kimgraph_health_s:.2f} s",
                f"{result.oxigraph_s:.2f} s", ratio_text(result.oxigraph_s / result.kimgraph_health_s), "<= 1.0 s",
                result.kimgraph_health_s <= 1.0, note),
            Row("cold start to /id/ JSON-LD 200", triples, f"{result.kimgraph_resource_s:.2f} s",
                f"{result.oxigraph_s:.2f} s", ratio_text(result.oxigraph_s / result.kimgraph_resource_s), "-", None,
                note)]


def measure(size: Size, work: Path, args) -> list[Row]:
    triples = len(Store.open(size.store, read_only=True))
    parts: dict[str, list[Row]] = {}
    if "build" not in args.skip and size.feed is not None:
        parts["build"] = build_rows(size, triples, work, args.build_runs)
    if "validation" not in args.skip:
        parts["validation"] = validation_rows(size, work, args)
    if {"resources", "sparql", "memory"} - set(args.skip):
        parts["server"] = server_rows(size, triples, work, args)
    if "load" not in args.skip:
        parts["load"] = load_rows(size, triples, work)
    if "startup" not in args.skip:
        parts["startup"] = startup_rows(size, triples, work, args.startup_runs)
    for part, rows in parts.items():
        for row in rows:
            row.part = part
    return [row for rows in parts.values() for row in rows]


def table(rows: list[Row]) -> str:
    """The rows as an aligned text table, one measurement's sizes together, with numbered notes below it."""
    order: dict[str, int] = {}
    for row in rows:
        order.setdefault(row.measurement, len(order))
    ranks = {part: n for n, part in enumerate(TABLE_ORDER)}
    header = ("measurement", "triples", "ours", "baseline", "ratio", "target", "met", "note")
    cells = [header]
    notes: dict[str, int] = {}
    for row in sorted(rows, key=lambda r: (ranks[r.part], order[r.measurement])):
        met = "-" if row.met is None and row.target == "-" else {True: "yes", False: "NO", None: "?"}[row.met]
        if row.note:
            notes.setdefault(row.note, len(notes) + 1)
        cells.append((row.measurement, f"{row.triples:,}", row.ours, row.baseline, row.ratio, row.target, met,
                      f"[{notes[row.note]}]" if row.note else ""))
    widths = [max(len(line[i]) for line in cells) for i in range(len(header))]
    right = {1, 2, 3, 4}
    lines = []
    for n, line in enumerate(cells):
        lines.append("  ".join(text.rjust(w) if i in right else text.ljust(w)
                               for i, (text, w) in enumerate(zip(line, widths, strict=True))).rstrip())
        if n == 0:
            lines.append("-" * len(lines[0]))
    lines.append("")
    lines += [f"[{n}] {note}" for note, n in notes.items()]
    lines.append("ratio: higher is better for us (ours / baseline for rates, baseline / ours for seconds and MB); "
                 "'> x': a lower bound (pyshacl stopped); met '?': a lower bound below the target")
    return "\n".join(lines)


def options(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="own data and N=8 (~10k triples), shorter runs: the whole thing in a few minutes")
    parser.add_argument("--standards", type=int, nargs="*",
                        help=f"generated sizes in standards (default {ONE_MILLION}, ~1M triples; --quick: 8)")
    parser.add_argument("--no-own", action="store_true", help="leave out the project's own data")
    parser.add_argument("--work", type=Path, default=ROOT / "var" / "bench", help="feeds, stores and results")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the stores in --work (feeds are kept)")
    parser.add_argument("--skip", nargs="+", choices=PARTS, default=[], help="parts to leave out")
    parser.add_argument("--reference-timeout", type=float, default=3 * 3600,
                        help="seconds before pyshacl is stopped (the ratio is then a lower bound; default 3 h)")
    parser.add_argument("--reuse-reference", action="store_true",
                        help="take pyshacl's result from --work when its inputs (data, shapes, pyshacl) are unchanged")
    parser.add_argument("--seconds", type=float, help="wrk duration per endpoint (default 10; --quick 3)")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections")
    parser.add_argument("--sparql-seconds", type=float, help="duration per /sparql cell (default 3; --quick 1)")
    parser.add_argument("--clients", type=int, nargs="+", default=[8], help="/sparql client threads")
    parser.add_argument("--sparql-runs", type=int, help="runs of each /sparql cell, the median kept (default 3; "
                                                        "--quick 1)")
    parser.add_argument("--query-timeout", type=float, default=120,
                        help="KIM_QUERY_TIMEOUT of the measured server, so that heavy queries at 1M are measured "
                             "rather than stopped (default 120; 0: the server's own default)")
    parser.add_argument("--build-runs", type=int, help="builds and bulk loads each (default 3; --quick 2)")
    parser.add_argument("--fast-runs", type=int, help="fast validation runs (default 3; --quick 2)")
    parser.add_argument("--startup-runs", type=int, help="cold starts of each server (default 5; --quick 3)")
    args = parser.parse_args(argv)
    defaults = {"seconds": (10, 3), "sparql_seconds": (3, 1), "sparql_runs": (3, 1), "build_runs": (3, 2),
                "fast_runs": (3, 2), "startup_runs": (5, 3)}
    for name, (full, quick) in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, quick if args.quick else full)
    if args.standards is None:
        args.standards = [8] if args.quick else [ONE_MILLION]
    return args


def main(argv: list[str] | None = None) -> int:
    args = options(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    labels = ([] if args.no_own else [OWN]) + [str(n) for n in args.standards]
    started = time.perf_counter()
    rows: list[Row] = []
    for label in labels:
        size = prepare(label, args.work, args.rebuild)
        rows += measure(size, args.work, args)
        (args.work / "results.json").write_text(json.dumps([asdict(row) for row in rows], indent=1))
    print(table(rows))
    print(f"\n{len(labels)} sizes in {time.perf_counter() - started:.0f} s; work directory {args.work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
