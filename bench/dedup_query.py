"""Duplicate-query benchmark: p50/p99 of the candidate query (and of the whole matching step) with
100,000 and 1,000,000 stored fingerprints, and the storage per million.

    .venv/bin/python bench/dedup_query.py [--sizes 100000 1000000] [--queries 1000]
                                          [--postgres postgresql://postgres@127.0.0.1:5432/postgres]

Runs in a throwaway SQLite file under /tmp (and, with --postgres, in a throwaway schema that is
dropped afterwards). The query is ``cegah.wbs.integration.services.candidate_sql``, the same SQL
the matching task runs, against a table with the same columns and index as ``Band``.

Synthetic data, bootstrapped from the 5,855 real complaints in ``../shared/data/complaints``
(corpus + dev): each synthetic report has the bands of a random real report, and for each band the
value of that band in another random real report, kept if reports of other incidents share it (so
every shared bucket grows in proportion to the number of stored reports, as its observed frequency
predicts) and replaced by a fresh random value otherwise (values shared only within one labelled
duplicate cluster of DEV count as unshared). The older report of each of the 665 DEV positive pairs
is stored first (the oldest ids: the worst case for the newest-first per-row cap), and the newer
one is looked up. Fingerprint blobs are real (about 1.5 kB), so the re-ranking cost is real too. Prints figures only, no complaint text.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cegah.settings")

import django  # noqa: E402

django.setup()

from cegah.wbs.dedup import DedupKey, Fingerprint, band_rows, compare, fingerprint  # noqa: E402
from cegah.wbs.dedup.lsh import ROW_CAP  # noqa: E402
from cegah.wbs.dedup.pipeline import fields_from_json  # noqa: E402
from cegah.wbs.integration.services import candidate_sql  # noqa: E402

BENCH_KEY = DedupKey(b"cegah-bench-key-not-secret-000000")
TABLE = "bench_band"
ROW_CAP_USED = ROW_CAP


def machine() -> str:
    return f"{platform.node()} {platform.machine()} {os.cpu_count()} cpu, Python {platform.python_version()}"


def load_templates(
    data: Path,
) -> tuple[list[list[tuple[int, int]]], list[bytes], set[tuple[int, int]], list[tuple[int, int]]]:
    """Return the band rows and fingerprint blobs of the real reports, the shared rows, and the
    DEV positive pairs as template indexes."""
    docs = []
    for name in ("corpus.jsonl", "dev.jsonl"):
        with (data / name).open() as handle:
            docs += [json.loads(line) for line in handle]
    rows, blobs = [], []
    for doc in docs:
        fp = fingerprint(fields_from_json(doc), BENCH_KEY)
        rows.append(band_rows(fp, BENCH_KEY))
        blobs.append(fp.to_bytes())
    index = {doc["id"]: i for i, doc in enumerate(docs)}
    with (data / "dev_pairs.csv").open(newline="") as handle:
        labelled = list(csv.DictReader(handle))
    pairs = [
        (index[row["id_a"]], index[row["id_b"]])
        for row in labelled
        if row["id_a"] in index and row["id_b"] in index
    ]
    # A row counts as background (copied into synthetic reports) only if reports of two or more
    # different incidents share it. Rows shared only inside one duplicate cluster are the
    # evidence of that duplication: copying them into ~170 synthetic clones per report would turn
    # every true pair into a crowd of exact clones.
    cluster = {i: f"own-{i}" for i in range(len(docs))}
    for row in labelled:
        for key in ("id_a", "id_b"):
            if row[key] in index:
                cluster[index[row[key]]] = row["cluster"]
    # corpus.jsonl holds the source texts of DEV: a corpus text that is a DEV text verbatim
    # belongs to that DEV report's cluster, not to an incident of its own.
    by_text = {docs[i]["text"]: c for i, c in cluster.items() if not c.startswith("own-")}
    for i, doc in enumerate(docs):
        if doc["text"] in by_text:
            cluster[i] = by_text[doc["text"]]
    owners: dict[tuple[int, int], set[str]] = {}
    for i, doc_rows in enumerate(rows):
        for r in set(doc_rows):
            owners.setdefault(r, set()).add(cluster[i])
    shared = {r for r, clusters in owners.items() if len(clusters) >= 2}
    return rows, blobs, shared, pairs


def synthetic(
    n: int,
    templates: list[list[tuple[int, int]]],
    shared: set[tuple[int, int]],
    seed: int,
    planted: tuple[int, ...] = (),
):
    """Yield ``(id, template_index, rows)``: first the ``planted`` real reports unchanged (the
    oldest ids), then ``n`` synthetic reports.

    A synthetic report takes the bands of a random real report; for each band it draws the value
    of that band from another random real report, kept if reports of other incidents share it
    and fresh otherwise. Drawing each band independently keeps every bucket's expected size while
    not making ~n/5,855 exact clones of each real report (which would be a crowd of false
    near-duplicates no real archive holds).
    """
    for fid, t in enumerate(planted, 1):
        yield fid, t, templates[t]
    pool: dict[int, list[int]] = {}
    for doc_rows in templates:
        for band, value in doc_rows:
            pool.setdefault(band, []).append(value)
    rng = random.Random(seed)
    for fid in range(len(planted) + 1, len(planted) + n + 1):
        t = rng.randrange(len(templates))
        out = []
        for band, _value in templates[t]:
            value = rng.choice(pool[band])
            if (band, value) not in shared:
                value = rng.getrandbits(64) - 2**63
            out.append((band, value))
        yield fid, t, out


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


class SqliteStore:
    name = "SQLite"

    def __init__(self, path: Path, keep: bool = False) -> None:
        self.path = path
        self.keep = keep
        self.fresh = not path.exists()
        self.db = sqlite3.connect(path)
        if not self.fresh:
            return
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.execute(
            f"CREATE TABLE {TABLE} (id INTEGER PRIMARY KEY, fingerprint_id INTEGER NOT NULL,"
            " band SMALLINT NOT NULL, band_hash BIGINT NOT NULL)"
        )
        self.db.execute("CREATE TABLE bench_fp (id INTEGER PRIMARY KEY, data BLOB NOT NULL)")

    def load(self, items, blobs: list[bytes]) -> None:
        batch_b, batch_f = [], []
        for fid, t, rows in items:
            batch_f.append((fid, blobs[t]))
            batch_b.extend((fid, b, h) for b, h in rows)
            if len(batch_f) >= 20000:
                self._flush(batch_b, batch_f)
                batch_b, batch_f = [], []
        self._flush(batch_b, batch_f)
        self.db.execute(f"CREATE INDEX bench_band_fp ON {TABLE} (fingerprint_id)")
        self.db.execute(
            f"CREATE INDEX bench_band_lookup ON {TABLE} (band, band_hash, fingerprint_id)"
        )
        self.db.execute("ANALYZE")
        self.db.commit()

    def _flush(self, bands, fps) -> None:
        self.db.executemany(
            f"INSERT INTO {TABLE} (fingerprint_id, band, band_hash) VALUES (?, ?, ?)", bands
        )
        self.db.executemany("INSERT INTO bench_fp (id, data) VALUES (?, ?)", fps)
        self.db.commit()

    def query(self, rows, exclude: int) -> list[tuple[int, int]]:
        sql, params = candidate_sql(rows, exclude, table=TABLE, row_cap=ROW_CAP_USED)
        return self.db.execute(sql.replace("%s", "?"), params).fetchall()

    def blobs(self, ids: list[int]) -> list[bytes]:
        marks = ",".join("?" * len(ids))
        return [
            r[0] for r in self.db.execute(f"SELECT data FROM bench_fp WHERE id IN ({marks})", ids)
        ]

    def size(self) -> dict[str, int]:
        self.db.commit()
        out = {}
        try:
            for name, size in self.db.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name"):
                out[name] = size
        except sqlite3.OperationalError:
            out["file"] = self.path.stat().st_size
        return out

    def close(self) -> None:
        self.db.close()
        if self.keep:
            return
        for suffix in ("", "-wal", "-shm"):
            Path(str(self.path) + suffix).unlink(missing_ok=True)


class PostgresStore:
    name = "PostgreSQL"
    fresh = True

    def __init__(self, url: str) -> None:
        import psycopg

        self.db = psycopg.connect(url, autocommit=True)
        self.schema = f"bench_dedup_{os.getpid()}"
        self.db.execute(f"CREATE SCHEMA {self.schema}")
        self.db.execute(f"SET search_path TO {self.schema}")
        self.db.execute(
            f"CREATE TABLE {TABLE} (id BIGSERIAL PRIMARY KEY, fingerprint_id BIGINT NOT NULL,"
            " band SMALLINT NOT NULL, band_hash BIGINT NOT NULL)"
        )
        self.db.execute("CREATE TABLE bench_fp (id BIGINT PRIMARY KEY, data BYTEA NOT NULL)")

    def load(self, items, blobs: list[bytes]) -> None:
        with self.db.cursor() as cur:
            with cur.copy(f"COPY {TABLE} (fingerprint_id, band, band_hash) FROM STDIN") as copy_b:
                fps = []
                for fid, t, rows in items:
                    for b, h in rows:
                        copy_b.write_row((fid, b, h))
                    fps.append((fid, t))
            with cur.copy("COPY bench_fp (id, data) FROM STDIN") as copy_f:
                for fid, t in fps:
                    copy_f.write_row((fid, blobs[t]))
        self.db.execute("SET maintenance_work_mem = '1GB'")
        self.db.execute(f"CREATE INDEX bench_band_fp ON {TABLE} (fingerprint_id)")
        self.db.execute(
            f"CREATE INDEX bench_band_lookup ON {TABLE} (band, band_hash, fingerprint_id)"
        )
        self.db.execute(f"VACUUM ANALYZE {TABLE}")
        self.db.execute("VACUUM ANALYZE bench_fp")

    def query(self, rows, exclude: int) -> list[tuple[int, int]]:
        sql, params = candidate_sql(rows, exclude, table=TABLE, row_cap=ROW_CAP_USED)
        return self.db.execute(sql, params).fetchall()

    def blobs(self, ids: list[int]) -> list[bytes]:
        return [
            bytes(r[0])
            for r in self.db.execute("SELECT data FROM bench_fp WHERE id = ANY(%s)", [ids])
        ]

    def size(self) -> dict[str, int]:
        out = {}
        for name in (TABLE, "bench_band_lookup", "bench_band_fp", f"{TABLE}_pkey", "bench_fp"):
            out[name] = self.db.execute(
                "SELECT pg_relation_size(%s::regclass)", [f"{self.schema}.{name}"]
            ).fetchone()[0]
        out["bench_fp (toast+index)"] = (
            self.db.execute(
                "SELECT pg_total_relation_size(%s::regclass)", [f"{self.schema}.bench_fp"]
            ).fetchone()[0]
            - out["bench_fp"]
        )
        return out

    def close(self) -> None:
        self.db.execute(f"DROP SCHEMA {self.schema} CASCADE")
        self.db.close()


def run(store, n: int, queries: int, templates, blobs, shared, pairs) -> None:
    # The older report of each DEV pair is stored before the n synthetic ones: the worst case
    # for the newest-first cap. Its partner is then looked up among all stored reports.
    planted = tuple(a for a, _b in pairs)
    t0 = time.perf_counter()
    if store.fresh:
        store.load(synthetic(n, templates, shared, seed=n, planted=planted), blobs)
    load_s = time.perf_counter() - t0
    rng = random.Random(7)
    # Queries: fresh synthetic reports (not stored), made the same way.
    probes = [p for p in synthetic(queries * 2, templates, shared, seed=n + 1) if p[2]][:queries]
    fps = [Fingerprint.from_bytes(b) for b in blobs]
    for _fid, _t, rows in probes[:20]:  # warm the cache as a running server would have it
        store.query(rows, 0)
    q_ms, full_ms, hits_n = [], [], []
    for _fid, t, rows in probes:
        t1 = time.perf_counter()
        hits = store.query(rows, 0)
        t2 = time.perf_counter()
        mine = fps[t]
        for raw in store.blobs([h[0] for h in hits]) if hits else []:
            compare(mine, Fingerprint.from_bytes(raw))
        t3 = time.perf_counter()
        q_ms.append((t2 - t1) * 1000)
        full_ms.append((t3 - t1) * 1000)
        hits_n.append(len(hits))
    found = 0
    for fid, (_a, b) in enumerate(pairs, 1):
        rows = templates[b]
        if rows and any(h[0] == fid for h in store.query(rows, -1)):
            found += 1
    rng.random()
    sizes = store.size()
    total = sum(sizes.values())
    print(
        f"{store.name}, {n:,} fingerprints ({sum(len(t) for t in templates) / len(templates):.1f} band rows each), load {load_s:.0f} s"
    )
    print(
        f"  candidate query: p50 {statistics.median(q_ms):.1f} ms, p99 {pct(q_ms, 0.99):.1f} ms, "
        f"max {max(q_ms):.1f} ms; candidates returned median {statistics.median(hits_n):.0f}"
    )
    print(
        f"  query + load blobs + re-rank (the whole task): p50 {statistics.median(full_ms):.1f} ms, "
        f"p99 {pct(full_ms, 0.99):.1f} ms"
    )
    print(
        f"  blocking recall of the {len(pairs)} DEV pairs planted among them (older report "
        f"stored first): {found / len(pairs):.3f}"
    )
    per_million = {k: v * 1_000_000 / n for k, v in sizes.items()}
    print(f"  storage per million fingerprints: {total * 1_000_000 / n / 2**30:.2f} GiB")
    for name, size in sorted(per_million.items(), key=lambda kv: -kv[1]):
        if size > 2**20:
            print(f"    {name:32s} {size / 2**20:8.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "complaints")
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--postgres", default="", help="also run on this PostgreSQL database")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument(
        "--row-cap", type=int, default=ROW_CAP, help="rows read per probe (default: shipped)"
    )
    parser.add_argument(
        "--keep", type=Path, help="keep the SQLite files in this directory and reuse them"
    )
    args = parser.parse_args()
    global ROW_CAP_USED
    ROW_CAP_USED = args.row_cap
    print(
        f"machine: {machine()}; SQLite {sqlite3.sqlite_version}; rows read per probe <= {args.row_cap:,}"
    )
    t0 = time.perf_counter()
    templates, blobs, shared, pairs = load_templates(args.data)
    print(
        f"templates: {len(templates)} real reports fingerprinted in {time.perf_counter() - t0:.0f} s; "
        f"{len(shared):,} band rows shared by reports of 2 or more incidents"
    )
    for n in args.sizes:
        if not args.no_sqlite:
            if args.keep:
                args.keep.mkdir(parents=True, exist_ok=True)
                store = SqliteStore(args.keep / f"bench-{n}.sqlite3", keep=True)
                try:
                    run(store, n, args.queries, templates, blobs, shared, pairs)
                finally:
                    store.close()
                continue
            with tempfile.TemporaryDirectory(prefix="dedup-bench-") as tmp:
                store = SqliteStore(Path(tmp) / "bench.sqlite3")
                try:
                    run(store, n, args.queries, templates, blobs, shared, pairs)
                finally:
                    store.close()
        if args.postgres:
            pg = PostgresStore(args.postgres)
            try:
                run(pg, n, args.queries, templates, blobs, shared, pairs)
            finally:
                pg.close()


if __name__ == "__main__":
    main()
