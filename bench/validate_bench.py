"""Times pyshacl (the reference) against the fast engine on generated corpora; checks the findings are identical.

    python bench/validate_bench.py [--standards 70 700] [--work var/bench] [--shapes DIR]
                                   [--reference-timeout SECONDS] [--reuse-reference] [--profile]

For each size N (70 standards ~ 100k triples, 700 ~ 1M) it writes a feed with bench/corpus.py, builds an
on-disk store with ``kimgraph build`` and dumps the data graphs (sources + concepts) as N-Triples. Each
engine then runs in its own process, so peak RSS (VmHWM) is its own: the reference parses the N-Triples
into rdflib (timed as "load") and runs conformance.reference.check; the fast engine opens the store read-only
and runs conformance.fast.check_store in place. ``--profile`` adds the fast engine's slowest shapes.
The reference's result is kept in the work directory with a fingerprint of its inputs (the N-Triples,
the shapes, pyshacl's version); ``--reuse-reference`` takes it instead of running pyshacl again when
the fingerprint still matches.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from importlib.metadata import version
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

    from conformance.reference import load_shapes
    from kimdata.namespaces import PREFIXES
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

        from conformance.reference import check
        data = Graph().parse(args.nt, format="nt")
        loaded = time.perf_counter()
        report = check(data, shapes)
    else:
        from conformance.fast import check_store, compile_shapes
        from store.embedded import Store
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


def feed_file(n: int, work: Path) -> Path:
    """The generated feed of ``n`` standards in ``work`` (written by bench/corpus.py when missing)."""
    feed = work / f"feed-{n}.json"
    if not feed.exists():
        subprocess.run([sys.executable, str(ROOT / "bench" / "corpus.py"), "--standards", str(n), "--out", str(feed)],
                       check=True)
    return feed


def built_store(store_path: Path, feed: Path | None) -> Path:
    """A store built by ``kimgraph build`` from ``feed`` (from the manifest when None), unless already there."""
    if not store_path.exists():
        command = [sys.executable, "-m", "kimgraph.cli", "build", "--store", str(store_path), "--quiet"]
        subprocess.run(command + ([str(feed)] if feed else []), check=True, cwd=ROOT)
    return store_path


def data_dump(store_path: Path, nt: Path) -> tuple[list[str], int]:
    """The data graphs (sources + concepts) of a store, and their triples dumped to ``nt`` as N-Triples.

    The dump is rewritten when the store was rebuilt since (its version is noted beside the dump)."""
    from kimdata.namespaces import Iris
    from store.embedded import Store
    store = Store.open(store_path, read_only=True)
    iris = Iris()
    graphs = [g for g in store.named_graphs() if g.startswith(str(iris.graph("source/")))]
    graphs.append(str(iris.graph("concepts")))
    stamp, current = nt.with_name(nt.name + ".store"), Path(store_path).resolve().name
    if not nt.exists() or not stamp.exists() or stamp.read_text() != current:
        with nt.open("wb") as out:
            for graph in graphs:
                out.write(store.dump("ntriples", graph))
        stamp.write_text(current)
    triples = sum(1 for _ in nt.open("rb"))
    return graphs, triples


def prepare(n: int, work: Path) -> tuple[Path, Path, list[str], int]:
    """Feed, store and N-Triples dump for ``n`` standards (reused when already there)."""
    store_path = built_store(work / f"store-{n}", feed_file(n, work))
    nt = work / f"data-{n}.nt"
    graphs, triples = data_dump(store_path, nt)
    return store_path, nt, graphs, triples


# The build's own times (prov:startedAtTime, prov:endedAtTime) change with every build and no shape reads them.
BUILD_TIMES = re.compile(rb'^(<[^>]*> <http://www\.w3\.org/ns/prov#(?:started|ended)AtTime> )"[^"]*"')


def reference_inputs(nt: Path, shapes: str | None) -> str:
    """A fingerprint of what pyshacl's result depends on: the data, the shapes, pyshacl and the wrapper.

    The data counts as a set of lines (a store dumps them in an order of its own), the build times blanked."""
    lines = 0
    with nt.open("rb") as data:
        for line in data:
            line = BUILD_TIMES.sub(rb'\1""', line)
            lines = (lines + int.from_bytes(hashlib.sha256(line).digest(), "big")) % (1 << 256)
    digest = hashlib.sha256(lines.to_bytes(32, "big"))
    shape_files = sorted(Path(shapes).glob("*.ttl")) if shapes else sorted((ROOT / "shapes").glob("*.ttl"))
    for path in [*shape_files, ROOT / "ingest" / "validate.py"]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    digest.update(f"pyshacl {version('pyshacl')} rdflib {version('rdflib')}".encode())
    return digest.hexdigest()


def run_engine(engine: str, store: Path, nt: Path, graphs: list[str], out: Path, shapes: str | None = None,
               profile: bool = False, timeout: float | None = None) -> dict | None:
    """One engine in a fresh process; None when it overran ``timeout`` seconds."""
    command = [sys.executable, __file__, "--child", engine, "--out", str(out), "--store", str(store),
               "--nt", str(nt), "--graphs", *graphs]
    if shapes:
        command += ["--shapes", shapes]
    if profile:
        command.append("--profile")
    try:
        subprocess.run(command, check=True, cwd=ROOT, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    return json.loads(out.read_text())


def reference_result(store: Path, nt: Path, graphs: list[str], out: Path, timeout: float, reuse: bool = False,
                     shapes: str | None = None) -> dict:
    """pyshacl's result (or ``{"stopped_after_s": timeout}``), written to ``out`` with its inputs' fingerprint.

    With ``reuse``, a result already in ``out`` for the same inputs is returned instead (``"reused": True``),
    unless it is a stop after a shorter time than ``timeout``."""
    inputs = reference_inputs(nt, shapes)
    if reuse and out.exists():
        kept = json.loads(out.read_text())
        if kept.get("inputs") == inputs and kept.get("stopped_after_s", timeout) >= timeout:
            return {**kept, "reused": True}
    result = run_engine("reference", store, nt, graphs, out, shapes, timeout=timeout)
    if result is None:
        result = {"stopped_after_s": timeout}
    result["inputs"] = inputs
    out.write_text(json.dumps(result))
    return {**result, "reused": False}


@dataclass
class ValidationComparison:
    """The fast engine (median of its runs) against pyshacl on the same data graphs."""

    triples: int
    fast: dict
    reference: dict

    @property
    def finished(self) -> bool:
        return "stopped_after_s" not in self.reference

    @property
    def same_findings(self) -> bool | None:
        if not self.finished:
            return None
        return (self.reference["findings"] == self.fast["findings"]
                and self.reference["conforms"] == self.fast["conforms"])

    def speedup(self, key: str = "total_s") -> float:
        """pyshacl's time over ours; a lower bound (the timeout over ours) when pyshacl was stopped."""
        reference = self.reference[key] if self.finished else self.reference["stopped_after_s"]
        return reference / self.fast[key]


def compare(store: Path, nt: Path, graphs: list[str], triples: int, work: Path, label: str, timeout: float,
            reuse: bool = False, fast_runs: int = 3, shapes: str | None = None) -> ValidationComparison:
    """The fast engine ``fast_runs`` times (each in a fresh process; median times) and pyshacl once."""
    runs = [run_engine("fast", store, nt, graphs, work / f"fast-{label}.json", shapes) for _ in range(fast_runs)]
    fast = dict(runs[0])
    for key in ("load_s", "validate_s", "total_s", "peak_rss_mb"):
        fast[key] = statistics.median(run[key] for run in runs)
    reference = reference_result(store, nt, graphs, work / f"reference-{label}.json", timeout, reuse, shapes)
    return ValidationComparison(triples, fast, reference)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--standards", type=int, nargs="+", default=[70, 700], help="corpus sizes (standards)")
    parser.add_argument("--work", type=Path, default=ROOT / "var" / "bench", help="where feeds and stores go")
    parser.add_argument("--shapes", help="a folder of shapes (*.ttl) to use instead of shapes/")
    parser.add_argument("--reference-timeout", type=float, default=4 * 3600, help="seconds before pyshacl is stopped")
    parser.add_argument("--reuse-reference", action="store_true",
                        help="take pyshacl's result from the work directory when its inputs are unchanged")
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
        fast = run_engine("fast", store, nt, graphs, args.work / f"fast-{n}.json", args.shapes, args.profile)
        reference = None
        if "reference" in args.engines:
            reference = reference_result(store, nt, graphs, args.work / f"reference-{n}.json",
                                         args.reference_timeout, args.reuse_reference, args.shapes)
        for name, r in (("reference", reference), ("fast", fast)):
            label = f"{n} standards" if name == "reference" else ""
            if name not in args.engines:
                continue
            if "stopped_after_s" in r:
                print(f"{label:<16}{triples:>10,}  {name:<10}  stopped after {r['stopped_after_s']:.0f} s"
                      + (" (kept from an earlier run)" if r["reused"] else ""))
                continue
            print(f"{label:<16}{triples:>10,}  {name:<10}{r['load_s']:>8.2f}{r['validate_s']:>12.2f}"
                  f"{r['total_s']:>10.2f}{r['peak_rss_mb']:>8.0f} MB{len(r['findings']):>10}"
                  + ("  (kept from an earlier run)" if r.get("reused") else ""))
        if reference is not None:
            result = ValidationComparison(triples, fast, reference)
            if result.finished:
                print(f"{'':<28}findings identical: {'yes' if result.same_findings else 'NO'}; speedup "
                      f"{result.speedup():.1f}x end to end (rdflib load included), "
                      f"{result.speedup('validate_s'):.1f}x validation alone", flush=True)
            else:
                print(f"{'':<28}speedup above {result.speedup():.0f}x (pyshacl did not finish)")
        for seconds, shape in fast.get("slowest", []):
            print(f"{'':<28}  fast engine, {shape}: {seconds:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
