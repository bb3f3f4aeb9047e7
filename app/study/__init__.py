"""Studies with speed as the independent variable.

Qt-free core: `studyfile` (the TOML format), `schedule` (counterbalancing), `eventlog` (the one-clock
JSONL log), `survival` (does accepted code stay), `export` (CSV and plots). Qt widgets and the
session runner live in `app.study.qt`.
"""
