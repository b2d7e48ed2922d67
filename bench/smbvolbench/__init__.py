"""smbvol's benchmarks: smbvol against its peers, side by side in one run (docs/benchmarks.md).

harness     running a command (wall, CPU, its own peak RSS) and round-robin groups
simulator   qumulo-sim: TLS material, scenarios, start/stop, admin API, smbvol configurations
workspace   the scratch tree: stand-in mount program, shares, secrets, domain XML, journal listener
figures/    one module per figure: id, title, what it runs, its rows and targets
session     one run: binaries, simulators, the figures in declared order
report      Markdown and JSON
"""
