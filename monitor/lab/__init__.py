"""The lab: tools that drive the core on generated or replayed data, apart from the core itself.

- :mod:`monitor.lab.demo` and :mod:`monitor.lab.demodata`: ``monitor demo``'s workspace and history;
- :mod:`monitor.lab.backtest`: replay a timestamped mention file as if live;
- :mod:`monitor.lab.bench`: ``monitor bench``'s figures;
- :mod:`monitor.lab.commands`: their CLI commands.
"""
