#!/usr/bin/env python3
"""Plots lode-cachesim's CSV (trace,policy,cache_percent,hit_ratio) as grouped bars."""
import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

rows = list(csv.DictReader(open(sys.argv[1])))
out = sys.argv[2]
traces = sorted({r["trace"] for r in rows}, key=len)
policies = sorted({r["policy"] for r in rows})
sizes = sorted({int(r["cache_percent"]) for r in rows})
fig, axes = plt.subplots(1, len(traces), figsize=(5 * len(traces), 4), sharey=True)
width = 0.8 / len(policies)
for ax, trace in zip(axes, traces):
    for j, policy in enumerate(policies):
        values = [next(float(r["hit_ratio"]) for r in rows
                       if r["trace"] == trace and r["policy"] == policy and int(r["cache_percent"]) == s)
                  for s in sizes]
        xs = [i + j * width for i in range(len(sizes))]
        bars = ax.bar(xs, values, width, label=policy)
        ax.bar_label(bars, fmt="%.2f", fontsize=8)
    ax.set_xticks([i + width * (len(policies) - 1) / 2 for i in range(len(sizes))])
    ax.set_xticklabels([f"{s}% of keys" for s in sizes])
    ax.set_title(trace)
    ax.set_ylim(0, 1)
axes[0].set_ylabel("hit ratio")
axes[0].legend()
fig.suptitle("Lode hot cache: hit ratio by eviction policy (Zipf 0.99)")
fig.tight_layout()
fig.savefig(out, dpi=100)
print(f"wrote {out}")
