"""Every malformed file of the shared corpus through ``carecal import``: a result or one line."""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import Run


def test_malformed_corpus_never_gives_a_traceback(run: Run, ics_corpus: Path) -> None:
    files = sorted((ics_corpus / "malformed").glob("*.ics"))
    assert files
    for path in files:
        result = run("import", str(path))
        assert "Traceback" not in result.out + result.err, path.name
        assert "internal error" not in result.err, (path.name, result.err)
        if result.code == 0:
            assert f"{path.name}: " in result.out
        else:
            assert result.code == 1, (path.name, result.err)
            errors = [line for line in result.err.splitlines() if "warning" not in line]
            assert len(errors) == 1 and path.name in errors[0], (path.name, result.err)
