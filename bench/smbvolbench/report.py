"""The report: JSON (every figure's statistics and samples, the machine, the targets) and Markdown
(one table of every row, one of every target; with a baseline binary, its columns and the ratio)."""

import os
import platform
import subprocess

from .harness import baseline_view


def machine():
    cpu = "unknown"
    with open("/proc/cpuinfo") as handle:
        for line in handle:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory_kb = 0
    with open("/proc/meminfo") as handle:
        for line in handle:
            if line.startswith("MemTotal:"):
                memory_kb = int(line.split()[1])
    return {"cores": os.cpu_count(), "cpu": cpu, "memory_gib": round(memory_kb / 1024 / 1024, 1),
            "kernel": platform.release(), "python": platform.python_version()}


def _first_line(argv):
    try:
        out = subprocess.run(["timeout", "--kill-after=5s", "60s", *argv], capture_output=True, text=True)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, IndexError):
        return "unknown"


def evaluate_targets(figures, results, alone):
    """Every target of every figure that ran: value and met, for the candidate and (when measured)
    the baseline binary."""
    evaluated = []
    for figure in figures:
        if figure.key not in results:
            continue
        result = results[figure.key]
        has_baseline = any(isinstance(v, dict) and "baseline" in v for v in result.values())
        for target in figure.targets:
            if target.alone_only and not alone:
                continue
            answer = target.check(result)
            if answer is None:
                continue
            entry = {"figure": figure.id, "target": target.text, "value": answer[0], "met": answer[1]}
            if has_baseline:
                base = target.check(baseline_view(result))
                if base is not None:
                    entry["baseline_value"], entry["baseline_met"] = base
            evaluated.append(entry)
    return evaluated


def build(session, figures, results, skipped, started, finished, command):
    args = session.args
    report = {
        "started": started.isoformat(timespec="seconds"),
        "finished": finished.isoformat(timespec="seconds"),
        "machine": machine(),
        "swift": _first_line(["swift", "--version"]),
        "qq_version": _first_line([session.qq, "--version"]),
        "runs": args.runs,
        "warmup": args.warmup,
        "command": command,
        "smbvol": session.candidate.source,
        "baseline_smbvol": session.baseline.source if session.baseline else None,
        "qumulo_sim": session.qumulo_sim,
        "rss_floor_mb": round(session.runner.floor_rss_kb / 1024.0, 1),
        "figures": [figure.id for figure in figures if figure.key in results],
        "skipped": [figure.id for figure in skipped],
        "results": results,
        "failures": session.failures,
    }
    report["targets"] = evaluate_targets(figures, results, alone=len(figures) == 1)
    return report


def _ms(value):
    return f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.1f} ms"


def _count(entry, name):
    if name not in entry:
        return ""
    q = entry[name]
    return str(q["min"]) if q["min"] == q["max"] else f"{q['min']}–{q['max']}"


def _rss(entry):
    return f"{entry['peak_rss_mb']['max']:.1f} MB" if "peak_rss_mb" in entry else ""


def _cpu(entry):
    return f"{entry['cpu_ms']['median']:.1f} ms" if "cpu_ms" in entry else ""


def markdown(report, figures):
    m = report["machine"]
    with_baseline = report["baseline_smbvol"] is not None
    lines = [f"Run {report['finished'][:16].replace('T', ' ')} UTC on {m['cores']} cores ({m['cpu']}), "
             f"{m['memory_gib']} GiB memory, Linux {m['kernel']}; {report['swift']}; {report['qq_version']}. "
             f"{report['runs']} runs per command after {report['warmup']} warm-up runs, alternated. "
             f"Command: `{report['command']}`.", "",
             f"Peak RSS is each command's own (`wait4`; started by a small runner process whose own memory, "
             f"{report['rss_floor_mb']:.1f} MB — what `/bin/true` reports — is the floor of that column). "
             "CPU is user + sys of the command and the children it waited for."]
    if with_baseline:
        lines.append(f"Every smbvol row ran with both binaries, alternated: `{report['smbvol']}` (this build) and "
                     f"`{report['baseline_smbvol']}` (baseline); peers ran once.")
    if report["skipped"]:
        lines.append(f"Skipped (no simulator for them with --quick): figure {', '.join(report['skipped'])}.")
    lines.append("")
    header = "| # | figure | median | p95 | min–max | ratio | HTTP requests | peak RSS | CPU median |"
    rule = "|---|---|---:|---:|---:|---:|---:|---:|---:|"
    if with_baseline:
        header += " baseline median | this / baseline | baseline HTTP requests | baseline peak RSS |"
        rule += "---:|---:|---:|---:|"
    lines += [header, rule]
    for figure in figures:
        result = report["results"].get(figure.key)
        if result is None:
            continue
        for row in figure.rows(result):
            entry = result[row.key]
            s = entry["ms"]
            line = (f"| {row.number} | {entry['label']} | {_ms(s['median'])} | {_ms(s['p95'])} | {_ms(s['min'])}–{_ms(s['max'])} "
                    f"| {row.ratio} | {_count(entry, 'requests')} | {_rss(entry)} | {_cpu(entry)} |")
            if with_baseline:
                base = entry.get("baseline")
                if base:
                    line += (f" {_ms(base['ms']['median'])} | {s['median'] / base['ms']['median']:.2f}× "
                             f"| {_count(base, 'requests')} | {_rss(base)} |")
                else:
                    line += " | | | |"
            lines.append(line)
    lines.append("")
    if with_baseline:
        lines += ["| target | this run | met | baseline | met |", "|---|---|---|---|---|"]
    else:
        lines += ["| target | this run | met |", "|---|---|---|"]
    for t in report["targets"]:
        line = f"| {t['target']} | {t['value']} | {'yes' if t['met'] else '**no**'} |"
        if with_baseline:
            line += (f" {t['baseline_value']} | {'yes' if t['baseline_met'] else '**no**'} |" if "baseline_value" in t
                     else " | |")
        lines.append(line)
    if report["failures"]:
        lines += ["", f"Failed runs ({len(report['failures'])}), first ones:"]
        lines += [f"- `{failure}`" for failure in report["failures"][:5]]
    return "\n".join(lines) + "\n"
