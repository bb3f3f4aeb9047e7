import subprocess
import sys


def test_engine_imports_no_qt_and_no_app():
    code = ("import sys, engine.cli, engine.serve.server, engine.decode.session, engine.model.runner, engine.serve.protocol;"
            "import engine.serve.pacing;"
            "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'qasync', 'app', 'shiboken6')];"
            "print(bad); sys.exit(1 if bad else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
