"""The README's commands are the ones CI runs.

The README gives two commands, the example job and the test command; the
example's script exists, and CI runs the test command verbatim.
"""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _readme_commands():
    readme = (ROOT / "README.md").read_text()
    return re.findall(r"```bash\n(.*?)\n```", readme, flags=re.S)


def test_readme_gives_two_commands():
    commands = _readme_commands()
    assert len(commands) >= 2
    assert "examples/plot_mnist.py" in commands[0]
    assert "pytest" in commands[1]


def test_ci_runs_the_readme_test_command_verbatim():
    test_command = _readme_commands()[1]
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test_command in ci_lines


def test_main_job_script_exists():
    script = _readme_commands()[0].split()[-1]
    assert (ROOT / script).is_file()
