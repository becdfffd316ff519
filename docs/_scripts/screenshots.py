"""Screenshots of built documentation pages, with headless Chromium.

    python docs/_scripts/screenshots.py SITE_DIR OUT_DIR

Run by ``nox -s docs -- screenshots`` after the build. Needs a Chromium
binary (``/usr/bin/chromium``, or ``$CHROMIUM``); the test suite never does.
Look at the pictures: they are how a reader meets the pages.
"""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from check_report import FLAGS as CHROMIUM_FLAGS

PAGES = {
    "guide-drift.png": "guide/drift/index.html",
    "api-drift.png": "api/drift/index.html",
    "notebook-quickstart.png": "notebooks/quickstart/index.html",
}
# The launch flags this machine's closed network needs, shared with the
# report check (run as a script, this folder is on sys.path).
FLAGS = [*CHROMIUM_FLAGS, "--hide-scrollbars", "--window-size=1280,2000"]


def main(site, out):
    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for name, page in PAGES.items():
        url = (Path(site) / page).resolve().as_uri()
        with tempfile.TemporaryDirectory() as profile:
            subprocess.run(
                [chromium, *FLAGS, f"--user-data-dir={profile}", f"--screenshot={out / name}", url],
                check=True,
                capture_output=True,
                timeout=120,
            )
        print(f"{out / name}: {page}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
