"""Times pyshacl (the reference) against the fast engine on generated corpora; checks the findings are identical.

    python bench/validate_bench.py [--standards 70 700] [--work var/bench] [--shapes DIR]
                                   [--reference-timeout SECONDS] [--profile]

For each size N (70 standards ~ 100k triples, 700 ~ 1M) it writes a feed with bench/corpus.py, builds an
on-disk store with ``kimgraph build`` and dumps the data graphs (sources + concepts) as N-Triples. Each
engine then runs in its own process, so peak RSS (VmHWM) is its own: the reference parses the N-Triples
into rdflib (timed as "load") and runs ingest.validate.check; the fast engine opens the store read-only
and runs ingest.fast_validate.check_store in place. ``--profile`` adds the fast engine's slowest shapes.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def peak_rss_mb() -> float:
    """This process's peak resident set size (VmHWM), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def load_shapes_from(folder: str | None):
    """The project's shapes, or every *.ttl of ``folder`` (to measure alternative shapes)."""
    from rdflib import Graph

    from ingest.namespaces import PREFIXES
    from ingest.validate import load_shapes
    if folder is None:
        return load_shapes()
    shapes = Graph()
    for path in sorted(Path(folder).glob("*.ttl")):
        shapes.parse(path, format="turtle")
    for prefix, namespace in PREFIXES.items():
        shapes.bind(prefix, namespace, override=True)
    return shapes


def findings_of(report) -> list[list]:
    return [[f.severity, f.rule, f.focus, f.shape, f.message, f.path, f.value] for f in report.findings]


def child(args) -> None:
    """Run one engine and write its timings, peak RSS and findings as JSON."""
    shapes = load_shapes_from(args.shapes)
    started = time.perf_counter()
    result: dict = {}
    if args.child == "reference":
        from rdflib import Graph

        from ingest.validate import check
        data = Graph().parse(args.nt, format="nt")
        loaded = time.perf_counter()
        report = check(data, shapes)
    else:
        from ingest.fast_validate import check_store, compile_shapes
        from sparql_api.store import Store
        store = Store.open(Path(args.store), read_only=True)
        loaded = time.perf_counter()
        report = check_store(store, shapes, args.graphs)
        if args.profile:
            times = []
            for unit in compile_shapes(shapes):
                t = time.perf_counter()
                store.select(unit.query, default_graphs=args.graphs)
                times.append((time.perf_counter() - t, str(unit.shape).rsplit("#", 1)[-1]))
            result["slowest"] = sorted(times, reverse=True)[:8]
    done = time.perf_counter()
    result.update(load_s=loaded - started, validate_s=done - loaded, total_s=done - started,
                  peak_rss_mb=peak_rss_mb(), conforms=report.conforms, findings=findings_of(report))
    Path(args.out).write_text(json.dumps(result))


def prepare(n: int, work: Path) -> tuple[Path, Path, list[str], int]:
    """Feed, store and N-Triples dump for ``n`` standards (reused when already there)."""
    from ingest.namespaces import Iris
    from sparql_api.store import Store
    feed, store_path, nt = work / f"feed-{n}.json", work / f"store-{n}", work / f"data-{n}.nt"
    if not feed.exists():
        subprocess.run([sys.executable, str(ROOT / "bench" / "corpus.py"), "--standards", str(n), "--out", str(feed)],
                       check=True)
    if not store_path.exists():
        subprocess.run([sys.executable, "-m", "sparql_api.cli", "build", "--store", str(store_path), "--quiet",
                        str(feed)], check=True, cwd=ROOT)
    store = Store.open(store_path, read_only=True)
    iris = Iris()
    graphs = [g for g in store.named_graphs() if g.startswith(str(iris.graph("source/")))]
    graphs.append(str(iris.graph("concepts")))
    if not nt.exists():
        with nt.open("wb") as out:
            for graph in graphs:
                out.write(store.dump("ntriples", graph))
    triples = sum(1 for _ in nt.open("rb"))
    return store_path, nt, graphs, triples


def run_engine(engine: str, args, store: Path, nt: Path, graphs: list[str], out: Path) -> dict | None:
    """One engine in a fresh process; None when it overran --reference-timeout."""
    command = [sys.executable, __file__, "--child", engine, "--out", str(out), "--store", str(store),
               "--nt", str(nt), "--graphs", *graphs]
    if args.shapes:
        command += ["--shapes", args.shapes]
    if args.profile:
        command.append("--profile")
    try:
        subprocess.run(command, check=True, cwd=ROOT,
                       timeout=args.reference_timeout if engine == "reference" else None)
    except subprocess.TimeoutExpired:
        return None
    return json.loads(out.read_text())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--standards", type=int, nargs="+", default=[70, 700], help="corpus sizes (standards)")
    parser.add_argument("--work", type=Path, default=ROOT / "var" / "bench", help="where feeds and stores go")
    parser.add_argument("--shapes", help="a folder of shapes (*.ttl) to use instead of shapes/")
    parser.add_argument("--reference-timeout", type=float, default=4 * 3600, help="seconds before pyshacl is stopped")
    parser.add_argument("--profile", action="store_true", help="also time each compiled shape of the fast engine")
    parser.add_argument("--engines", nargs="+", choices=("reference", "fast"), default=["reference", "fast"])
    parser.add_argument("--child", choices=("reference", "fast"), help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--store", help=argparse.SUPPRESS)
    parser.add_argument("--nt", help=argparse.SUPPRESS)
    parser.add_argument("--graphs", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args)
        return 0
    args.work.mkdir(parents=True, exist_ok=True)
    print(f"{'corpus':<16}{'triples':>10}  {'engine':<10}{'load s':>8}{'validate s':>12}{'total s':>10}"
          f"{'peak RSS':>11}{'findings':>10}", flush=True)
    for n in args.standards:
        store, nt, graphs, triples = prepare(n, args.work)
        fast = run_engine("fast", args, store, nt, graphs, args.work / f"fast-{n}.json")
        reference = None
        if "reference" in args.engines:
            reference = run_engine("reference", args, store, nt, graphs, args.work / f"reference-{n}.json")
        for name, r in (("reference", reference), ("fast", fast)):
            label = f"{n} standards" if name == "reference" else ""
            if name not in args.engines:
                continue
            if r is None:
                print(f"{label:<16}{triples:>10,}  {name:<10}  stopped after {args.reference_timeout:.0f} s")
                continue
            print(f"{label:<16}{triples:>10,}  {name:<10}{r['load_s']:>8.2f}{r['validate_s']:>12.2f}"
                  f"{r['total_s']:>10.2f}{r['peak_rss_mb']:>8.0f} MB{len(r['findings']):>10}")
        if reference is not None:
            same = reference["findings"] == fast["findings"] and reference["conforms"] == fast["conforms"]
            print(f"{'':<28}findings identical: {'yes' if same else 'NO'}; speedup "
                  f"{reference['total_s'] / fast['total_s']:.1f}x end to end (rdflib load included), "
                  f"{reference['validate_s'] / fast['validate_s']:.1f}x validation alone", flush=True)
        elif "reference" in args.engines:
            print(f"{'':<28}speedup above {args.reference_timeout / fast['total_s']:.0f}x (pyshacl did not finish)")
        for seconds, shape in fast.get("slowest", []):
            print(f"{'':<28}  fast engine, {shape}: {seconds:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
