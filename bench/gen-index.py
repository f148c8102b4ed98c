#!/usr/bin/env python3
# A Bitnami-style repository index of about SIZE megabytes (fractions allowed), laid out as
# `helm repo index` writes it: chart-NNNN charts of 120 versions each, and one real chart
# (bench-chart 7.3.1, archive digest DIGEST) at the end. Used by bench/index and by
# repo/tests/index_reader.rs (fast index reader vs the generic one).
#
# usage: bench/gen-index.py OUT SIZE DIGEST
import sys, random, hashlib
out, size, real = sys.argv[1], int(float(sys.argv[2]) * 1024 * 1024), sys.argv[3]
random.seed(7)
lines = ["apiVersion: v1", "entries:"]
total, c = 0, 0
def entry(name, ver, digest, url):
    e = [
        f"  - annotations:",
        f"      category: Infrastructure",
        f"      licenses: Apache-2.0",
        f"    apiVersion: v2",
        f"    appVersion: {ver}",
        f"    created: \"2023-0{random.randint(1,9)}-1{random.randint(0,9)}T10:11:12.{random.randint(100000,999999)}Z\"",
        f"    dependencies:",
        f"    - name: common",
        f"      repository: oci://registry-1.docker.io/bitnamicharts",
        f"      tags:",
        f"      - bitnami-common",
        f"      version: 2.x.x",
        f"    description: {name} is a chart generated for the index benchmark; it carries a description as long as real ones do.",
        f"    digest: {digest}",
        f"    home: https://bitnami.com",
        f"    icon: https://bitnami.com/assets/stacks/{name}/img/{name}-stack-220x234.png",
        f"    keywords:",
        f"    - {name}",
        f"    - benchmark",
        f"    maintainers:",
        f"    - name: VMware, Inc.",
        f"      url: https://github.com/bitnami/charts",
        f"    name: {name}",
        f"    sources:",
        f"    - https://github.com/bitnami/charts/tree/main/bitnami/{name}",
        f"    urls:",
        f"    - {url}",
        f"    version: {ver}",
    ]
    return e
while total < size:
    name = f"chart-{c:04d}"
    lines.append(f"  {name}:")
    total += len(name) + 4
    for i in range(120):
        ver = f"{i // 20}.{i % 20}.{random.randint(0, 9)}"
        d = hashlib.sha256(f"{name}{ver}".encode()).hexdigest()
        e = entry(name, ver, d, f"https://charts.example.com/{name}-{ver}.tgz")
        lines += e
        total += sum(len(l) + 1 for l in e)
    c += 1
lines.append("  bench-chart:")
lines += entry("bench-chart", "7.3.1", real, "bench-chart-7.3.1.tgz")
lines.append("generated: \"2024-01-01T00:00:00Z\"")
open(out, "w").write("\n".join(lines) + "\n")
