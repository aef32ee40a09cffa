"""Write one split of the functional suite as a labelled CSV for `flashpoint train speech`.

Why: to measure what the model cascade adds, train on the dev templates and evaluate on the
held-out ones, which neither the lexicons nor the model have seen:

    python scripts/suite_to_csv.py --split dev > dev.csv
    flashpoint train speech --data dev.csv --out /tmp/suite-model
    flashpoint eval speech --split heldout --model /tmp/suite-model

The suite is synthetic (templates over groups and places): a model trained on it shows what the
cascade can do; it is not a model to deploy. Train on your own labelled messages for that.
"""

from __future__ import annotations

import argparse
import csv
import sys

from flashpoint.speech.suite import load_suite


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--split", choices=["dev", "heldout", "all"], default="dev")
    args = parser.parse_args()
    writer = csv.writer(sys.stdout)
    writer.writerow(["text", "label", "target"])
    for case in load_suite().cases:
        if args.split in ("all", case.split):
            writer.writerow([case.text, case.label, case.target or ""])


if __name__ == "__main__":
    main()
