"""Shared set-up of the benchmark suites.

Each benchmark may tag itself ``benchmark.extra_info["role"] = "mlpipe"`` or
``"peer"``; at the end of the run a table gives, per group, every benchmark's
median, mean (the amortized cost, for steps that work once per window) and
99th percentile, and its median's ratio to mlpipe's (peer median / mlpipe median: above 1 means
mlpipe is faster), so a speed claim always comes with the peer it beat in
the same run.
"""

import os

os.environ.setdefault("TPOT_SKIP_UPDATE_CHECK", "1")


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    session = getattr(config, "_benchmarksession", None)
    if session is None or not session.benchmarks:
        return
    groups = {}
    for bench in session.benchmarks:
        if bench.stats is None or not bench.stats.rounds:  # skipped or failed
            continue
        groups.setdefault(bench.group or "(no group)", []).append(bench)
    terminalreporter.section("mlpipe: medians and ratios (peer / mlpipe)")
    for group, benches in groups.items():
        ours = [b for b in benches if b.extra_info.get("role") == "mlpipe"]
        base = ours[0].stats.median if ours else None
        terminalreporter.write_line(f"{group}")
        for b in benches:
            role = b.extra_info.get("role", "")
            ratio = f"{b.stats.median / base:8.2f}x" if base else ""
            data = sorted(b.stats.data)
            p99 = data[min(len(data) - 1, int(0.99 * len(data)))] * 1e3
            terminalreporter.write_line(
                f"    {b.name:<60} {role:<7} median {b.stats.median * 1e3:10.3f} ms"
                f"  mean {b.stats.mean * 1e3:10.3f} ms  p99 {p99:10.3f} ms {ratio}"
            )
            for key, value in b.extra_info.items():
                if key != "role":
                    terminalreporter.write_line(f"        {key}: {value}")
